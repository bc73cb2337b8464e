"""Go text/template for imginspect --format: lexer, parser, evaluator, functions, Go printing.

`compile_template` parses as `docker image inspect -f` does (docker's functions included) and
raises TemplateSyntaxError; `Template.execute` runs it on a Value and raises TemplateExecError
with text/template's own message.
"""

from dataclasses import dataclass

from inspector.template.evaluate import execute
from inspector.template.functions import BUILTINS, DOCKER_FUNCTIONS, is_function
from inspector.template.parser import Tree, parse
from inspector.template.values import Value


@dataclass(frozen=True)
class Template:
    """A parsed template: the text and its named trees ("" is the one docker executes)."""

    text: str
    trees: dict[str, Tree]

    def execute(self, dot: Value, *, missingkey_error: bool = False) -> str:
        """The output of the template run on dot (docker's `missingkey=error` on request)."""
        return execute(
            self.text,
            self.trees,
            DOCKER_FUNCTIONS,
            BUILTINS,
            dot,
            missingkey_error=missingkey_error,
        )


def compile_template(text: str) -> Template:
    """Parse a template as docker's templates.Parse does; TemplateSyntaxError if it can't."""
    return Template(text, parse(text, is_function))


__all__ = ["Template", "compile_template"]
