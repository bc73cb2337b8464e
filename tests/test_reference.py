"""Image references are validated locally, with the distribution/reference grammar."""

import pytest

from inspector.errors import ExitCode, InvalidReference
from inspector.reference import parse_reference

FULL_HEX = "8857b44671c2ee64b68a536f45a66d890aecd6835b19fcfd3e5a0f301a2622fe"


VALID = [
    ("nginx", "/images/nginx/json"),
    ("nginx:1.27", "/images/nginx:1.27/json"),
    ("library/nginx:latest", "/images/library/nginx:latest/json"),
    (
        "registry.example.com:5000/team/app:1.0",
        "/images/registry.example.com:5000/team/app:1.0/json",
    ),
    ("Registry.Example.com/app", "/images/Registry.Example.com/app/json"),
    ("localhost:5000/a_b__c-d---e.f", "/images/localhost:5000/a_b__c-d---e.f/json"),
    ("[::1]:5000/app", "/images/%5B::1%5D:5000/app/json"),
    ("app:V1.0_rc-2", "/images/app:V1.0_rc-2/json"),
    (f"app@sha256:{FULL_HEX}", f"/images/app@sha256:{FULL_HEX}/json"),
    (f"app:1@sha256:{FULL_HEX}", f"/images/app:1@sha256:{FULL_HEX}/json"),
    (FULL_HEX, f"/images/{FULL_HEX}/json"),
    (FULL_HEX[:12], f"/images/{FULL_HEX[:12]}/json"),
    (f"sha256:{FULL_HEX}", f"/images/sha256:{FULL_HEX}/json"),
    ("sha256:8857b4", "/images/sha256:8857b4/json"),
    ("a" * 255, f"/images/{'a' * 255}/json"),
]


@pytest.mark.parametrize(("text", "path"), VALID)
def test_valid_references_map_to_one_inspect_path(text: str, path: str) -> None:
    assert parse_reference(text).api_path == path


@pytest.mark.parametrize(("text", "path"), VALID)
def test_the_history_path_is_the_inspect_path_with_history_for_json(text: str, path: str) -> None:
    assert parse_reference(text).history_api_path == path.removesuffix("/json") + "/history"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("../x", "format"),
        ("a/../b", "format"),
        ("./a", "format"),
        ("..", "format"),
        ("%2e%2e", "format"),
        ("a%2fb", "format"),
        ("a//b", "format"),
        ("/a", "format"),
        ("a/", "format"),
        ("app:", "format"),
        ("app@", "format"),
        ("app:.tag", "format"),
        ("x?y", "format"),
        ("x#y", "format"),
        ("a b", "white space"),
        ("a\tb", "control"),
        ("nginx\n", "control"),
        ("ng\x1binx", "control"),
        ("ng\x85inx", "control"),
        ("Nginx", "lowercase"),
        ("team/App:1", "lowercase"),
        ("app@sha256:abc", "format"),
        ("app:" + "t" * 129, "format"),
        ("a" * 256, "255 characters"),
        ("app\u0660", "format"),  # Python's \d would accept an Arabic-Indic digit; Go's does not
        ("tag:ab\u00e9", "format"),
        ("-app", "format"),
        ("app-", "format"),
    ],
)
def test_invalid_references_are_usage_errors_that_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidReference) as caught:
        parse_reference(text)
    assert caught.value.exit_code == ExitCode.USAGE
    assert reason in str(caught.value)
