"""Data flows one way (STYLE.md): each module imports only the layers below it."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "inspector"

# module -> what of the project (and of the heavy third-party packages) it may import
ALLOWED = {
    "__init__": set(),
    "cli": set(),
    "sources": set(),
    "sources.daemon": set(),
    "sources.archive": set(),
    "__main__": {"cli.command", "cli.option_table", "cli.tab"},
    "cli.option_table": set(),
    "cli.tab": {"sources.daemon.completion", "cli.option_table"},
    "errors": set(),
    "terminal": set(),
    "reference": {"errors"},
    "sources.daemon.endpoint": {"__init__", "errors"},
    "environment": set(),
    "sources.daemon.completion": {"__init__", "sources.daemon.endpoint", "errors", "reference"},
    "sources.daemon.transport": {
        "sources.daemon.endpoint",
        "errors",
        "requests",
        "requests_unixsocket",
    },
    "sources.daemon.pipeline": set(),
    "sources.daemon.client": {
        "__init__",
        "sources.daemon.endpoint",
        "errors",
        "sources.daemon.pipeline",
        "reference",
        "sources.daemon.transport",
        "requests",
    },
    "sources.archive.names": {"errors"},
    "sources.archive.reader": {"errors", "sources.archive.names"},
    "untrusted": set(),
    "image": {"errors"},
    "layers": {"untrusted"},
    "compare": {"image", "layers", "untrusted"},
    "render.json": set(),
    "render.parts": {"rich", "template.gotime", "terminal", "untrusted"},
    "render.sections": {"image", "layers", "render.parts", "rich", "untrusted"},
    "render.view": {"image", "render.parts", "render.sections"},
    "render.diff_json": {"compare", "terminal"},
    "render.diff_view": {"compare", "render.parts", "rich", "untrusted"},
    "render": set(),
    "render.format": {"errors", "template", "template.schema", "template.values"},
    "template": {"template.evaluate", "template.functions", "template.parser", "template.values"},
    "template.values": set(),
    "template.gotime": {"template.values"},
    "template.schema": {"template.gotime", "template.values"},
    "template.gofmt": {"template.values"},
    "template.lexer": {"template.gofmt"},
    "template.parser": {"errors", "template.gofmt", "template.lexer", "template.values"},
    "template.evaluate": {
        "errors",
        "template",
        "template.gofmt",
        "template.parser",
        "template.values",
    },
    "template.functions": {"template", "template.evaluate", "template.gofmt", "template.values"},
    "cli.command": {
        "sources.archive",
        "cli.tab",
        "__init__",
        "sources.daemon.completion",
        "sources.archive.reader",
        "compare",
        "sources.archive.names",
        "sources.daemon.endpoint",
        "sources.daemon.client",
        "environment",
        "errors",
        "image",
        "layers",
        "reference",
        "render",
        "render.diff_json",
        "render.diff_view",
        "render.format",
        "render.json",
        "render.view",
        "template",
        "terminal",
        "click",
    },
}
WATCHED = {"requests", "requests_unixsocket", "click", "rich"}


def _project_module(dotted: str) -> str | None:
    """`inspector.render.json` -> `render.json`; `inspector` -> `__init__`; None if not a module."""
    inner = dotted.removeprefix("inspector").lstrip(".").replace(".", "/")
    if not inner:
        return "__init__"
    if (PACKAGE / f"{inner}.py").is_file() or (PACKAGE / inner).is_dir():
        return inner.replace("/", ".")
    return None


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = _absolute(path, node.module, node.level)
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top == "inspector":
                module = _project_module(name)
                if module is not None:
                    found.add(module)
            elif top in WATCHED:
                found.add(top)
    return found


def _absolute(path: Path, module: str | None, level: int) -> str:
    """The dotted name a `from` import names, relative ones (`from .x import y`) resolved."""
    if not level:
        return module or ""
    package = ["inspector", *path.relative_to(PACKAGE).parent.parts]
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, module] if module else base)


def _module_name(path: Path) -> str:
    """`render/json.py` -> `render.json`; a package's `__init__.py` is the package itself."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_of_the_package_is_checked() -> None:
    """Packages' `__init__.py` and `__main__.py` import too: none may slip past the check."""
    assert set(MODULES) == set(PACKAGE.rglob("*.py"))
    assert {"__init__", "__main__", "render", "template"} <= set(map(_module_name, MODULES))


@pytest.mark.parametrize("path", MODULES, ids=_module_name)
def test_module_imports_only_what_its_layer_allows(path: Path) -> None:
    name = _module_name(path)
    assert name in ALLOWED, f"{name} is a new module: give it a row in ALLOWED"
    assert _imports(path) <= ALLOWED[name], f"{name} imports {_imports(path) - ALLOWED[name]}"
