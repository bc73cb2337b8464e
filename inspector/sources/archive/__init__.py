"""Images in files: `docker save` and `podman save` archives, OCI layouts and archives."""
