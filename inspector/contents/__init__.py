"""What an image's layers hold: each layer's files as its tar lists them, the tree they merge
into, and where the image wastes space.

model.py holds the records every part shares (a layer's entries); the other modules read a
layer's tar into them, merge the layers as a container's root filesystem merges them, and
measure waste as dive does. Nothing here reads a source: the sources hand in each layer's
decompressed tar, in order.
"""
