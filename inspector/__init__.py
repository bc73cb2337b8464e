"""imginspect: inspect container images through the Docker (or Podman) daemon."""

__version__ = "0.1.0"

# How long a request to the daemon may take: --timeout's default and its bound. Here, beside
# the version, so that --help can show them without loading the daemon's modules.
DEFAULT_TIMEOUT = 30.0
# Beyond an hour it is a typo, and sockets cannot wait for ever.
MAX_TIMEOUT = 3600.0
