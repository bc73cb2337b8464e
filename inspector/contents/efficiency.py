"""dive's efficiency score and wasted bytes, computed as dive computes them.

dive builds a tree of each layer from its tar, visits the leaves of each tree (the nodes with
no children: files, links, empty directories, whiteouts) child-first and by name, and counts
each path's versions: its cumulative size over the layers, and its smallest. A whiteout leaf
weighs what it removes when that was a directory (the sizes of the directory and all under
it, in dive's stack of the layers below), and nothing otherwise. Its stack is its own: a
layer's nodes grafted onto the layers below by name, whiteouts removing, opaque markers
ignored, and a directory a layer only implies taking an empty record (size 0, not a
directory) over the one below. Matching the numbers dive prints means building the same
trees, so this module does, over the entries the tar reader gives.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from inspector.contents.gosort import go_sort
from inspector.contents.model import DIRECTORY, OPAQUE, WHITEOUT, LayerContents

_WHITEOUT_PREFIX = ".wh."
_META_PREFIX = ".wh..wh.."


@dataclass(frozen=True, slots=True)
class Inefficient:
    path: str  # absolute, as dive writes it
    count: int
    size: int  # the cumulative size of its versions


class _Node:
    """A node of one of dive's trees: a tar entry's size and whether it is a directory, or
    the empty record of a directory only implied by what is under it."""

    __slots__ = ("children", "is_dir", "size")

    def __init__(self, size: int = 0, is_dir: bool = False) -> None:
        self.children: dict[str, _Node] = {}
        self.size = size
        self.is_dir = is_dir

    def copy(self) -> "_Node":
        top = _Node(self.size, self.is_dir)
        pending = [(self, top)]
        while pending:
            source, target = pending.pop()
            for name, child in source.children.items():
                made = _Node(child.size, child.is_dir)
                target.children[name] = made
                pending.append((child, made))
        return top


@dataclass(slots=True)
class _Versions:
    path: str
    count: int = 0
    size: int = 0
    smallest: int = -1


def score(layers: Sequence[LayerContents]) -> tuple[float, list[Inefficient]]:
    """dive's efficiency score, and the paths it finds in more than one layer, in the order
    its export lists them."""
    versions: dict[str, _Versions] = {}
    inefficient: list[_Versions] = []
    stack: _Node | None = None
    below: _Node | None = None
    for index, layer in enumerate(layers):
        tree = _layer_tree(layer)
        if index == 0:
            # dive stacks a range of layers onto a copy of the first: for the first layer's
            # own whiteouts that copy is all there is below.
            stack = tree.copy()
        else:
            # Then the first again, and each layer below this one.
            assert stack is not None and below is not None
            _graft(stack, below)
        assert stack is not None
        for path, name, node in _leaves(tree):
            if name.startswith(_WHITEOUT_PREFIX):
                removed = _find(stack, path)
                if removed is None:
                    # dive's visit stops at an error: the rest of this layer goes uncounted.
                    break
                size = _subtree_size(removed) if removed.is_dir else 0
            else:
                size = node.size
            found = versions.get(path)
            if found is None:
                versions[path] = _Versions(path, 1, size, size)
                continue
            found.size += size
            if size < found.smallest:
                found.smallest = size
            found.count += 1
            if found.count == 2:
                inefficient.append(found)
        below = tree
    smallest = sum(found.smallest for found in versions.values())
    total = sum(found.size for found in versions.values())
    efficiency = smallest / total if total else 1.0
    # dive sorts its list by cumulative size, smallest first, with Go's sort.Sort (not
    # stable: ties land where its steps leave them), and its export reads it from the end.
    go_sort(inefficient, _smaller)
    return efficiency, [
        Inefficient(found.path, found.count, found.size) for found in reversed(inefficient)
    ]


def _smaller(one: _Versions, other: _Versions) -> bool:
    return one.size < other.size


def _layer_tree(layer: LayerContents) -> _Node:
    """dive's tree of one layer: every entry added by its path, in the tar's order."""
    root = _Node()
    add = _Adder(root).add
    for entry in layer.entries:
        kind = entry.kind
        if kind == OPAQUE:
            add(f"{entry.path}/{_META_PREFIX}opq", 0, False, False)
        elif kind == WHITEOUT:
            parent, _, name = entry.path.rpartition("/")
            marker = f"{parent}/{_WHITEOUT_PREFIX}{name}" if parent else _WHITEOUT_PREFIX + name
            add(marker, entry.size, False, True)
        else:
            add(entry.path, entry.size, kind == DIRECTORY, True)
    return root


class _Adder:
    """_add for many paths into one tree, each path's parent found once: a layer's entries
    come directory by directory, so most share the parent of the one before. The parents
    found are valid while no node leaves the tree (forget says when one does)."""

    __slots__ = ("_parents", "_root")

    def __init__(self, root: _Node) -> None:
        self._root = root
        self._parents: dict[str, _Node | None] = {}

    def forget(self) -> None:
        self._parents.clear()

    def add(self, path: str, size: int, is_dir: bool, record: bool) -> None:
        """_add(root, path, _Node(size, is_dir) if record else None)."""
        parent_path, _, name = path.rpartition("/")
        if not name:
            _add(self._root, path, _Node(size, is_dir) if record else None)
            return
        parents = self._parents
        if parent_path in parents:
            parent = parents[parent_path]
        else:
            parent = parents[parent_path] = _make(self._root, parent_path)
        if parent is None:
            return  # a name of aufs's own on the way: nothing is added
        node = parent.children.get(name)
        if node is None:
            if name.startswith(_META_PREFIX):
                return
            node = parent.children[name] = _Node()
        if record:
            node.size, node.is_dir = size, is_dir


def _make(root: _Node, path: str) -> _Node | None:
    """The node at path, made as _add makes the directories on its way; None where a name
    of aufs's own is missing on the way (_add adds nothing then)."""
    node = root
    for name in path.split("/"):
        if not name:
            continue
        child = node.children.get(name)
        if child is None:
            if name.startswith(_META_PREFIX):
                return None
            child = node.children[name] = _Node()
        node = child
    return node


def _add(root: _Node, path: str, record: _Node | None) -> None:
    """dive's AddPath: the missing directories on the way made with empty records, a name of
    aufs's own never added, and the record put on the last node, keeping its children."""
    node = root
    for name in path.split("/"):
        if not name:
            continue
        child = node.children.get(name)
        if child is None:
            if name.startswith(_META_PREFIX):
                return
            child = node.children[name] = _Node()
        node = child
    if record is not None:
        node.size, node.is_dir = record.size, record.is_dir


def _visit(root: _Node) -> Iterator[tuple[str, str, _Node]]:
    """Every node but the root, children first and by name, as dive's VisitDepthChildFirst:
    (its path as dive's Path() gives it, its name, the node)."""
    pending: list[tuple[_Node, str, str, Iterator[tuple[str, _Node]]]] = [
        (root, "", "", iter(sorted(root.children.items())))
    ]
    while pending:
        node, raw, name, children = pending[-1]
        # Names are unique among a node's children: the sort never compares two nodes.
        for child_name, child in children:
            if child.children:
                pending.append(
                    (child, f"{raw}/{child_name}", child_name, iter(sorted(child.children.items())))
                )
                break
            yield _dive_path(raw, child_name), child_name, child
        else:
            pending.pop()
            if pending:
                yield _dive_path(raw.rpartition("/")[0], name), name, node


def _dive_path(parent: str, name: str) -> str:
    """A node's path: its parents' names as they are, its own without a whiteout's prefix."""
    return f"{parent}/{name.removeprefix(_WHITEOUT_PREFIX)}"


def _leaves(root: _Node) -> Iterator[tuple[str, str, _Node]]:
    """The nodes without children among _visit's, in its order."""
    pending: list[tuple[str, Iterator[tuple[str, _Node]]]] = [
        ("", iter(sorted(root.children.items())))
    ]
    prefix = _WHITEOUT_PREFIX
    while pending:
        raw, children = pending[-1]
        for name, child in children:
            if child.children:
                pending.append((f"{raw}/{name}", iter(sorted(child.children.items()))))
                break
            yield f"{raw}/{name.removeprefix(prefix)}", name, child
        else:
            pending.pop()


def _find(root: _Node, path: str) -> _Node | None:
    node = root
    for name in path.split("/"):
        if not name:
            continue
        child = node.children.get(name)
        if child is None:
            return None
        node = child
    return node


def _subtree_size(top: _Node) -> int:
    total = 0
    pending = [top]
    while pending:
        node = pending.pop()
        total += node.size
        pending.extend(node.children.values())
    return total


def _graft(stack: _Node, upper: _Node) -> None:
    """dive's Stack: each node of the upper tree, children first, removes its path when it
    is a whiteout and is added by its path otherwise (an implied directory's empty record
    too)."""
    adder = _Adder(stack)
    add = adder.add
    for path, name, node in _visit(upper):
        if name.startswith(_WHITEOUT_PREFIX):
            parent_path, _, last = path.rpartition("/")
            parent = _find(stack, parent_path)
            if parent is not None and parent.children.pop(last, None) is not None:
                adder.forget()  # the parents found under it are no longer in the tree
        else:
            add(path, node.size, node.is_dir, True)
