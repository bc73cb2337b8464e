"""The command's entry: every outcome, expected or not, becomes one exit status."""

import os
import sys
from collections.abc import Sequence
from typing import NoReturn

import click

from inspector.cli.command import HELP_WIDTH, imginspect
from inspector.cli.output import report, say_error, say_line
from inspector.errors import ExitCode, ImginspectError, TemplateSyntaxError


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command and turn every outcome, expected or not, into an exit status."""
    try:
        code = imginspect.main(
            args=list(sys.argv[1:] if argv is None else argv),
            prog_name="imginspect",
            standalone_mode=False,
            terminal_width=help_width(),
        )
    except click.exceptions.Abort:
        return ExitCode.INTERRUPTED
    except click.ClickException as exc:
        say_error(exc.format_message())
        return ExitCode.USAGE if isinstance(exc, click.UsageError) else exc.exit_code
    except TemplateSyntaxError as exc:
        first, *caret = str(exc).splitlines() or [""]
        say_error(first)
        for line in caret:  # the template's line and a caret under the spot
            say_line(line)
        return exc.exit_code
    except ImginspectError as exc:
        report(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except Exception as exc:  # the one top-level guard
        if os.environ.get("IMGINSPECT_DEBUG") == "1":
            import traceback

            traceback.print_exc()
        say_error(f"internal error: {type(exc).__name__}: {exc}; please report it")
        return ExitCode.INTERNAL
    return int(code or 0)


def help_width() -> int:
    """The width click would give --help, found without the shutil module click imports for it.

    As click's HelpFormatter: the terminal's columns (shutil.get_terminal_size: COLUMNS, else
    the terminal on stdout, else 80), at most HELP_WIDTH, less 2, and at least 50.
    """
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        stdout = sys.__stdout__  # None when started with fd 1 closed
        try:
            columns = os.get_terminal_size(stdout.fileno()).columns if stdout else 0
        except (ValueError, OSError):
            columns = 0
    return max(min(columns or 80, HELP_WIDTH) - 2, 50)


def main() -> NoReturn:
    try:
        code = run()
    except KeyboardInterrupt:  # after run's own guard, before here
        code = ExitCode.INTERRUPTED
    # The work is done and said: a Ctrl-C now could only add a traceback, or kill the
    # interpreter as it flushes and exits. Paths that never loaded signal (--help, --version,
    # a usage error) have printed a few lines and end at once: they are spared its import,
    # a noticeable part of what --help adds to `import click`.
    signal = sys.modules.get("signal")
    if signal is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)
