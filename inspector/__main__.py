"""`python -m inspector` and the `imginspect` command: Ctrl-C is exit 130 from the start."""

import sys


def main() -> None:
    try:
        from inspector.cli import main as run_command  # click and the rest: a moment to load
    except KeyboardInterrupt:
        sys.exit(130)  # ExitCode.INTERRUPTED, which is not loaded yet
    run_command()


if __name__ == "__main__":
    main()
