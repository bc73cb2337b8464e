"""Go text/template's parser: tokens to a tree of nodes that know their position and text.

The node classes print themselves as Go's parse nodes do (`String()`), since text/template
quotes a node's text in its execution errors (`executing "" at <.Config.Nope>: ...`).
"""

import re
from collections.abc import Callable
from typing import NamedTuple

from inspector.errors import TemplateSyntaxError
from inspector.template.gofmt import quote
from inspector.template.lexer import LEFT_DELIM, RIGHT_DELIM, Lexer, T, Token
from inspector.template.values import go_bytes

# Nesting of parentheses and of if/range/with/define blocks. Go allows 10000 parentheses and
# unbounded blocks; the evaluator recurses once per level, so this keeps Python's stack safe.
MAX_NESTING = 100
MAX_TEMPLATE_SIZE = 256 << 10  # characters of template text: parsing the most takes seconds
MAX_PIPELINE_COMMANDS = 100_000  # Go's maxPipelineCmds


# -- nodes ------------------------------------------------------------------------------------


class Node:
    """A parse node; `pos` indexes the template text."""

    __slots__ = ("pos",)

    def __init__(self, pos: int) -> None:
        self.pos = pos

    def __str__(self) -> str:
        parts: list[str] = []
        self.write_to(parts)
        return "".join(parts)

    def write_to(self, parts: list[str]) -> None:
        raise NotImplementedError


class ListNode(Node):
    __slots__ = ("nodes",)

    def __init__(self, pos: int) -> None:
        super().__init__(pos)
        self.nodes: list[Node] = []

    def write_to(self, parts: list[str]) -> None:
        for node in self.nodes:
            node.write_to(parts)


class TextNode(Node):
    __slots__ = ("text",)

    def __init__(self, pos: int, text: str) -> None:
        super().__init__(pos)
        self.text = text

    def write_to(self, parts: list[str]) -> None:
        parts.append(self.text)


class CommentNode(Node):
    __slots__ = ("text",)

    def __init__(self, pos: int, text: str) -> None:
        super().__init__(pos)
        self.text = text

    def write_to(self, parts: list[str]) -> None:
        parts.extend((LEFT_DELIM, self.text, RIGHT_DELIM))


class IdentifierNode(Node):
    __slots__ = ("ident",)

    def __init__(self, pos: int, ident: str) -> None:
        super().__init__(pos)
        self.ident = ident

    def write_to(self, parts: list[str]) -> None:
        parts.append(self.ident)


class VariableNode(Node):
    """`$x.Field`: ident is the variable's name (with the `$`) then the field names."""

    __slots__ = ("ident",)

    def __init__(self, pos: int, ident: str) -> None:
        super().__init__(pos)
        self.ident = ident.split(".")

    def write_to(self, parts: list[str]) -> None:
        parts.append(".".join(self.ident))


class DotNode(Node):
    __slots__ = ()

    def write_to(self, parts: list[str]) -> None:
        parts.append(".")


class NilNode(Node):
    __slots__ = ()

    def write_to(self, parts: list[str]) -> None:
        parts.append("nil")


class FieldNode(Node):
    """`.A.B`: ident is ["A", "B"]."""

    __slots__ = ("ident",)

    def __init__(self, pos: int, ident: str) -> None:
        super().__init__(pos)
        self.ident = ident[1:].split(".")

    def write_to(self, parts: list[str]) -> None:
        for name in self.ident:
            parts.extend((".", name))


class ChainNode(Node):
    """A term followed by fields: `(index .X 0).Y`, `$.Z` is a VariableNode instead."""

    __slots__ = ("fields", "node")

    def __init__(self, pos: int, node: Node) -> None:
        super().__init__(pos)
        self.node = node
        self.fields: list[str] = []

    def write_to(self, parts: list[str]) -> None:
        if isinstance(self.node, PipeNode):
            parts.append("(")
            self.node.write_to(parts)
            parts.append(")")
        else:
            self.node.write_to(parts)
        for name in self.fields:
            parts.extend((".", name))


class BoolNode(Node):
    __slots__ = ("value",)

    def __init__(self, pos: int, value: bool) -> None:
        super().__init__(pos)
        self.value = value

    def write_to(self, parts: list[str]) -> None:
        parts.append("true" if self.value else "false")


class NumberNode(Node):
    """A number constant, with every Go type its value fits (Go's ideal constants)."""

    __slots__ = (
        "complex",
        "float",
        "int",
        "is_complex",
        "is_float",
        "is_int",
        "is_uint",
        "text",
        "uint",
    )

    def __init__(self, pos: int, text: str) -> None:
        super().__init__(pos)
        self.text = text
        self.is_int = self.is_uint = self.is_float = self.is_complex = False
        self.int = 0
        self.uint = 0
        self.float = 0.0
        self.complex = 0j

    def write_to(self, parts: list[str]) -> None:
        parts.append(self.text)


class StringNode(Node):
    __slots__ = ("quoted", "text")

    def __init__(self, pos: int, quoted: str, text: str) -> None:
        super().__init__(pos)
        self.quoted = quoted
        self.text = text

    def write_to(self, parts: list[str]) -> None:
        parts.append(self.quoted)


class CommandNode(Node):
    __slots__ = ("args",)

    def __init__(self, pos: int) -> None:
        super().__init__(pos)
        self.args: list[Node] = []

    def write_to(self, parts: list[str]) -> None:
        for i, arg in enumerate(self.args):
            if i:
                parts.append(" ")
            if isinstance(arg, PipeNode):
                parts.append("(")
                arg.write_to(parts)
                parts.append(")")
            else:
                arg.write_to(parts)


class PipeNode(Node):
    __slots__ = ("cmds", "decl", "is_assign", "line")

    def __init__(self, pos: int, line: int) -> None:
        super().__init__(pos)
        self.line = line
        self.is_assign = False
        self.decl: list[VariableNode] = []
        self.cmds: list[CommandNode] = []

    def write_to(self, parts: list[str]) -> None:
        if self.decl:
            parts.append(", ".join(str(v) for v in self.decl))
            parts.append(" = " if self.is_assign else " := ")
        for i, cmd in enumerate(self.cmds):
            if i:
                parts.append(" | ")
            cmd.write_to(parts)


class ActionNode(Node):
    __slots__ = ("line", "pipe")

    def __init__(self, pos: int, line: int, pipe: PipeNode) -> None:
        super().__init__(pos)
        self.line = line
        self.pipe = pipe

    def write_to(self, parts: list[str]) -> None:
        parts.append(LEFT_DELIM)
        self.pipe.write_to(parts)
        parts.append(RIGHT_DELIM)


class BranchNode(Node):
    """if, range and with."""

    __slots__ = ("else_list", "line", "list", "pipe")
    keyword = ""

    def __init__(
        self, pos: int, line: int, pipe: PipeNode, list_: ListNode, else_list: ListNode | None
    ) -> None:
        super().__init__(pos)
        self.line = line
        self.pipe = pipe
        self.list = list_
        self.else_list = else_list

    def write_to(self, parts: list[str]) -> None:
        parts.extend((LEFT_DELIM, self.keyword, " "))
        self.pipe.write_to(parts)
        parts.append(RIGHT_DELIM)
        self.list.write_to(parts)
        if self.else_list is not None:
            parts.extend((LEFT_DELIM, "else", RIGHT_DELIM))
            self.else_list.write_to(parts)
        parts.extend((LEFT_DELIM, "end", RIGHT_DELIM))


class IfNode(BranchNode):
    __slots__ = ()
    keyword = "if"


class RangeNode(BranchNode):
    __slots__ = ()
    keyword = "range"


class WithNode(BranchNode):
    __slots__ = ()
    keyword = "with"


class BreakNode(Node):
    __slots__ = ("line",)

    def __init__(self, pos: int, line: int) -> None:
        super().__init__(pos)
        self.line = line

    def write_to(self, parts: list[str]) -> None:
        parts.append(LEFT_DELIM + "break" + RIGHT_DELIM)


class ContinueNode(Node):
    __slots__ = ("line",)

    def __init__(self, pos: int, line: int) -> None:
        super().__init__(pos)
        self.line = line

    def write_to(self, parts: list[str]) -> None:
        parts.append(LEFT_DELIM + "continue" + RIGHT_DELIM)


class TemplateNode(Node):
    __slots__ = ("line", "name", "pipe")

    def __init__(self, pos: int, line: int, name: str, pipe: PipeNode | None) -> None:
        super().__init__(pos)
        self.line = line
        self.name = name
        self.pipe = pipe

    def write_to(self, parts: list[str]) -> None:
        parts.extend((LEFT_DELIM, "template ", quote(self.name)))
        if self.pipe is not None:
            parts.append(" ")
            self.pipe.write_to(parts)
        parts.append(RIGHT_DELIM)


class _EndNode(Node):
    __slots__ = ()

    def write_to(self, parts: list[str]) -> None:
        parts.append(LEFT_DELIM + "end" + RIGHT_DELIM)


class _ElseNode(Node):
    __slots__ = ("line",)

    def __init__(self, pos: int, line: int) -> None:
        super().__init__(pos)
        self.line = line

    def write_to(self, parts: list[str]) -> None:
        parts.append(LEFT_DELIM + "else" + RIGHT_DELIM)


# -- positions ----------------------------------------------------------------------------


def location(text: str, pos: int) -> tuple[int, int]:
    """Go's line and column of a position: the column counts bytes from the line's start."""
    line_start = text.rfind("\n", 0, pos) + 1
    return text.count("\n", 0, pos) + 1, len(go_bytes(text[line_start:pos]))


CARET_CONTEXT = 60  # characters shown on each side of the spot on a long line


def caret(text: str, pos: int) -> str:
    """The line holding a position (cut around it when long) and a caret under the spot."""
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    if line_end < 0:
        line_end = len(text)
    start = max(line_start, pos - CARET_CONTEXT)
    end = min(line_end, pos + CARET_CONTEXT)
    before = "..." if start > line_start else ""
    after = "..." if end < line_end else ""
    pad = "".join("\t" if char == "\t" else " " for char in before + text[start:pos])
    return f"{before}{text[start:end]}{after}\n{pad}^"


# -- the parser ---------------------------------------------------------------------------


class Tree(NamedTuple):
    """One named template's body."""

    name: str
    root: ListNode


class _ParseState:
    """What is shared by the main template's parse and the definitions inside it."""

    __slots__ = ("functions", "lexer", "peek_count", "text", "token", "trees")

    def __init__(self, text: str, lexer: Lexer, functions: Callable[[str], bool]) -> None:
        self.text = text
        self.lexer = lexer
        self.functions = functions
        self.trees: dict[str, Tree] = {}
        self.token: list[Token] = []  # three-token lookahead, as Go's
        self.peek_count = 0


class _Parser:
    def __init__(self, state: _ParseState, name: str) -> None:
        self.s = state
        self.name = name
        self.vars = ["$"]
        self.action_line = 0
        self.range_depth = 0
        self.depth = 0

    # -- tokens -----------------------------------------------------------------------------

    def next(self) -> Token:
        s = self.s
        if s.peek_count > 0:
            s.peek_count -= 1
        else:
            s.token[0] = s.lexer.next_token()
        return s.token[s.peek_count]

    def backup(self) -> None:
        self.s.peek_count += 1

    def backup2(self, t1: Token) -> None:
        self.s.token[1] = t1
        self.s.peek_count = 2

    def backup3(self, t2: Token, t1: Token) -> None:
        self.s.token[1] = t1
        self.s.token[2] = t2
        self.s.peek_count = 3

    def peek(self) -> Token:
        s = self.s
        if s.peek_count > 0:
            return s.token[s.peek_count - 1]
        s.peek_count = 1
        s.token[0] = s.lexer.next_token()
        return s.token[0]

    def next_non_space(self) -> Token:
        while True:
            token = self.next()
            if token.typ != T.SPACE:
                return token

    def peek_non_space(self) -> Token:
        token = self.next_non_space()
        self.backup()
        return token

    # -- errors -----------------------------------------------------------------------------

    def error(self, message: str) -> TemplateSyntaxError:
        token = self.s.token[0]
        go_message = f"template: {self.name_for_errors}:{token.line}: {message}"
        line, column = location(self.s.text, min(token.pos, len(self.s.text)))
        text = f"template: {self.name_for_errors}:{line}:{column}: {message}\n" + caret(
            self.s.text, min(token.pos, len(self.s.text))
        )
        return TemplateSyntaxError(text, go_message=go_message, line=line, column=column)

    name_for_errors = ""  # Go's ParseName: the top-level template's name, "" for docker

    def expect(self, expected: int, context: str) -> Token:
        token = self.next_non_space()
        if token.typ is not expected:
            raise self.unexpected(token, context)
        return token

    def unexpected(self, token: Token, context: str) -> TemplateSyntaxError:
        if token.typ == T.ERROR:
            extra = ""
            if self.action_line not in (0, token.line):
                extra = f" in action started at {self.name_for_errors}:{self.action_line}"
                if token.val.endswith(" action"):
                    extra = extra[len(" in action") :]
            return self.error(f"{token}{extra}")
        return self.error(f"unexpected {token} in {context}")

    # -- structure ----------------------------------------------------------------------

    def parse(self) -> None:
        """The top-level template: text and actions to EOF, with {{define}}s."""
        root = ListNode(self.peek().pos)
        while self.peek().typ != T.EOF:
            if self.peek().typ == T.LEFT_DELIM:
                delim = self.next()
                if self.next_non_space().typ == T.DEFINE:
                    _Parser(self.s, "definition").parse_definition()
                    continue
                self.backup2(delim)
            node = self.text_or_action()
            if isinstance(node, _EndNode | _ElseNode):
                raise self.error(f"unexpected {node}")
            root.nodes.append(node)
        self.add(root)

    def add(self, root: ListNode) -> None:
        existing = self.s.trees.get(self.name)
        if existing is None or is_empty_tree(existing.root):
            self.s.trees[self.name] = Tree(self.name, root)
            return
        if not is_empty_tree(root):
            raise self.error(f"template: multiple definition of template {quote(self.name)}")

    def parse_definition(self) -> None:
        context = "define clause"
        token = self.next_non_space()
        if token.typ not in (T.STRING, T.RAW_STRING):
            raise self.unexpected(token, context)
        self.name = self.unquote(token.val)
        self.expect(T.RIGHT_DELIM, context)
        root, end = self.item_list()
        if not isinstance(end, _EndNode):
            raise self.error(f"unexpected {end} in {context}")
        self.add(root)

    def item_list(self) -> tuple[ListNode, Node]:
        """textOrAction* up to {{end}} or {{else}}, which is returned separately."""
        nodes = ListNode(self.peek_non_space().pos)
        while self.peek_non_space().typ != T.EOF:
            node = self.text_or_action()
            if isinstance(node, _EndNode | _ElseNode):
                return nodes, node
            nodes.nodes.append(node)
        raise self.error("unexpected EOF")

    def text_or_action(self) -> Node:
        token = self.next_non_space()
        if token.typ == T.TEXT:
            return TextNode(token.pos, token.val)
        if token.typ == T.LEFT_DELIM:
            self.action_line = token.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        raise self.unexpected(token, "input")

    def action(self) -> Node:
        token = self.next_non_space()
        typ = token.typ
        if typ == T.BLOCK:
            return self.block_control()
        if typ == T.BREAK:
            return self.break_control(token, "{{break}}", BreakNode)
        if typ == T.CONTINUE:
            return self.break_control(token, "{{continue}}", ContinueNode)
        if typ == T.ELSE:
            return self.else_control()
        if typ == T.END:
            return _EndNode(self.expect(T.RIGHT_DELIM, "end").pos)
        if typ == T.IF:
            return IfNode(*self.parse_control("if"))
        if typ == T.RANGE:
            return RangeNode(*self.parse_control("range"))
        if typ == T.TEMPLATE:
            return self.template_control()
        if typ == T.WITH:
            return WithNode(*self.parse_control("with"))
        self.backup()
        token = self.peek()
        return ActionNode(token.pos, token.line, self.pipeline("command", T.RIGHT_DELIM))

    def break_control(
        self, keyword: Token, context: str, node: type[BreakNode | ContinueNode]
    ) -> Node:
        token = self.next_non_space()
        if token.typ != T.RIGHT_DELIM:
            raise self.unexpected(token, context)
        if self.range_depth == 0:
            raise self.error(f"{context} outside {{{{range}}}}")
        return node(keyword.pos, keyword.line)

    def else_control(self) -> Node:
        peek = self.peek_non_space()
        if peek.typ in (T.IF, T.WITH):  # {{else if}}, {{else with}}: the if/with is pending
            return _ElseNode(peek.pos, peek.line)
        token = self.expect(T.RIGHT_DELIM, "else")
        return _ElseNode(token.pos, token.line)

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"max nesting depth exceeded ({MAX_NESTING})")

    def parse_control(self, context: str) -> tuple[int, int, PipeNode, ListNode, ListNode | None]:
        saved_vars = len(self.vars)
        self.nest()
        try:
            pipe = self.pipeline(context, T.RIGHT_DELIM)
            if context == "range":
                self.range_depth += 1
            list_, next_ = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_list = None
            if isinstance(next_, _ElseNode):
                # {{if a}}x{{else if b}}y{{end}} is {{if a}}x{{else}}{{if b}}y{{end}}{{end}}
                if context == "if" and self.peek().typ == T.IF:
                    self.next()
                    else_list = ListNode(next_.pos)
                    else_list.nodes.append(IfNode(*self.parse_control("if")))
                elif context == "with" and self.peek().typ == T.WITH:
                    self.next()
                    else_list = ListNode(next_.pos)
                    else_list.nodes.append(WithNode(*self.parse_control("with")))
                else:
                    else_list, next_ = self.item_list()
                    if not isinstance(next_, _EndNode):
                        raise self.error(f"expected end; found {next_}")
            return pipe.pos, pipe.line, pipe, list_, else_list
        finally:
            self.depth -= 1
            del self.vars[saved_vars:]

    def block_control(self) -> Node:
        context = "block clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        pipe = self.pipeline(context, T.RIGHT_DELIM)
        block = _Parser(self.s, name)
        block.depth = self.depth
        block.nest()
        root, end = block.item_list()
        if not isinstance(end, _EndNode):
            raise self.error(f"unexpected {end} in {context}")
        block.add(root)
        return TemplateNode(token.pos, token.line, name, pipe)

    def template_control(self) -> Node:
        context = "template clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        pipe = None
        if self.next_non_space().typ != T.RIGHT_DELIM:
            self.backup()
            pipe = self.pipeline(context, T.RIGHT_DELIM)
        return TemplateNode(token.pos, token.line, name, pipe)

    def template_name(self, token: Token, context: str) -> str:
        if token.typ in (T.STRING, T.RAW_STRING):
            return self.unquote(token.val)
        raise self.unexpected(token, context)

    # -- pipelines ----------------------------------------------------------------------

    def pipeline(self, context: str, end: int) -> PipeNode:
        token = self.peek_non_space()
        pipe = PipeNode(token.pos, token.line)
        while True:  # declarations, possibly two in a range
            v = self.peek_non_space()
            if v.typ != T.VARIABLE:
                break
            self.next()
            # "$x foo" is an argument, "$x :=" a declaration: three tokens of lookahead.
            after_variable = self.peek()
            next_ = self.peek_non_space()
            if next_.typ in (T.ASSIGN, T.DECLARE):
                pipe.is_assign = next_.typ == T.ASSIGN
                self.next_non_space()
                pipe.decl.append(VariableNode(v.pos, v.val))
                self.vars.append(v.val)
            elif next_.typ == T.CHAR and next_.val == ",":
                self.next_non_space()
                pipe.decl.append(VariableNode(v.pos, v.val))
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (T.VARIABLE, T.RIGHT_DELIM, T.RIGHT_PAREN):
                        continue  # the second variable of a range
                    raise self.error("range can only initialize variables")
                raise self.error(f"too many declarations in {context}")
            elif after_variable.typ == T.SPACE:
                self.backup3(v, after_variable)
            else:
                self.backup2(v)
            break
        while True:
            token = self.next_non_space()
            if token.typ is end:
                self.check_pipeline(pipe, context)
                return pipe
            if token.typ in _OPERAND_STARTS:
                self.backup()
                pipe.cmds.append(self.command())
                if len(pipe.cmds) > MAX_PIPELINE_COMMANDS:
                    raise self.error("pipeline too long")
            else:
                raise self.unexpected(token, context)

    def check_pipeline(self, pipe: PipeNode, context: str) -> None:
        if not pipe.cmds:
            raise self.error(f"missing value for {context}")
        for i, cmd in enumerate(pipe.cmds[1:]):
            if isinstance(cmd.args[0], BoolNode | DotNode | NilNode | NumberNode | StringNode):
                raise self.error(f"non executable command in pipeline stage {i + 2}")

    def command(self) -> CommandNode:
        cmd = CommandNode(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            token = self.next()
            if token.typ == T.SPACE:
                continue
            if token.typ in (T.RIGHT_DELIM, T.RIGHT_PAREN):
                self.backup()
            elif token.typ != T.PIPE:
                raise self.unexpected(token, "operand")
            break
        if not cmd.args:
            raise self.error("empty command")
        return cmd

    def operand(self) -> Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == T.FIELD:
            chain = ChainNode(self.peek().pos, node)
            while self.peek().typ == T.FIELD:
                chain.fields.append(self.next().val[1:])
            # Fields after a field or a variable extend it; literals can't have fields.
            if isinstance(node, FieldNode):
                return FieldNode(chain.pos, str(chain))
            if isinstance(node, VariableNode):
                return VariableNode(chain.pos, str(chain))
            if isinstance(node, BoolNode | StringNode | NumberNode | NilNode | DotNode):
                raise self.error(f"unexpected . after term {quote(str(node))}")
            return chain
        return node

    def term(self) -> Node | None:
        token = self.next_non_space()
        typ = token.typ
        if typ == T.IDENTIFIER:
            if not self.s.functions(token.val):
                raise self.error(f"function {quote(token.val)} not defined")
            return IdentifierNode(token.pos, token.val)
        if typ == T.DOT:
            return DotNode(token.pos)
        if typ == T.NIL:
            return NilNode(token.pos)
        if typ == T.VARIABLE:
            return self.use_var(token)
        if typ == T.FIELD:
            return FieldNode(token.pos, token.val)
        if typ == T.BOOL:
            return BoolNode(token.pos, token.val == "true")
        if typ in (T.CHAR_CONSTANT, T.COMPLEX, T.NUMBER):
            return self.number(token)
        if typ == T.LEFT_PAREN:
            self.nest()
            try:
                return self.pipeline("parenthesized pipeline", T.RIGHT_PAREN)
            finally:
                self.depth -= 1
        if typ in (T.STRING, T.RAW_STRING):
            return StringNode(token.pos, token.val, self.unquote(token.val))
        self.backup()
        return None

    def use_var(self, token: Token) -> Node:
        node = VariableNode(token.pos, token.val)
        if node.ident[0] not in self.vars:
            raise self.error(f"undefined variable {quote(node.ident[0])}")
        return node

    # -- literals -------------------------------------------------------------------------

    def unquote(self, literal: str) -> str:
        try:
            return unquote(literal)
        except ValueError as exc:
            raise self.error(str(exc)) from None

    def number(self, token: Token) -> NumberNode:
        try:
            return parse_number(token.pos, token.val, token.typ)
        except ValueError as exc:
            raise self.error(str(exc)) from None


_OPERAND_STARTS = frozenset(
    (
        T.BOOL,
        T.CHAR_CONSTANT,
        T.COMPLEX,
        T.DOT,
        T.FIELD,
        T.IDENTIFIER,
        T.NUMBER,
        T.NIL,
        T.RAW_STRING,
        T.STRING,
        T.VARIABLE,
        T.LEFT_PAREN,
    )
)


def is_empty_tree(node: Node) -> bool:
    """Whether a template body is nothing but space and comments."""
    if isinstance(node, ListNode):
        return all(is_empty_tree(n) for n in node.nodes)
    if isinstance(node, TextNode):
        return not node.text.strip(" \t\n\r\v\f\x85\xa0")
    return isinstance(node, CommentNode)


# -- Go's strconv: Unquote, UnquoteChar, ParseInt, ParseFloat -----------------------------

_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
}
_HEX = "0123456789abcdefABCDEF"


def unquote_char(text: str, pos: int, quote_char: str) -> tuple[str, int]:
    """Go's strconv.UnquoteChar at text[pos]: the character (a byte escape as a surrogate
    escape) and the position after it; ValueError("invalid syntax") when malformed."""
    char = text[pos]
    if char == quote_char and quote_char in "'\"":
        raise ValueError("invalid syntax")
    if char != "\\":
        return char, pos + 1
    if pos + 1 >= len(text):
        raise ValueError("invalid syntax")
    esc = text[pos + 1]
    pos += 2
    if esc in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[esc], pos
    if esc in "xuU":
        size = {"x": 2, "u": 4, "U": 8}[esc]
        digits = text[pos : pos + size]
        if len(digits) < size or any(d not in _HEX for d in digits):
            raise ValueError("invalid syntax")
        value = int(digits, 16)
        if esc == "x":
            return _byte_char(value), pos + size
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise ValueError("invalid syntax")
        return chr(value), pos + size
    if "0" <= esc <= "7":
        digits = text[pos - 1 : pos + 2]
        if len(digits) < 3 or any(not "0" <= d <= "7" for d in digits):
            raise ValueError("invalid syntax")
        value = int(digits, 8)
        if value > 255:
            raise ValueError("invalid syntax")
        return _byte_char(value), pos + 2
    if esc in "'\"":
        if esc != quote_char:
            raise ValueError("invalid syntax")
        return esc, pos
    raise ValueError("invalid syntax")


def _byte_char(value: int) -> str:
    """One byte of a Go string as Python text: ASCII as is, others as a surrogate escape."""
    return chr(value) if value < 0x80 else chr(0xDC00 + value)


def unquote(literal: str) -> str:
    """Go's strconv.Unquote of a "..." or `...` literal (ValueError("invalid syntax"))."""
    if len(literal) < 2 or literal[0] != literal[-1] or literal[0] not in "\"`'":
        raise ValueError("invalid syntax")
    body = literal[1:-1]
    if literal[0] == "`":
        if "`" in body:
            raise ValueError("invalid syntax")
        return body.replace("\r", "")
    if literal[0] == "'":
        raise ValueError("invalid syntax")
    if "\n" in body:
        raise ValueError("invalid syntax")
    if "\\" not in body and '"' not in body:
        return body
    out: list[str] = []
    pos = 0
    while pos < len(body):
        char, pos = unquote_char(body, pos, '"')
        out.append(char)
    return _join_bytes(out)


def _join_bytes(chars: list[str]) -> str:
    """Join characters where byte escapes may together form valid UTF-8 (`\\xc3\\xa9` is é)."""
    text = "".join(chars)
    if any("\udc80" <= c <= "\udcff" for c in chars):
        return go_bytes(text).decode("utf-8", "surrogateescape")
    return text


# Patterns stay strings: re compiles (and caches) them on first use, not at import.
_DECIMAL = r"[0-9]+(_[0-9]+)*"
_PREFIXED = {
    "x": (16, r"_?[0-9a-fA-F]+(_[0-9a-fA-F]+)*"),
    "o": (8, r"_?[0-7]+(_[0-7]+)*"),
    "b": (2, r"_?[01]+(_[01]+)*"),
}
_OCTAL = r"_?[0-7]+(_[0-7]+)*"


def parse_go_int(text: str) -> int | None:
    """Go's strconv.ParseInt(text, 0, 64) without the range check: None when not an integer."""
    body = text
    sign = 1
    if body[:1] in ("+", "-"):
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if len(body) >= 2 and body[0] == "0" and body[1].lower() in _PREFIXED:
        base, pattern = _PREFIXED[body[1].lower()]
        digits = body[2:]
    elif len(body) >= 2 and body[0] == "0":
        base, pattern, digits = 8, _OCTAL, body[1:]
    else:
        base, pattern, digits = 10, _DECIMAL, body
    if not re.fullmatch(pattern, digits):
        return None
    return sign * int(digits.replace("_", ""), base)


_FLOAT_DECIMAL = (
    r"[+-]?(?:[0-9]+(?:_[0-9]+)*(?:\.(?:[0-9]+(?:_[0-9]+)*)?)?|\.[0-9]+(?:_[0-9]+)*)"
    r"(?:[eE][+-]?[0-9]+(?:_[0-9]+)*)?"
)
_FLOAT_HEX = (
    r"([+-]?)0[xX](_?[0-9a-fA-F]+(?:_[0-9a-fA-F]+)*)?(?:\.([0-9a-fA-F]+(?:_[0-9a-fA-F]+)*)?)?"
    r"[pP]([+-]?[0-9]+(?:_[0-9]+)*)"
)


def parse_go_float(text: str) -> float | None:
    """Go's strconv.ParseFloat(text, 64): None when malformed or out of range."""
    if re.fullmatch(_FLOAT_DECIMAL, text):  # the pattern puts underscores only between digits
        value = float(text.replace("_", ""))
    else:
        match = re.fullmatch(_FLOAT_HEX, text)
        if match is None or (match[2] is None and match[3] is None):
            return None
        mantissa = (
            int(((match[2] or "") + (match[3] or "")).replace("_", ""), 16)
            if (match[2] or match[3])
            else 0
        )
        exponent = int(match[4].replace("_", "")) - 4 * len((match[3] or "").replace("_", ""))
        try:
            value = float(mantissa) * 2.0**exponent if mantissa else 0.0
        except OverflowError:
            return None
        if match[1] == "-":
            value = -value
    if value in (float("inf"), float("-inf")):
        return None
    return value


def parse_number(pos: int, text: str, typ: int) -> NumberNode:
    """A number literal with every Go type it fits, as Go's parse.newNumber works it out."""
    node = NumberNode(pos, text)
    if typ == T.CHAR_CONSTANT:
        char, end = unquote_char(text, 1, "'")
        if text[end:] != "'":
            raise ValueError(f"malformed character constant: {text}")
        code = ord(char) - 0xDC00 if "\udc80" <= char <= "\udcff" else ord(char)
        node.int = node.uint = code
        node.float = float(code)
        node.is_int = node.is_uint = node.is_float = True
        return node
    if typ == T.COMPLEX:
        value = parse_go_complex(text)
        if value is None:
            raise ValueError(f"expected integer; found {text}")
        node.is_complex = True
        node.complex = value
        _simplify_complex(node)
        return node
    if text.endswith("i"):
        imaginary = parse_go_float(text[:-1])
        if imaginary is None and parse_go_int(text[:-1]) is not None:
            imaginary = float(parse_go_int(text[:-1]) or 0)
        if imaginary is not None:
            node.is_complex = True
            node.complex = complex(0, imaginary)
            _simplify_complex(node)
            return node
    integer = parse_go_int(text)
    if integer is not None:
        if 0 <= integer < 1 << 64:
            node.is_uint, node.uint = True, integer
        if -(1 << 63) <= integer < 1 << 63:
            node.is_int, node.int = True, integer
            if integer == 0:
                node.is_uint, node.uint = True, 0
    if node.is_int:
        node.is_float, node.float = True, float(node.int)
    elif node.is_uint:
        node.is_float, node.float = True, float(node.uint)
    else:
        value = parse_go_float(text)
        if value is not None:
            if not any(c in text for c in ".eEpP"):
                raise ValueError(f"integer overflow: {quote(text)}")
            node.is_float, node.float = True, value
            if value.is_integer() and -(2.0**63) <= value < 2.0**63:
                node.is_int, node.int = True, int(value)
            if value.is_integer() and 0 <= value < 2.0**64:
                node.is_uint, node.uint = True, int(value)
    if not (node.is_int or node.is_uint or node.is_float):
        raise ValueError(f"illegal number syntax: {quote(text)}")
    return node


def parse_go_complex(text: str) -> complex | None:
    """`1+2i` as fmt.Sscan reads a complex128."""
    match = re.fullmatch(r"([+-]?[^+-]+(?:[eEpP][+-][0-9_]+)?)([+-].+)i", text)
    if match is None:
        return None
    real, imaginary = parse_go_float(match[1]), parse_go_float(match[2])
    if real is None or imaginary is None:
        return None
    return complex(real, imaginary)


def _simplify_complex(node: NumberNode) -> None:
    node.is_float = node.complex.imag == 0
    if node.is_float:
        node.float = node.complex.real
        node.is_int = node.float.is_integer() and -(2.0**63) <= node.float < 2.0**63
        if node.is_int:
            node.int = int(node.float)
        node.is_uint = node.float.is_integer() and 0 <= node.float < 2.0**64
        if node.is_uint:
            node.uint = int(node.float)


# -- entry point ----------------------------------------------------------------------------


def parse(text: str, is_function: Callable[[str], bool]) -> dict[str, Tree]:
    """The template "" and every template it defines, or TemplateSyntaxError."""
    state = _ParseState(text, Lexer(text), is_function)
    state.token = [Token(T.EOF, 0, "", 1)] * 3
    parser = _Parser(state, "")
    if len(text) > MAX_TEMPLATE_SIZE:
        raise TemplateSyntaxError(
            f"template: :1:0: template too large ({len(text)} characters; "
            f"at most {MAX_TEMPLATE_SIZE})",
            go_message=f"template: :1: template too large ({len(text)} characters)",
            line=1,
            column=0,
        )
    parser.parse()
    return state.trees
