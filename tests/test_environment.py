"""The table of environment variables is honest: it names every variable the code reads."""

import ast
import re
import subprocess
import sys
from pathlib import Path

from inspector.environment import VARIABLES

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "inspector"
# A name kept in a constant (HOST_ENV = "DOCKER_HOST") is a read waiting to happen.
_OWN_NAME = re.compile(r"(?:DOCKER|IMGINSPECT)_[A-Z0-9_]+")
_ENVIRON_NAMES = {"environ", "env", "environment"}


def _is_environ(node: ast.expr) -> bool:
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return name in _ENVIRON_NAMES


def _string(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def variables_read(path: Path) -> set[str]:
    """Names read with environ.get/[...]/in, os.getenv, or kept whole in a string constant."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        name: str | None = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            getter = node.func.attr in ("get", "pop", "setdefault") and _is_environ(node.func.value)
            if (getter or node.func.attr == "getenv") and node.args:
                name = _string(node.args[0])
        elif isinstance(node, ast.Subscript) and _is_environ(node.value):
            name = _string(node.slice)
        elif isinstance(node, ast.Compare) and any(_is_environ(c) for c in node.comparators):
            name = _string(node.left)
        elif isinstance(node, ast.Constant) and _OWN_NAME.fullmatch(str(node.value)):
            name = str(node.value)
        if name is not None:
            found.add(name)
    return found


def test_the_finder_sees_every_way_the_code_reads_a_variable(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\n"
        "a = os.environ.get('A')\n"
        "b = environ['B']\n"
        "c = 'C' in os.environ\n"
        "d = os.getenv('D', '')\n"
        "e = env.pop('E', None)\n"
        "F = 'DOCKER_TLS_VERIFY'\n"
        "g = 'not an environment read'\n"
    )
    assert variables_read(sample) == {"A", "B", "C", "D", "E", "DOCKER_TLS_VERIFY"}


def test_every_variable_the_code_reads_is_in_the_table_and_no_other() -> None:
    read: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if path.name != "environment.py":
            read |= variables_read(path)
    read_by_us = {variable.name for variable in VARIABLES if not variable.read_by}
    assert read == read_by_us, (
        "give each variable the code reads a row in inspector/environment.py, then run "
        "scripts/generate; a row for a variable read elsewhere says read_by"
    )


def test_the_table_has_one_row_per_variable_with_text_for_help_and_the_man_page() -> None:
    names = [variable.name for variable in VARIABLES]
    assert len(names) == len(set(names))
    for variable in VARIABLES:
        assert variable.summary
        assert variable.description.endswith(".")
        assert "\n" not in variable.summary + variable.description


def test_help_and_the_man_page_list_every_variable() -> None:
    help_text = subprocess.run(
        [sys.executable, "-m", "inspector", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    page = (REPO / "man" / "imginspect.1").read_text()
    environment = page[page.index("\n.SH ENVIRONMENT\n") :].split("\n.SH ", 2)[1]
    for variable in VARIABLES:
        assert re.search(rf"^\s+{variable.name}\s+{re.escape(variable.summary)}$", help_text, re.M)
        assert f".TP\n\\fB{variable.name}\\fR\n" in environment, variable.name
