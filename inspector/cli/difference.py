"""--diff: two images compared, printed as a view or as JSON; exit 0 if the same, 1 if not."""

from collections.abc import Iterable

from inspector.cli.output import report, view_settings, write_output
from inspector.errors import ExitCode
from inspector.image import Image


def show_difference(images: Iterable[Image], *, as_json: bool, quiet: bool, color: str) -> int:
    """Compare the two images, as diff(1) answers: 0 the same, 1 different, 2 or more trouble."""
    from inspector.compare import compare

    both = list(images)  # both are needed before anything can be said
    errors = [
        error for image in both for error in (image.error, image.source_error) if error is not None
    ]
    if errors:
        for error in errors:
            report(error)
        # diff(1) keeps 1 for "different": trouble is 2 or more, so a missing image is 2.
        return max(ExitCode.USAGE, *(error.exit_code for error in errors))
    a, b = both
    difference = compare(a, b)
    if not quiet:
        if as_json:
            from inspector.render.diff_json import diff_document

            write_output(diff_document(difference))
        else:
            from inspector.render.diff_view import render_diff

            width, use_color = view_settings(color)
            write_output(render_diff(difference, width=width, color=use_color).encode())
    return ExitCode.OK if difference.same else ExitCode.DIFFERENT
