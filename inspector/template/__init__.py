"""Go text/template for imginspect --format: lexer, parser, evaluator, functions, Go printing.

`compile_template` parses as `docker image inspect -f` does (docker's functions included) and
raises TemplateSyntaxError; `Template.execute` runs it on a Value and raises TemplateExecError
with text/template's own message.

The parts load as they are needed, so each run pays only for its own: the parser to compile,
the evaluator to run, docker's functions only for a template that names one; the view, which
only borrows Go's duration printing from gotime, loads none of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from inspector.template.parser import Tree
    from inspector.template.values import Func, Value


class Template(NamedTuple):
    """A parsed template: the text and its named trees ("" is the one docker executes).

    `calls_functions` is False for a template that names no function (`{{.Id}}`).
    """

    text: str
    trees: dict[str, Tree]
    calls_functions: bool = True

    def execute(self, dot: Value, *, missingkey_error: bool = False) -> str:
        """The output of the template run on dot (docker's `missingkey=error` on request)."""
        from inspector.template.evaluate import execute

        functions: dict[str, Func] = {}
        builtins: dict[str, Func] = {}
        if self.calls_functions:
            from inspector.template.functions import BUILTINS, DOCKER_FUNCTIONS

            functions, builtins = DOCKER_FUNCTIONS, BUILTINS
        return execute(
            self.text,
            self.trees,
            functions,
            builtins,
            dot,
            missingkey_error=missingkey_error,
        )


def compile_template(text: str) -> Template:
    """Parse a template as docker's templates.Parse does; TemplateSyntaxError if it can't."""
    from inspector.template.parser import parse

    asked: list[str] = []  # the parser asks about each identifier: only one can call a function

    def is_function(name: str) -> bool:
        from inspector.template.functions import is_function as known

        asked.append(name)
        return known(name)

    trees = parse(text, is_function)
    return Template(text, trees, calls_functions=bool(asked))


__all__ = ["Template", "compile_template"]
