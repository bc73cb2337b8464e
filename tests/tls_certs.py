"""TLS certificates for tests, made with the openssl command line as a docker admin makes them.

A `CertSet` directory is laid out the way docker reads DOCKER_CERT_PATH (`ca.pem`, `cert.pem`,
`key.pem`) and also holds the CA's key and the daemon's certificate and key, so tests can issue
more certificates (expired, from another CA) when they need them.
"""

import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

OPENSSL_TIMEOUT = 60.0
# Certificates for 127.0.0.1 and localhost: where the test daemons listen.
# ::1 too: a registry reached there is one docker verifies (127.0.0.0/8 and localhost it does not).
SERVER_NAMES = "IP:127.0.0.1,IP:::1,DNS:localhost"


def openssl_path() -> str | None:
    return shutil.which("openssl")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["openssl", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=OPENSSL_TIMEOUT,
        check=True,
    )


@dataclass(frozen=True)
class KeyPair:
    cert: Path
    key: Path


@dataclass(frozen=True)
class CertSet:
    """A CA, a daemon certificate it signed, and a client certificate it signed."""

    directory: Path
    ca: KeyPair
    server: KeyPair
    client: KeyPair

    def issue(
        self, name: str, *, client: bool = True, days: int = 30, names: str = SERVER_NAMES
    ) -> KeyPair:
        """Another certificate from this CA: `days=-1` gives one that has already expired."""
        return issue(self.ca, self.directory, name, client=client, days=days, names=names)


def make_ca(directory: Path, name: str, *, days: int = 30) -> KeyPair:
    directory.mkdir(parents=True, exist_ok=True)
    pair = KeyPair(directory / f"{name}.pem", directory / f"{name}-key.pem")
    _openssl(
        "req", "-x509", "-new", "-nodes",
        "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-keyout", str(pair.key), "-out", str(pair.cert),
        "-days", str(days), "-subj", f"/CN=imginspect test {name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip
    return pair


def issue(
    ca: KeyPair, directory: Path, name: str, *, client: bool, days: int, names: str
) -> KeyPair:
    """A certificate signed by ca; `days` may be negative (already expired)."""
    pair = KeyPair(directory / f"{name}.pem", directory / f"{name}-key.pem")
    csr = directory / f"{name}.csr"
    extensions = directory / f"{name}.ext"
    usage = "clientAuth" if client else "serverAuth"
    lines = [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature",
        f"extendedKeyUsage={usage}",
        "subjectKeyIdentifier=hash",
        "authorityKeyIdentifier=keyid",
    ]
    if not client:
        lines.append(f"subjectAltName={names}")
    extensions.write_text("\n".join(lines) + "\n")
    _openssl(
        "req", "-new", "-nodes",
        "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-keyout", str(pair.key), "-out", str(csr), "-subj", f"/CN=imginspect test {name}",
        cwd=directory,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", str(csr),
        "-CA", str(ca.cert), "-CAkey", str(ca.key),
        "-set_serial", str(secrets.randbits(63)),
        "-days", str(days), "-extfile", str(extensions), "-out", str(pair.cert),
        cwd=directory,
    )  # fmt: skip
    csr.unlink()
    extensions.unlink()
    return pair


def make_cert_set(directory: Path) -> CertSet:
    """ca.pem, cert.pem and key.pem for a client (as DOCKER_CERT_PATH), plus the daemon's."""
    ca = make_ca(directory, "ca")
    server = issue(ca, directory, "server", client=False, days=30, names=SERVER_NAMES)
    client = issue(ca, directory, "cert", client=True, days=30, names="")
    # docker's file names: `cert.pem` and `key.pem` (issue() named the key cert-key.pem).
    client = KeyPair(client.cert, client.key.rename(directory / "key.pem"))
    return CertSet(directory, ca, server, client)
