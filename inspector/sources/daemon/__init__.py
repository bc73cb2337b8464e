"""Images a Docker or Podman daemon has, asked over its API."""
