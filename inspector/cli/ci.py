"""--ci: the rules a run gates on, from dive's defaults, a .dive-ci file and the options, and
the verdicts it turns into failures.

As dive: a `.dive-ci` in the current directory is read when no --ci-config names a file; the
file's rules override dive's defaults, and the options override the file. A file named by
--ci-config must exist (dive falls back to its defaults, which would pass what the file was
meant to fail).
"""

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.errors import RuleBroken, UsageError
from inspector.gate.config import ConfigError, read_rules
from inspector.gate.rules import (
    DEFAULTS,
    FAIL,
    KEYS,
    Measures,
    Rule,
    RuleValueError,
    Verdict,
    evaluate,
    make_rule,
)

if TYPE_CHECKING:
    from inspector.contents.analysis import Waste
    from inspector.image import Image

DEFAULT_CONFIG = ".dive-ci"
# The largest .dive-ci read: a few lines make one; anything near this is not one.
MAX_CONFIG_BYTES = 1 << 20


class Gate:
    """The rules of a run, and each image's verdicts."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)

    def verdicts(self, waste: "Waste") -> list[Verdict]:
        measures = Measures(waste.efficiency, waste.wasted, waste.wasted_user_fraction)
        return evaluate(self.rules, measures)

    @staticmethod
    def failures(image: "Image", verdicts: Sequence[Verdict]) -> list[RuleBroken]:
        """One failure for each rule the image broke: the image, the rule, dive's message."""
        return [
            RuleBroken(f"{image.asked}: {verdict.key}: {verdict.message}")
            for verdict in verdicts
            if verdict.status == FAIL
        ]


def load_gate(config: str | None, options: Mapping[str, Rule | None]) -> Gate:
    """The run's rules: dive's defaults, then the file (config, or .dive-ci here if there is
    one), then the options given (None: not given). UsageError for a file that cannot be
    read, or a value dive would refuse, with the file and the line."""
    chosen: dict[str, Rule] = {key: make_rule(key, DEFAULTS[key]) for key in KEYS}
    path = config if config is not None else DEFAULT_CONFIG
    if config is not None or os.path.lexists(DEFAULT_CONFIG):
        chosen.update(_file_rules(path))
    chosen.update({key: rule for key, rule in options.items() if rule is not None})
    return Gate([chosen[key] for key in KEYS])


def _file_rules(path: str) -> dict[str, Rule]:
    try:
        with Path(path).open("rb") as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read the CI config {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_CONFIG_BYTES:
        raise UsageError(f"{path}: larger than {MAX_CONFIG_BYTES} bytes: not a .dive-ci file")
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UsageError(f"{path}:{line}: not UTF-8 text") from exc
    try:
        settings = read_rules(source)
    except ConfigError as exc:
        raise UsageError(f"{path}:{exc.line}: {exc}") from exc
    rules = {}
    for key, setting in settings.items():
        try:
            rules[key] = make_rule(key, setting.value)
        except RuleValueError as exc:
            raise UsageError(f"{path}:{setting.line}: {exc}") from exc
    return rules
