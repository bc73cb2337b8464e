"""--ci's report on stdout: dive's CI report, line for line, for each image.

dive prints it as `dive --ci` does: the analysis, the inefficient files, each rule's verdict
and the summary. Sizes are go-humanize's (`humanize.Bytes`: SI units, one decimal under 10).
The paths come from the image: what could act on a terminal is shown escaped.
"""

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from inspector.gate.rules import FAIL, PASS, SKIP, Verdict
from inspector.terminal import escape_unsafe

if TYPE_CHECKING:
    from inspector.contents.analysis import Waste

_HUMANIZE_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB")
_LABEL = 18  # dive's label column: the key and its colon, padded


def gate_report(waste: "Waste", verdicts: Sequence[Verdict]) -> str:
    """dive's report of one image, ending with a newline."""
    sections = [_analysis(waste), _inefficient_files(waste), _evaluation(verdicts)]
    return "\n\n".join(sections) + "\n"


def _analysis(waste: "Waste") -> str:
    wasted_size = ""
    user_wasted = "0 %"
    if waste.wasted > 0:
        wasted_size = f"({humanize_bytes(waste.wasted)})"
        user_wasted = f"{waste.wasted_user_fraction * 100:.2f} %"
    rows = [
        ("efficiency", f"{waste.efficiency * 100:.2f} %"),
        ("wastedBytes", f"{waste.wasted} bytes {wasted_size}"),
        ("userWastedPercent", user_wasted),
    ]
    return "Analysis:\n" + "\n".join(f"  {(key + ':'):<{_LABEL}} {value}" for key, value in rows)


def _inefficient_files(waste: "Waste") -> str:
    if not waste.paths:
        return "Inefficient Files: (None)"
    rows = [f"  {'Count':<5}  {'Wasted Space':<12}  File Path"]
    for path in waste.paths:
        shown = escape_unsafe(path.path)
        rows.append(f"  {path.count!s:<5}  {humanize_bytes(path.size):<12}  {shown}")
    return "Inefficient Files:\n" + "\n".join(rows)


def _evaluation(verdicts: Sequence[Verdict]) -> str:
    lines = [f"  {verdict.status}  {verdict.key} ({verdict.message})" for verdict in verdicts]
    tally = [
        f"{name}:{number}"
        for name, number in (
            ("pass", sum(verdict.status == PASS for verdict in verdicts)),
            ("fail", sum(verdict.status == FAIL for verdict in verdicts)),
            ("skip", sum(verdict.status == SKIP for verdict in verdicts)),
        )
        if number
    ]
    status = FAIL if any(verdict.status == FAIL for verdict in verdicts) else PASS
    return "Evaluation:\n" + "\n".join(lines) + f"\n\n{status} [{' '.join(tally)}]"


def humanize_bytes(size: int) -> str:
    """go-humanize's Bytes: `131 B`, `1.2 MB`, `32 kB`."""
    if size < 10:
        return f"{size} B"
    exponent = math.floor(math.log(size) / math.log(1000))
    value = math.floor(size / 1000**exponent * 10 + 0.5) / 10
    # Go's %.0f rounds half to even, as Python's format does.
    shown = f"{value:.1f}" if value < 10 else f"{value:.0f}"
    return f"{shown} {_HUMANIZE_UNITS[exponent]}"
