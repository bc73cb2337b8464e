"""Data flows one way (STYLE.md): each module imports only the layers below it."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "inspector"

# module -> what of the project (and of the heavy third-party packages) it may import
ALLOWED = {
    "__init__": set(),
    "__main__": {"cli", "option_table", "tab"},
    "option_table": set(),
    "tab": {"completion", "option_table"},
    "errors": set(),
    "terminal": set(),
    "reference": {"errors"},
    "connection": {"__init__", "errors"},
    "environment": set(),
    "completion": {"__init__", "connection", "errors", "reference"},
    "transport": {"connection", "errors", "requests", "requests_unixsocket"},
    "pipeline": set(),
    "daemon": {
        "__init__",
        "connection",
        "errors",
        "pipeline",
        "reference",
        "transport",
        "requests",
    },
    "source": {"errors"},
    "archive": {"errors", "source"},
    "layers": set(),
    "compare": {"layers"},
    "render.json": set(),
    "render.table": {"errors", "layers", "rich", "template.gotime", "terminal"},
    "render.diff_json": {"compare"},
    "render.diff_view": {"compare", "render", "render.table", "rich"},
    "render": set(),
    "render.format": {"errors", "template", "template.schema", "template.values"},
    "template": {"template.evaluate", "template.functions", "template.parser", "template.values"},
    "template.values": set(),
    "template.gotime": {"template.values"},
    "template.schema": {"template.gotime", "template.values"},
    "template.gofmt": {"template.values"},
    "template.lexer": {"template.gofmt"},
    "template.parser": {"errors", "template.gofmt", "template.lexer", "template.values"},
    "template.constant": {"template.parser"},
    "template.evaluate": {
        "errors",
        "template",
        "template.constant",
        "template.gofmt",
        "template.parser",
        "template.values",
    },
    "template.functions": {"template", "template.evaluate", "template.gofmt", "template.values"},
    "cli": {
        "__init__",
        "completion",
        "archive",
        "compare",
        "source",
        "connection",
        "daemon",
        "environment",
        "errors",
        "layers",
        "reference",
        "render",
        "render.diff_json",
        "render.diff_view",
        "render.format",
        "render.json",
        "render.table",
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
