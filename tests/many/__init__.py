"""Many images: requests sent ahead on one connection, output streamed image by image
and never left broken (Ctrl-C, a daemon that closes or breaks off), --all and its filters, the
progress line, and memory that does not grow with the number of images.

- test_one_connection.py: requests ahead of the answers, and a daemon that closes mid-run
- test_all.py: --all and --filter, against a fake daemon and against docker
- test_long_runs.py: Ctrl-C mid-run, the progress line, memory
"""
