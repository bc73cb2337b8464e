"""What an archive's JSON says, read with the types the reader expects: a value of another
type reads as absent, the same way wherever it is read."""


def plain(value: object) -> str:
    """A string, or "" for anything else."""
    return value if isinstance(value, str) else ""


def strings(value: object) -> tuple[str, ...]:
    """The strings of a list, anything else in it left out; () if it is not a list."""
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def no_constants(name: str) -> None:
    """For json.loads: NaN and Infinity are not JSON, and the archive is refused for them."""
    raise ValueError(f"{name} is not JSON")
