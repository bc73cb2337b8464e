"""Exit codes and the one error hierarchy; every error knows the code it exits with."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    NOT_FOUND = 1
    USAGE = 2
    DAEMON = 3
    TEMPLATE = 4
    INTERNAL = 70
    OUTPUT = 74
    INTERRUPTED = 130


class ImginspectError(Exception):
    """Base of every error the tool reports as one line on stderr."""

    exit_code = ExitCode.INTERNAL


class UsageError(ImginspectError):
    exit_code = ExitCode.USAGE


class InvalidReference(UsageError):
    pass


class ImageNotFound(ImginspectError):
    exit_code = ExitCode.NOT_FOUND


class DaemonError(ImginspectError):
    """The daemon could not be asked, or answered something unusable."""

    exit_code = ExitCode.DAEMON
    # True when asking again (for the next image) cannot succeed either.
    fatal = False


class DaemonUnreachable(DaemonError):
    fatal = True


class DaemonTLSError(DaemonUnreachable):
    """TLS failed: a certificate or key that cannot be read or used, or a refused handshake."""


class DaemonTimeout(DaemonError):
    fatal = True


class DaemonErrorResponse(DaemonError):
    """The daemon answered with an error status (its own message is the text)."""


class DaemonBadResponse(DaemonError):
    """The daemon answered 2xx with a body that is not what the API promises."""


class OutputError(ImginspectError):
    exit_code = ExitCode.OUTPUT
