"""Data flows one way: argv -> cli -> sources -> image records -> render -> stdout.

Each module of the package may import only what its layer allows, the heavy third-party
packages only where they are used, and no chain of imports comes back to where it started.
Imports inside functions count: they are deferred, not absent.
"""

import ast
import fnmatch
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "inspector"

# The third-party packages whose importers are watched: each belongs to one layer.
WATCHED = frozenset({"requests", "requests_unixsocket", "urllib3", "click", "rich"})
# Modules every layer may use: errors, values and the record an image travels as.
FOUNDATION = frozenset(
    {
        "__init__",
        "errors",
        "terminal",
        "environment",
        "reference",
        "image",
        "untrusted",
        "gregorian",
    }
)
HTTP = frozenset({"requests", "requests_unixsocket", "urllib3"})

# (module pattern, what it may import), the first pattern that matches a module ruling it.
# Patterns are fnmatch patterns over dotted names: `sources.daemon.*` is every module of the
# daemon's package (not the package itself, which is `sources.daemon`).
RULES: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (pattern, frozenset(allowed))
    for pattern, allowed in (
        ("__init__", ()),
        ("errors", ()),
        ("terminal", ()),
        ("environment", ()),
        ("untrusted", ()),
        ("gregorian", ()),
        ("reference", {"errors"}),
        ("image", {"errors", "contents.model"}),
        # What an image's layers hold: pure, over the tars the sources hand in.
        ("contents", ()),
        ("contents.*", {*FOUNDATION, "contents.*"}),
        # Analyses of records: pure, over the untrusted JSON.
        ("layers", {"untrusted"}),
        ("compare", {"image", "layers", "untrusted"}),
        # --ci's rules and the .dive-ci that sets them: pure.
        ("gate", ()),
        ("gate.*", {"gate.*"}),
        # Go's text/template: a world of its own.
        ("template", {"errors", "template.*"}),
        ("template.*", {"errors", "gregorian", "template", "template.*"}),
        # Sources: names in, records out; each source's package keeps to itself.
        ("sources", ()),
        ("sources.interface", {"image", "reference", "sources.names"}),
        (
            "sources.names",
            {"errors", "reference", "sources.archive.names", "sources.registry.names"},
        ),
        ("sources.fetch", {*FOUNDATION, "sources.*"}),
        # DOCKER_API_VERSION, which every source reads; the default from the shape builder.
        ("sources.api_version", {"errors", "sources.shape.*"}),
        ("sources.daemon", {"__init__"}),
        # What a TAB on an image name loads: no HTTP stack.
        (
            "sources.daemon.completion",
            {*FOUNDATION, "sources.daemon", "sources.daemon.connector", "sources.daemon.endpoint"},
        ),
        ("sources.daemon.endpoint", {*FOUNDATION, "sources.daemon", "sources.api_version"}),
        # The one way to the daemon, which a TAB loads too: the standard library only. TLS,
        # ssh and the deadline sockets are its parts; the client picks the part it needs.
        ("sources.daemon.connector", {*FOUNDATION, "sources.daemon", "sources.daemon.endpoint"}),
        ("sources.daemon.deadline", ()),
        (
            "sources.daemon.tls",
            {
                *FOUNDATION,
                "sources.daemon.connector",
                "sources.daemon.deadline",
                "sources.daemon.endpoint",
            },
        ),
        (
            "sources.daemon.ssh",
            {
                *FOUNDATION,
                "sources.daemon.connector",
                "sources.daemon.deadline",
                "sources.daemon.endpoint",
            },
        ),
        # The daemon's `docker save` of an image is an archive, read as the archive source reads
        # one: the same scan, the same choice and checks.
        (
            "sources.daemon.*",
            {
                *FOUNDATION,
                *HTTP,
                "layers",
                "contents.*",
                "sources.interface",
                "sources.names",
                "sources.daemon",
                "sources.daemon.*",
                "sources.archive.layout",
                "sources.archive.names",
                "sources.archive.stores",
            },
        ),
        ("sources.archive", ()),
        (
            "sources.archive.*",
            {
                *FOUNDATION,
                "sources.api_version",
                "sources.interface",
                "sources.names",
                "sources.archive.*",
                "sources.shape.*",
                "contents.*",
            },
        ),
        # The daemon's answers built from a config, for every source without a daemon: pure.
        ("sources.shape", ()),
        ("sources.shape.*", {"gregorian", "sources.shape.*"}),
        ("sources.registry", {"__init__"}),
        # What naming a registry's image loads, before anything is asked: no HTTP stack.
        ("sources.registry.names", {"errors", "reference"}),
        # docker's config directory (for credentials) is found the one way the daemon's
        # endpoint finds it; a layer blob is measured as an archive's is.
        (
            "sources.registry.*",
            {
                *FOUNDATION,
                *HTTP,
                "contents.*",
                "sources.api_version",
                "sources.archive.streams",
                "sources.interface",
                "sources.names",
                "sources.daemon.endpoint",
                "sources.registry",
                "sources.registry.*",
                "sources.shape.*",
            },
        ),
        # Renderers: records in, bytes or text out; rich only for the views.
        ("render", ()),
        ("render.json", ()),
        ("render.format", {*FOUNDATION, "template", "template.*"}),
        ("render.diff_json", {*FOUNDATION, "compare"}),
        ("render.contents_json", {*FOUNDATION, "contents.*"}),
        ("render.gate_report", {*FOUNDATION, "contents.*", "gate.*"}),
        (
            "render.*",
            {*FOUNDATION, "compare", "contents.*", "layers", "template.gotime", "render.*", "rich"},
        ),
        # The command: the only click code, above everything else.
        ("cli", ()),
        ("cli.option_table", ()),
        ("cli.tab", {"cli.option_table", "sources.daemon.completion"}),
        # The command asks the sources only through their interface and the router; the
        # daemon's package for its flags, and its image names for a TAB.
        (
            "cli.*",
            {
                *FOUNDATION,
                "cli.*",
                "compare",
                "contents.*",
                "gate.*",
                "render.*",
                "template",
                "click",
                "sources.fetch",
                "sources.interface",
                "sources.names",
                "sources.daemon",
                "sources.daemon.completion",
            },
        ),
        ("__main__", {"cli.option_table", "cli.tab", "cli.main"}),
    )
)


def module_name(path: Path, package: Path = PACKAGE) -> str:
    """`render/json.py` -> `render.json`; a package's `__init__.py` is the package itself."""
    parts = path.relative_to(package).with_suffix("").parts
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(source: str, name: str, modules: Iterable[str]) -> set[str]:
    """The project's modules (by module_name) and the watched packages a module's source
    imports. `from inspector.x import y` imports the module x.y if there is one, else x."""
    known = set(modules)
    package = name if _is_package(name, known) else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            base = _absolute(package, node.module, node.level)
            names = [
                f"{base}.{alias.name}" if _inner(f"{base}.{alias.name}") in known else base
                for alias in node.names
            ]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for dotted in names:
            top = dotted.split(".")[0]
            if top == "inspector":
                found.add(_inner(dotted))
            elif top in WATCHED:
                found.add(top)
    found.discard(name)
    return found


def _is_package(name: str, known: set[str]) -> bool:
    return name == "__init__" or any(other.startswith(f"{name}.") for other in known)


def _inner(dotted: str) -> str:
    """`inspector.render.json` -> `render.json`; `inspector` -> `__init__`."""
    return dotted.removeprefix("inspector").lstrip(".") or "__init__"


def _absolute(package: str, module: str | None, level: int) -> str:
    """The dotted name a `from` import names, relative ones (`from .x import y`) resolved."""
    if not level:
        return module or ""
    parts = ["inspector", *([] if package == "__init__" else package.split("."))]
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, module] if module else base)


def rule_for(name: str) -> frozenset[str] | None:
    for pattern, allowed in RULES:
        if fnmatch.fnmatchcase(name, pattern):
            return allowed
    return None


def forbidden(name: str, imported: Iterable[str]) -> set[str]:
    """What of imported the rule of module name does not allow (all of it, if none rules it)."""
    allowed = rule_for(name) or frozenset()
    return {
        target
        for target in imported
        if not any(fnmatch.fnmatchcase(target, pattern) for pattern in allowed)
        and not _ancestor(target, name)
    }


def _ancestor(target: str, name: str) -> bool:
    """Every module loads the packages it is in: importing one of them adds nothing."""
    return target == "__init__" or name.startswith(f"{target}.")


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (or a module importing itself),
    each as a sorted list: Tarjan's algorithm, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, list(graph.get(root, ())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, todo = work[-1]
            if todo:
                target = todo.pop()
                if target not in graph:
                    continue
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, list(graph[target])))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in graph[node]:
                    found.append(sorted(group))
    return found


def project_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Each module of the package and the project modules it imports (not its own packages)."""
    paths = {module_name(path, package): path for path in sorted(package.rglob("*.py"))}
    return {
        name: {
            target
            for target in imports_of(path.read_text(), name, paths)
            if target in paths and not _ancestor(target, name)
        }
        for name, path in paths.items()
    }


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_imports_only_what_its_layer_allows(name: str) -> None:
    assert rule_for(name) is not None, f"{name} is in no layer: give it a rule in RULES"
    imported = imports_of(MODULES[name].read_text(), name, MODULES)
    assert not forbidden(name, imported), f"{name} imports {sorted(forbidden(name, imported))}"


def test_no_chain_of_imports_comes_back_to_where_it_started() -> None:
    assert cycles(project_graph()) == []


def test_every_layer_has_a_module() -> None:
    """A rule that matches nothing is a layer that was renamed or removed: the table is stale."""
    stale = [
        pattern
        for pattern, _ in RULES
        if not any(fnmatch.fnmatchcase(name, pattern) for name in MODULES)
    ]
    assert stale == []


# -- the checks themselves can fail --------------------------------------------------------


def test_a_renderer_asking_a_source_is_caught(tmp_path: Path) -> None:
    package = tmp_path / "inspector"
    (package / "render").mkdir(parents=True)
    (package / "sources").mkdir()
    for empty in ("__init__.py", "render/__init__.py", "sources/__init__.py", "sources/fetch.py"):
        (package / empty).write_text("")
    view = package / "render" / "view.py"
    view.write_text("def f():\n    from inspector.sources import fetch\n    import click\n")
    names = [module_name(path, package) for path in package.rglob("*.py")]
    imported = imports_of(view.read_text(), "render.view", names)
    assert imported == {"sources.fetch", "click"}
    assert forbidden("render.view", imported) == {"sources.fetch", "click"}
    assert forbidden("nothing.rules.this", {"errors"}) == {"errors"}


def test_a_cycle_is_caught(tmp_path: Path) -> None:
    package = tmp_path / "inspector"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from inspector import b\n")
    (package / "b.py").write_text("def later():\n    from inspector.c import x\n")
    (package / "c.py").write_text("from . import a\n")
    (package / "d.py").write_text("from inspector import a\n")
    assert cycles(project_graph(package)) == [["a", "b", "c"]]
