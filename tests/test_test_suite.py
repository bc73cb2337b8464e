"""The test suite's own rules, read from its source: no module of it imports a test module.

Each rule is a function over a module's source, tried on a table of sources that break it and
sources that keep it, then on every module in tests/.
"""

import ast
import re
from pathlib import Path

import pytest

SUITE = sorted(Path(__file__).resolve().parent.glob("*.py"))


# -- no module of the suite imports a test module -------------------------------------------

# A test module's name in a string: code run with `python -c`, `-m`, importlib.
_TEST_MODULE_IN_A_STRING = re.compile(r"\btests\.test_\w+")


def _is_test_module(dotted: str) -> bool:
    return dotted.rpartition(".")[2].startswith("test_")


def imports_of_test_modules(source: str) -> list[str]:
    """The test modules (or tests) that source imports, or names in a string, as written."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if _is_test_module(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if _is_test_module(module):
                found.append(module)
            else:
                within = module if module.endswith(".") else module + "."
                found += [within + a.name for a in node.names if _is_test_module(a.name)]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += _TEST_MODULE_IN_A_STRING.findall(node.value)
    return found


# The tables name the test module `{module}`, filled in by the test: written out, they would
# break the rule here themselves.
@pytest.mark.parametrize(
    ("source", "imported"),
    [
        ("import tests.{module}", "tests.{module}"),
        ("import tests.{module} as faults", "tests.{module}"),
        ("import {module}", "{module}"),
        ("from tests.{module} import run_cli", "tests.{module}"),
        ("from tests import {module}", "tests.{module}"),
        ("from .{module} import run_cli", ".{module}"),
        ("from . import helpers, {module}", ".{module}"),
        ("def f():\n    from tests.{module} import run_cli", "tests.{module}"),
        ('SCRIPT = "from tests.{module} import run_cli\\nrun_cli()"', "tests.{module}"),
        ('argv = [sys.executable, "-m", "tests.{module}"]', "tests.{module}"),
        ('importlib.import_module("tests.{module}")', "tests.{module}"),
    ],
)
def test_every_way_of_importing_a_test_module_is_found(source: str, imported: str) -> None:
    module = "test_faults"
    assert imports_of_test_modules(source.format(module=module)) == [imported.format(module=module)]


@pytest.mark.parametrize(
    "source",
    [
        "from tests.helpers import run_cli, the_error_line",
        "import tests.fake_daemon",
        "from tests import helpers",
        "from . import shells",
        "from inspector.render import view",
        '"""The view\'s own faults are tested in test_view.py."""',
        "def test_something() -> None:\n    pass",
    ],
)
def test_imports_of_helper_modules_are_not_taken_for_test_modules(source: str) -> None:
    assert imports_of_test_modules(source) == []


@pytest.mark.parametrize("path", SUITE, ids=lambda path: path.name)
def test_no_module_of_the_suite_imports_a_test_module(path: Path) -> None:
    """Shared helpers live in helpers.py, fake_daemon.py, archive_builder.py and the like:
    importing a test module ties one test module to another's insides, and a test function
    or fixture imported by name is collected again in the importer."""
    assert imports_of_test_modules(path.read_text()) == []
