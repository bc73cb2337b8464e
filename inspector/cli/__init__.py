"""The command line: the only place that knows click, writes to stdout and stderr, and exits.

Empty on purpose: a TAB answered without click imports `inspector.cli.tab` and
`inspector.cli.option_table`, and must not pay for anything here.
"""
