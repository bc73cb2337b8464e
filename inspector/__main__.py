"""`python -m inspector` and the `imginspect` command: Ctrl-C is exit 130 from the start."""

import os
import sys

from inspector.cli.option_table import COMPLETE_VAR  # generated, a few constants


def main() -> None:
    try:
        if os.environ.get(COMPLETE_VAR):
            _answer_a_tab_without_click()
        from inspector.cli.main import main as run_command  # click and the rest: a moment
    except KeyboardInterrupt:
        sys.exit(130)  # ExitCode.INTERRUPTED, which is not loaded yet
    run_command()


def _answer_a_tab_without_click() -> None:
    """Exit with the answer to a TAB on an image name, or return for click to answer.

    Click takes longer to load than a whole TAB should; tab.answer says None to
    anything but an image name. A TAB must never print a traceback: whatever goes wrong
    here, click answers instead, as it would have.
    """
    try:
        from inspector.cli.tab import answer

        reply = answer(os.environ)
        if reply is None or sys.stdout is None:
            return
        sys.stdout.buffer.write(reply)  # bytes, as click's completion writes them
        sys.stdout.buffer.flush()
    except KeyboardInterrupt:
        raise
    except Exception:  # the second and last guard: click's path is the fallback
        return
    sys.exit(0)


if __name__ == "__main__":
    main()
