"""The test suite's own rules, read from its source: no module of it imports a test module,
and every process a test sends SIGINT is started by `start_cli`, with SIGINT at its default
action whatever the suite's is.

Each rule is a function over a module's source, tried on a table of sources that break it and
sources that keep it, then on every module in tests/ and its packages. Last, a Ctrl-C test run
with SIGINT ignored here, as it is when the suite runs in the background.
"""

import ast
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_daemon import HANG, FakeDaemon, inspect_path, ping
from tests.helpers import RUN_TIMEOUT, start_cli

TESTS = Path(__file__).resolve().parent
SUITE = sorted(TESTS.rglob("*.py"))


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


@pytest.mark.parametrize("path", SUITE, ids=lambda path: str(path.relative_to(TESTS)))
def test_no_module_of_the_suite_imports_a_test_module(path: Path) -> None:
    """Shared helpers live in helpers.py, fake_daemon.py, archive_builder.py and the like:
    importing a test module ties one test module to another's insides, and a test function
    or fixture imported by name is collected again in the importer."""
    assert imports_of_test_modules(path.read_text()) == []


# -- SIGINT goes only to processes start_cli started ----------------------------------------

_KILLS = {"send_signal": 0, "kill": 1, "killpg": 1, "pidfd_send_signal": 1}


def _is_sigint(node: ast.expr) -> bool:
    if isinstance(node, ast.Attribute | ast.Name):
        return (node.attr if isinstance(node, ast.Attribute) else node.id) == "SIGINT"
    return isinstance(node, ast.Constant) and node.value == signal.SIGINT.value


def _called(call: ast.Call) -> str:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return call.func.id if isinstance(call.func, ast.Name) else ""


def _sends_sigint(call: ast.Call) -> bool:
    """kill(pid, SIGINT) and its kin, or a Ctrl-C typed at a terminal with os.write."""
    name = _called(call)
    if name in _KILLS:
        position = _KILLS[name]
        return len(call.args) > position and _is_sigint(call.args[position])
    func = call.func
    if name == "write" and isinstance(func, ast.Attribute) and ast.unparse(func.value) == "os":
        return any(_holds_ctrl_c(node) for argument in call.args for node in ast.walk(argument))
    return False


def _holds_ctrl_c(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant) and isinstance(node.value, bytes) and b"\x03" in node.value
    )


def _scopes(tree: ast.AST) -> Iterator[tuple[str, list[ast.AST]]]:
    """The module and each function, with the nodes of its own body (not of functions in it)."""
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    for scope in ast.walk(tree):
        if not isinstance(scope, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        own: list[ast.AST] = []
        pending = list(ast.iter_child_nodes(scope))
        while pending:
            node = pending.pop()
            own.append(node)
            if not isinstance(node, functions):
                pending.extend(ast.iter_child_nodes(node))
        yield getattr(scope, "name", "<module>"), own


def sigint_senders_without_start_cli(source: str) -> list[str]:
    """The functions of source that send SIGINT but do not start their process by start_cli."""
    found = []
    for name, nodes in _scopes(ast.parse(source)):
        calls = [node for node in nodes if isinstance(node, ast.Call)]
        if any(map(_sends_sigint, calls)) and not any(_called(c) == "start_cli" for c in calls):
            found.append(name)
    return found


_STARTED_BY_POPEN = 'process = subprocess.Popen([sys.executable, "-m", "inspector", "a"])\n'


@pytest.mark.parametrize(
    "body",
    [
        _STARTED_BY_POPEN + "process.send_signal(signal.SIGINT)",
        _STARTED_BY_POPEN + "process.send_signal(SIGINT)",
        _STARTED_BY_POPEN + "process.send_signal(2)",
        _STARTED_BY_POPEN + "os.kill(process.pid, signal.SIGINT)",
        _STARTED_BY_POPEN + "os.killpg(process.pid, signal.Signals.SIGINT)",
        "pid, fd = pty.fork()\nos.write(fd, b'\\x03')",
        "leader, follower = pty.openpty()\nos.write(leader, typed.encode() + b'\\x03')",
        # start_cli in another function does not count: the one that signals must start it.
        "process = started()\nprocess.send_signal(signal.SIGINT)",
    ],
)
def test_sigint_to_a_process_start_cli_did_not_start_is_found(body: str) -> None:
    source = "def test_interrupted():\n    " + body.replace("\n", "\n    ")
    source += "\n\ndef started():\n    return start_cli('a', host=None)\n"
    assert sigint_senders_without_start_cli(source) == ["test_interrupted"]


@pytest.mark.parametrize(
    "body",
    [
        "process = start_cli('a', host=fake.docker_host)\nprocess.send_signal(signal.SIGINT)",
        "process = start_cli('a', host=None, sigint=signal.SIG_IGN)\nos.kill(process.pid, SIGINT)",
        _STARTED_BY_POPEN + "process.send_signal(signal.SIGTERM)",
        _STARTED_BY_POPEN + "os.kill(process.pid, signal.SIGKILL)",
        "pid, fd = pty.fork()\nos.write(fd, typed.encode() + b'\\t\\x18')",
        "path.write_bytes(b'\\x03')",
    ],
)
def test_other_signals_and_processes_start_cli_started_are_not_found(body: str) -> None:
    source = "def test_interrupted():\n    " + body.replace("\n", "\n    ")
    assert sigint_senders_without_start_cli(source) == []


@pytest.mark.parametrize("path", SUITE, ids=lambda path: str(path.relative_to(TESTS)))
def test_every_process_the_suite_sends_sigint_is_started_by_start_cli(path: Path) -> None:
    assert sigint_senders_without_start_cli(path.read_text()) == []


def test_start_cli_gives_the_command_sigint_at_its_default_when_the_suite_ignores_it() -> None:
    """As under `make check &` in a script: a Ctrl-C still interrupts the command (130)."""
    with FakeDaemon({"/_ping": ping(), inspect_path("a"): HANG}) as fake:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            process = start_cli("a", host=fake.docker_host)
        finally:
            signal.signal(signal.SIGINT, previous)
        try:
            assert fake.wait_for_requests(2, timeout=RUN_TIMEOUT), fake.paths
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=RUN_TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == 130
