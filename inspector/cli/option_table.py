# Generated from the click command by scripts/generate; do not edit.
"""The command's options as data, for answering a TAB without click (inspector/cli/tab.py)."""

# What the completion scripts set to ask for candidates (as click's Command names it).
COMPLETE_VAR = "_IMGINSPECT_COMPLETE"
# Each option that takes one value, and the parameter it sets.
VALUE_OPTIONS = {
    "--ci-config": "ci_config",
    "--color": "color",
    "--context": "context",
    "--filter": "filters",
    "--format": "template",
    "--highest-user-wasted-percent": "highest_user_wasted_percent",
    "--highest-wasted-bytes": "highest_wasted_bytes",
    "--host": "host",
    "--insecure-registry": "insecure_registries",
    "--lowest-efficiency": "lowest_efficiency",
    "--platform": "platform",
    "--timeout": "timeout",
    "--tlscacert": "tlscacert",
    "--tlscert": "tlscert",
    "--tlskey": "tlskey",
    "-H": "host",
    "-f": "template",
}
# The options that take no value.
FLAGS = (
    "--all",
    "--ci",
    "--contents",
    "--debug",
    "--diff",
    "--files",
    "--help",
    "--json",
    "--manifests",
    "--quiet",
    "--tls",
    "--tlsverify",
    "--version",
    "-h",
    "-q",
)
