"""Images a Docker or Podman daemon has, asked over its API.

Light on purpose: the command names the daemon's flags without loading the client, and a TAB
on an image name loads this package.
"""

from typing import NamedTuple

from inspector import DEFAULT_TIMEOUT


class DaemonFlags(NamedTuple):
    """What the command line says about the daemon."""

    host: str | None = None
    context: str | None = None
    tls: bool = False
    tlsverify: bool = False
    tlscacert: str | None = None
    tlscert: str | None = None
    tlskey: str | None = None
    timeout: float = DEFAULT_TIMEOUT
