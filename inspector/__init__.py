"""imginspect: inspect container images through the Docker (or Podman) daemon."""

__version__ = "0.1.0"
