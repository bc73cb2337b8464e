"""What an image's layers hold: the tar reader, the merge, dive's waste and `tar -tv` lines.

The layers are tars built in memory with tarfile (layers.py), except dive's own test image
(tests/data/dive/), whose numbers and file lists are dive's.

- test_tarstream.py: every header format read, every hostile layer refused, quickly
- test_merge.py: whiteouts, opaque directories, type changes, links; the listing
- test_dive.py: dive's numbers and file lists for its test image, and its waste rules
- test_listing.py: `tar -tv` lines, against GNU tar's own
- test_memory.py: what an entry costs
"""
