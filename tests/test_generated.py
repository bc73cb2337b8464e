"""The committed completion scripts and man page are what scripts/generate makes, and sound."""

import importlib.machinery
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from inspector.environment import VARIABLES
from inspector.errors import ExitCode
from inspector.template.functions import BUILTINS, DOCKER_FUNCTIONS
from tests.daemon_fixture import skip_or_fail
from tests.helpers import help_text

REPO = Path(__file__).resolve().parent.parent
GENERATE = REPO / "scripts" / "generate"
PAGE = REPO / "man" / "imginspect.1"
SECTIONS = (
    "NAME",
    "SYNOPSIS",
    "DESCRIPTION",
    "OPTIONS",
    "OUTPUT",
    "FORMAT",
    "ENVIRONMENT",
    "EXIT STATUS",
    "FILES",
    "EXAMPLES",
    "SEE ALSO",
)


def tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        skip_or_fail(f"{name} is not installed (Debian package {package})")
    return found


def load_generate() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("generate", str(GENERATE))
    spec = importlib.util.spec_from_loader("generate", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def rendered_page() -> str:
    """The page as a terminal shows it, without the overstrike of bold and underline."""
    out = subprocess.run(
        [tool("mandoc", "mandoc"), "-Tascii", "-Owidth=200", str(PAGE)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return re.sub(".\b", "", out)


def section(text: str, name: str) -> str:
    """One section of the rendered page: from its heading to the next one."""
    match = re.search(rf"^{name}\n(.*?)(?=^[A-Z][A-Z ]+\n|\Z)", text, re.MULTILINE | re.DOTALL)
    assert match is not None, name
    return match[1]


def test_the_committed_files_are_what_the_generator_makes() -> None:
    result = subprocess.run(
        [sys.executable, str(GENERATE), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_generated_file_is_committed_byte_for_byte() -> None:
    for path, text in load_generate().wanted_files().items():
        assert path.read_text() == text, f"{path} is stale: run scripts/generate"


def test_the_page_keeps_its_date_until_its_content_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    generate = load_generate()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1893456000")  # 2030-01-01
    committed = PAGE.read_text()
    assert generate.man_page(committed) == committed
    for stale in (committed.replace("daemon", "demon"), None):
        page = generate.man_page(stale)
        assert page.startswith(".TH IMGINSPECT 1 2030-01-01 ")
        assert page.split("\n", 1)[1] == committed.split("\n", 1)[1]


def test_mandoc_finds_nothing_to_warn_about() -> None:
    result = subprocess.run(
        [tool("mandoc", "mandoc"), "-Tlint", "-Wwarning", str(PAGE)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_groff_formats_the_page_without_a_warning() -> None:
    # groff exits 0 even when it warns: its silence is the test.
    result = subprocess.run(
        [tool("groff", "groff-base"), "-man", "-Tutf8", "-ww", "-z", str(PAGE)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_the_page_has_every_section_in_order() -> None:
    text = rendered_page()
    headings = re.findall(r"^([A-Z][A-Z ]+)$", text, re.MULTILINE)
    assert headings == list(SECTIONS)


def test_the_page_documents_every_option_of_help() -> None:
    options = section(rendered_page(), "OPTIONS")
    for option in set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", help_text())):
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", options), option


def test_the_page_documents_every_environment_variable() -> None:
    environment = section(rendered_page(), "ENVIRONMENT")
    for variable in VARIABLES:
        assert re.search(rf"^ +{variable.name}\b", environment, re.MULTILINE), variable.name


def test_the_exit_statuses_are_those_of_help() -> None:
    statuses = section(rendered_page(), "EXIT STATUS")
    in_help = dict(re.findall(r"^ {4}(\d+) +(.+)$", help_text(), re.MULTILINE))
    assert {int(code) for code in in_help} == {int(code) for code in ExitCode}
    for code, meaning in in_help.items():
        assert re.search(rf"^ +{code} +{re.escape(meaning)}$", statuses, re.MULTILINE), code


def test_the_format_section_lists_every_template_function() -> None:
    format_section = section(rendered_page(), "FORMAT")
    for function in [*BUILTINS, *DOCKER_FUNCTIONS]:
        assert re.search(rf"^ +{function}\b", format_section, re.MULTILINE), function
