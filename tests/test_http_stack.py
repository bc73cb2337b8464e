"""requests and urllib3 are used through their public API only: an upgrade of either cannot
break the daemon client without an error its own changelog announces.

Read from the source (the AST of every module under inspector/): no private name of requests,
urllib3 or requests-unixsocket is imported or reached through an attribute; no class derived
from one of theirs defines or touches a private name (that would override a private hook or
read private state); and nothing names the pool internals a connection could be taken out of
a pool with.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "inspector"
MODULES = sorted(PACKAGE.rglob("*.py"))
THIRD_PARTY = {"requests", "urllib3", "requests_unixsocket"}
# urllib3's own ways to take a connection out of a pool, put it back, or make one.
POOL_INTERNALS = {"_get_conn", "_put_conn", "_new_conn"}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _id(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _third_party_names(tree: ast.Module) -> set[str]:
    """The names a module binds to requests, urllib3 and the like, or to what they define."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in THIRD_PARTY:
                    names.add((alias.asname or alias.name).split(".")[0])
        elif (
            isinstance(node, ast.ImportFrom)
            and not node.level
            and (node.module or "").split(".")[0] in THIRD_PARTY
        ):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _root(node: ast.expr) -> tuple[str | None, list[str]]:
    """The name an attribute chain starts from, and the attributes after it."""
    attributes: list[str] = []
    while isinstance(node, ast.Attribute):
        attributes.insert(0, node.attr)
        node = node.value
    return (node.id if isinstance(node, ast.Name) else None), attributes


def _private_imports(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level:
            parts = (node.module or "").split(".")
            if parts[0] not in THIRD_PARTY:
                continue
            if any(map(_is_private, parts)):
                yield f"line {node.lineno}: from {node.module} import ..."
            for alias in node.names:
                if _is_private(alias.name):
                    yield f"line {node.lineno}: from {node.module} import {alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] in THIRD_PARTY and any(map(_is_private, parts)):
                    yield f"line {node.lineno}: import {alias.name}"


def _private_attributes(tree: ast.Module) -> Iterator[str]:
    """requests.x._y, urllib3._z...: attribute chains from a third-party name to a private one."""
    third_party = _third_party_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            root, attributes = _root(node)
            if root in third_party and any(map(_is_private, attributes)):
                yield f"line {node.lineno}: {root}.{'.'.join(attributes)}"


def _derived_classes(tree: ast.Module) -> list[ast.ClassDef]:
    """The module's classes derived from a third-party class, directly or through another."""
    third_party = _third_party_names(tree)
    derived: list[ast.ClassDef] = []
    ours: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                root, _ = _root(base)
                if root in third_party or root in ours:
                    derived.append(node)
                    ours.add(node.name)
                    break
    return derived


def _private_members(cls: ast.ClassDef) -> Iterator[str]:
    """Private names a derived class defines (methods, class attributes) or reaches on self."""
    for node in cls.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _is_private(node.name):
            yield f"line {node.lineno}: {cls.name} defines {node.name}()"
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and _is_private(target.id):
                yield f"line {node.lineno}: {cls.name} sets {target.id}"
    for inner in ast.walk(cls):
        if (
            isinstance(inner, ast.Attribute)
            and isinstance(inner.value, ast.Name)
            and inner.value.id == "self"
            and _is_private(inner.attr)
        ):
            yield f"line {inner.lineno}: {cls.name} uses self.{inner.attr}"


@pytest.mark.parametrize("path", MODULES, ids=_id)
def test_no_module_names_urllib3s_pool_internals(path: Path) -> None:
    found = [
        f"line {getattr(node, 'lineno', '?')}: {name}"
        for node in ast.walk(_tree(path))
        for name in (
            getattr(node, "attr", None),  # pool._get_conn
            getattr(node, "name", None),  # def _new_conn
            getattr(node, "id", None),
            node.value if isinstance(node, ast.Constant) else None,  # getattr(pool, "_put_conn")
        )
        if name in POOL_INTERNALS
    ]
    assert found == []


@pytest.mark.parametrize("path", MODULES, ids=_id)
def test_no_module_imports_or_reaches_a_private_name_of_requests_or_urllib3(path: Path) -> None:
    tree = _tree(path)
    assert [*_private_imports(tree), *_private_attributes(tree)] == []


@pytest.mark.parametrize("path", MODULES, ids=_id)
def test_classes_derived_from_requests_or_urllib3_override_and_touch_only_public_names(
    path: Path,
) -> None:
    found = [problem for cls in _derived_classes(_tree(path)) for problem in _private_members(cls)]
    assert found == []


def test_the_scan_sees_the_classes_that_extend_requests_and_urllib3() -> None:
    """The control for the tests above: the adapter's classes are found, and a private hook
    or a private attribute in one of them would be."""
    adapter = _tree(PACKAGE / "sources" / "daemon" / "adapter.py")
    assert {cls.name for cls in _derived_classes(adapter)} == {
        "DaemonConnection",
        "_DaemonPool",
        "DaemonAdapter",
    }
    bad = ast.parse(
        "import urllib3\n"
        "from urllib3.util import _private\n"
        "class Pool(urllib3.HTTPConnectionPool):\n"
        "    def _new_conn(self):\n"
        "        return self._get_conn() or urllib3.connection._thing\n"
    )
    assert len(list(_private_imports(bad))) == 1
    assert len(list(_private_attributes(bad))) == 1
    assert len(list(_private_members(_derived_classes(bad)[0]))) == 2
