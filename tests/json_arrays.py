"""Whole arrays as the command writes them, element by element (cli/forms.py), for expectations."""

from collections.abc import Sequence

from inspector.render.json import compact_element, compact_end, indented_element, indented_end


def indented_array(documents: Sequence[bytes]) -> bytes:
    """What `docker image inspect` prints: the answers as one array, indented by 4 spaces."""
    parts = [indented_element(doc, first=not number) for number, doc in enumerate(documents)]
    return b"".join(parts) + indented_end(empty=not documents)


def compact_array(documents: Sequence[bytes]) -> bytes:
    """What `docker image inspect -f json` prints: the answers as one compact array."""
    parts = [compact_element(doc, first=not number) for number, doc in enumerate(documents)]
    return b"".join(parts) + compact_end(empty=not documents)
