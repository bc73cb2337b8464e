"""`python -m inspector` and the `imginspect` command: Ctrl-C is exit 130 from the start."""

import os
import sys

from inspector.option_table import COMPLETE_VAR  # generated, a few constants


def main() -> None:
    try:
        if os.environ.get(COMPLETE_VAR):
            # A TAB on an image name needs no click, which takes longer to load than a whole
            # TAB may (issue 8); tab.answer says None to anything else.
            from inspector.tab import answer

            reply = answer(os.environ)
            if reply is not None and sys.stdout is not None:
                sys.stdout.buffer.write(reply)  # bytes, as click's completion writes them
                sys.exit(0)
        from inspector.cli import main as run_command  # click and the rest: a moment to load
    except KeyboardInterrupt:
        sys.exit(130)  # ExitCode.INTERRUPTED, which is not loaded yet
    run_command()


if __name__ == "__main__":
    main()
