"""What a modern docker daemon (28.x, classic image store) answers about an image (at API 1.41
and older, what docker 20.10 answers), built from the image's config alone, for every source
that has no daemon to ask (archives, registries): `answers` (the inspect object and the
history), `manifests` (the `Manifests` list of an index), `goconfig` (the config read as the
daemon reads it) and `gojson` (JSON written as Go writes it). Standard library only, and pure."""
