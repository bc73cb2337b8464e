"""Faults between the CLI and the daemon: the real CLI, in a subprocess, against a fake daemon.

Every test runs `python -m inspector` with DOCKER_HOST at a FakeDaemon (tests/fake_daemon.py)
and checks the exit status, the exact stdout bytes and the stderr text. Those that check the
output ask for --json; the view's own faults are tested in tests/view/. conftest.py has the
fixtures these modules share, and fails a test that leaves a thread running.

- test_answers.py: what the daemon answers, from a 404 to a hostile or deeply nested answer
- test_transfer.py: how an answer arrives: its framing, a closed connection, --timeout
- test_input.py: input at fault (exit 2): refused by the daemon, or before any request
- test_reaching.py: sockets and ports that cannot be reached, permissions, one connection
- test_output.py: where the output goes (exit 74, a closed pipe), and Ctrl-C (exit 130)
"""
