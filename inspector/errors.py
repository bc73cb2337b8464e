"""Exit codes and the one error hierarchy; every error knows the code it exits with."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    NOT_FOUND = 1
    DIFFERENT = 1  # --diff, as diff(1) says it: the two images differ
    USAGE = 2
    SOURCE = 3  # a daemon or registry: unreachable, refusing, or answering garbage
    TEMPLATE = 4
    RULE = 5  # --ci: the image broke one of the rules on its wasted space
    INTERNAL = 70
    OUTPUT = 74
    INTERRUPTED = 130


class ImginspectError(Exception):
    """Base of every error the tool reports as one line on stderr."""

    exit_code = ExitCode.INTERNAL
    # True when asking the same source again (for the next image) cannot succeed either.
    fatal = False


class UsageError(ImginspectError):
    exit_code = ExitCode.USAGE


class InvalidReference(UsageError):
    pass


class TemplateSyntaxError(UsageError):
    """A --format template that does not parse: Go's message, then the line and a caret.

    `go_message` is text/template's own one-line wording (`template: :1: unexpected ...`,
    with the line but no column); str() adds the column and the caret under the spot.
    """

    def __init__(self, message: str, *, go_message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.go_message = go_message
        self.line = line
        self.column = column


class TemplateExecError(ImginspectError):
    """A template failed on a value; the text is text/template's, word for word."""

    exit_code = ExitCode.TEMPLATE


class TemplateLimitError(TemplateExecError):
    """A template passed one of imginspect's own bounds (steps, depth, output size).

    docker has no such bounds: the failure says nothing about the value, so `-f` reports it
    as it is instead of running the template again on the raw JSON.
    """


class ImageNotFound(ImginspectError):
    exit_code = ExitCode.NOT_FOUND


class SourceError(ImginspectError):
    """A source of images could not be asked, or answered something unusable (exit 3)."""

    exit_code = ExitCode.SOURCE


class DaemonError(SourceError):
    """The daemon could not be asked, or answered something unusable."""


class DaemonUnreachable(DaemonError):
    fatal = True


class DaemonTLSError(DaemonUnreachable):
    """TLS failed: a certificate or key that cannot be read or used, or a refused handshake."""


class DaemonTimeout(DaemonError):
    fatal = True


class DaemonErrorResponse(DaemonError):
    """The daemon answered with an error status (its own message is the text)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class DaemonBadResponse(DaemonError):
    """The daemon answered 2xx with a body that is not what the API promises."""


class RegistryError(SourceError):
    """A registry could not be asked, or answered something unusable; the text names it."""


class RegistryUnreachable(RegistryError):
    """No connection: refused, no route, a name that does not resolve, a proxy that fails."""


class RegistryTLSError(RegistryUnreachable):
    """TLS failed: a certificate not trusted, a name it does not cover, certs.d unusable."""


class RegistryTimeout(RegistryError):
    """No whole answer within --timeout."""


class RegistryDenied(RegistryError):
    """Unauthorized or denied: no credentials, wrong ones, or none that allow a pull."""


class RegistryErrorResponse(RegistryError):
    """The registry answered with an error status (5xx, or a 4xx that is no "not found")."""


class RegistryBadResponse(RegistryError):
    """An answer that is not what the API promises: garbage, too large, a digest that does not
    match what was asked, a redirect where none belongs."""


class RegistryUnsupported(RegistryError):
    """An answer in a format imginspect does not read (Docker schema 1, an artifact)."""


class RegistryRateLimited(RegistryError):
    """429 Too Many Requests, with no wait that fits in --timeout: the run asks no more."""

    fatal = True


class ArchiveError(UsageError):
    """An archive or layout named on the command line that cannot be read as one."""

    # Exit 2, as a usage error: the input the user named is unusable (missing, not an
    # archive, truncated, corrupt), which no daemon or retry can change.
    exit_code = ExitCode.USAGE


class ArchiveChoiceNeeded(ArchiveError):
    """An archive holding several images, none chosen: the message, then one line for each."""

    def __init__(self, message: str, *, choices: tuple[str, ...]) -> None:
        super().__init__(message)
        self.choices = choices


class RuleBroken(ImginspectError):
    """An image broke a --ci rule (efficiency, wasted bytes, wasted share of its own layers);
    the text says which rule, and by how much."""

    exit_code = ExitCode.RULE


class OutputError(ImginspectError):
    exit_code = ExitCode.OUTPUT
