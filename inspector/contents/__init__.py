"""What an image's layers hold: each layer's files as its tar lists them, the tree they merge
into, and where the image wastes space.

model.py holds the records every part shares (a layer's entries); tarstream.py reads a
layer's decompressed tar into them as it streams past, with tarformat.py's headers and chunks
(tarmembers.py walks the archive around the layers with the same); analysis.py merges the
layers as a container's root filesystem merges them, and measures waste through efficiency.py, which
builds dive's own trees (and sorts as dive's Go does, gosort.py); listing.py prints entries
as `tar -tv` does. Nothing here reads a source: the sources hand in each layer's decompressed
tar, in order.
"""
