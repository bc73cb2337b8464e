"""The output forms of --contents, --files and --ci, streamed image by image as the others are.

Each image's layers are merged (and its waste measured) once, here, only for the runs that
ask: contents/ and the renderers these forms use are imported by no other path.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

from inspector.cli.forms import OutputForm, Printed
from inspector.cli.output import view_settings
from inspector.errors import ArchiveError, ImginspectError, SourceError
from inspector.image import Image

if TYPE_CHECKING:
    from inspector.cli.ci import Gate
    from inspector.contents.analysis import Merged, Waste
    from inspector.contents.model import LayerContents


class Analysed:
    """An image's layers, merged and measured on first use; ImginspectError for layers no
    daemon would apply, or a source that read none."""

    def __init__(self, image: Image) -> None:
        self.image = image
        self._merged: Merged | None = None
        self._waste: Waste | None = None

    @property
    def layers(self) -> "tuple[LayerContents, ...]":
        if self.image.contents is None:
            raise ImginspectError(f"{self.image.asked}: the source did not read the image's layers")
        return self.image.contents

    @property
    def merged(self) -> "Merged":
        if self._merged is None:
            from inspector.contents.analysis import merge
            from inspector.contents.model import LayerRefused

            try:
                self._merged = merge(self.layers)
            except LayerRefused as exc:
                raise self._refused(exc) from exc
        return self._merged

    @property
    def waste(self) -> "Waste":
        if self._waste is None:
            from inspector.contents.analysis import waste
            from inspector.contents.model import LayerRefused

            try:
                self._waste = waste(self.layers)
            except LayerRefused as exc:
                raise self._refused(exc) from exc
        return self._waste

    def _refused(self, exc: Exception) -> ImginspectError:
        """Layers that cannot be merged, as the source's fault: an archive named is unusable
        input (exit 2); a daemon or a registry answered something unusable (exit 3)."""
        message = f"{self.image.asked}: {exc}"
        origin = self.image.origin
        if origin is not None and origin.kind != "registry":
            return ArchiveError(message)
        return SourceError(message)


class ContentsForm(OutputForm):
    """A form of --contents, --files or --ci's report; with a gate, each image's broken rules
    are its failures."""

    def __init__(self, gate: "Gate | None") -> None:
        self._gate = gate
        self._failures: list[ImginspectError] = []

    def image(self, image: Image, document: bytes, *, first: bool) -> Printed | None:
        analysed = Analysed(image)
        if self._gate is not None:
            verdicts = self._gate.verdicts(analysed.waste)
            self._failures += self._gate.failures(image, verdicts)
        return self.show(analysed, first=first)

    def show(self, analysed: Analysed, *, first: bool) -> Printed | None:
        return None

    def failures(self) -> list[ImginspectError]:
        found, self._failures = self._failures, []
        return found


class Gated(ContentsForm):
    """Another form (the view, --json, -f, -q) with --ci's gate: its output, and the rules'
    failures on stderr."""

    def __init__(self, inner: OutputForm, gate: "Gate") -> None:
        super().__init__(gate)
        self._inner = inner

    def image(self, image: Image, document: bytes, *, first: bool) -> Printed | None:
        # The rules first: an image the other form fails on (a template's error) is still
        # judged, and both failures are said.
        super().image(image, document, first=first)
        return self._inner.image(image, document, first=first)

    def end(self, printed: int) -> bytes:
        return self._inner.end(printed)


class ContentsViewForm(ContentsForm):
    """--contents: a readable block for each image."""

    def __init__(self, color: str, gate: "Gate | None") -> None:
        super().__init__(gate)
        from inspector.render import contents_view

        self._view = contents_view
        self._width, self._color = view_settings(color)

    def show(self, analysed: Analysed, *, first: bool) -> bytes:
        text = self._view.render_contents(
            analysed.image,
            analysed.merged,
            analysed.waste,
            width=self._width,
            color=self._color,
        )
        return (b"" if first else b"\n") + text.encode()


class ContentsJSONForm(ContentsForm):
    """--contents --json: one array, an object for each image, written in chunks as it is
    made: an image's object can be larger than the entries it is made of."""

    def __init__(self, gate: "Gate | None") -> None:
        super().__init__(gate)
        from inspector.render import contents_json

        self._json = contents_json

    def show(self, analysed: Analysed, *, first: bool) -> Printed:
        image = analysed.image
        return self._json.contents_element(
            image, analysed.merged, analysed.waste, self._json.docker_size(image), first=first
        )

    def end(self, printed: int) -> bytes:
        return self._json.end(empty=not printed)


class Headed(ContentsForm):
    """A form that heads each image's part with `==> IMAGE <==` when a run has several, and
    parts them with a blank line, as head(1) does."""

    def __init__(self, gate: "Gate | None", *, headers: bool) -> None:
        super().__init__(gate)
        self._headers = headers

    def show(self, analysed: Analysed, *, first: bool) -> bytes:
        body = self.body(analysed)
        if not self._headers:
            return body.encode()
        from inspector.terminal import escape_unsafe

        header = f"==> {escape_unsafe(analysed.image.asked)} <==\n"
        return (("" if first else "\n") + header + body).encode()

    def body(self, analysed: Analysed) -> str:
        raise NotImplementedError


class FilesForm(Headed):
    """--files[=PREFIX]: the final filesystem as GNU `tar -tv` lists it; on a terminal, what
    could act on it is shown escaped."""

    def __init__(
        self, prefix: str, gate: "Gate | None", *, headers: bool, on_terminal: bool
    ) -> None:
        super().__init__(gate, headers=headers)
        self._prefix = prefix
        self._escape: Callable[[str], str] | None = None
        if on_terminal:
            from inspector.terminal import escape_unsafe

            self._escape = escape_unsafe

    def body(self, analysed: Analysed) -> str:
        from inspector.contents.listing import tar_lines

        lines = tar_lines(analysed.merged.listing(self._prefix))
        escape = self._escape
        return "".join((escape(line) if escape else line) + "\n" for line in lines)


class GateReportForm(Headed):
    """--ci with no other output asked: dive's CI report of each image."""

    def __init__(self, gate: "Gate", *, headers: bool) -> None:
        super().__init__(gate, headers=headers)
        self._report_gate = gate

    def body(self, analysed: Analysed) -> str:
        from inspector.render.gate_report import gate_report

        waste = analysed.waste
        return gate_report(waste, self._report_gate.verdicts(waste))
