"""The view, the default output: what it shows, that daemon strings cannot act on a terminal,
the terminal conventions, its faults, and that no answer from a daemon can break it.

The renderer is called directly with the clock and time zone pinned; the command runs in a
subprocess against a fake daemon (faults, terminals), the test dockerd and the podman service.
The golden files are checked by tests/test_view_golden.py.

- test_parts.py: each part of the view, rendered directly
- test_safety.py: daemon strings shown escaped; no answer breaks the view
- test_terminal.py: colour and width, from the flag, the environment and the terminal
- test_asking.py: what the view asks the daemon, and answers that fail
- test_daemons.py: the view of the test dockerd's and the podman service's images
"""
