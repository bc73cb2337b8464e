"""Archives and layouts as sources: every layout and compression, choosing an image, every
broken archive refused in one line, no extraction, and memory that does not grow with layers.

The archives are built here (tests/archive_builder.py); tests/test_archive_daemons.py reads the
ones docker and podman save.

- test_layouts.py: every layout reads the same; the sample archive
- test_choosing.py: which file an argument names, and which image in it
- test_broken.py: broken archives, refused in one line
- test_memory.py: a 200 MB layer is streamed
"""
