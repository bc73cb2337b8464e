"""Images in a registry, read over the Registry HTTP API v2 (the OCI distribution spec).

Light on purpose, as the daemon's package is: the command names the registry's flags without
loading the client; nothing here is imported for a run that names no `docker://` image.
"""

from typing import NamedTuple

from inspector import DEFAULT_TIMEOUT


class RegistryFlags(NamedTuple):
    """What the command line says about registries."""

    # HOST[:PORT] of registries to reach over plain HTTP, or HTTPS without verification.
    insecure: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
