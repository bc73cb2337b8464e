"""`python -m inspector` and the `imginspect` command: Ctrl-C is exit 130 from the start."""

import os
import sys

from inspector.cli.option_table import COMPLETE_VAR  # generated, a few constants


def main() -> None:
    try:
        if os.environ.get(COMPLETE_VAR):
            from inspector.cli.tab import answer_or_return

            answer_or_return(os.environ)  # exits once answered; click answers the rest
        from inspector.cli.main import main as run_command  # click and the rest: a moment
    except KeyboardInterrupt:
        sys.exit(130)  # ExitCode.INTERRUPTED, which is not loaded yet
    run_command()


if __name__ == "__main__":
    main()
