"""docker's client configuration written by hand, file for file as docker CLI 28 writes it."""

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path


def context_dir_name(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def write_context(
    config_dir: Path,
    name: str,
    host: str,
    *,
    skip_tls_verify: bool = False,
    tls: Mapping[str, bytes] | None = None,
) -> Path:
    """A context as `docker context create NAME --docker host=HOST,...` leaves it."""
    meta_dir = config_dir / "contexts" / "meta" / context_dir_name(name)
    meta_dir.mkdir(parents=True, exist_ok=True)
    meta = {
        "Name": name,
        "Metadata": {},
        "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip_tls_verify}},
    }
    meta_path = meta_dir / "meta.json"
    meta_path.write_text(json.dumps(meta, separators=(",", ":")))
    if tls:
        tls_dir = config_dir / "contexts" / "tls" / context_dir_name(name) / "docker"
        tls_dir.mkdir(parents=True, exist_ok=True)
        for file_name, data in tls.items():
            (tls_dir / file_name).write_bytes(data)
    return meta_path


def use_context(config_dir: Path, name: str | None) -> None:
    """What `docker context use NAME` writes to config.json (None: no currentContext)."""
    config_dir.mkdir(parents=True, exist_ok=True)
    config: dict[str, object] = {"auths": {}}
    if name is not None:
        config["currentContext"] = name
    (config_dir / "config.json").write_text(json.dumps(config, indent="\t"))
