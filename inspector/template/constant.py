"""Which parts of a parse tree give the same output and the same error wherever they run.

The evaluator runs the body of a range over an integer once and repeats its output when the
body is constant: it reads neither dot nor any variable, declares and assigns none, calls no
template, breaks and continues nothing, and calls only functions whose result depends on their
arguments alone. Anything else is not constant: a body that might differ between iterations is
run every time.
"""

from inspector.template.parser import (
    ActionNode,
    BoolNode,
    BranchNode,
    CommandNode,
    CommentNode,
    IdentifierNode,
    ListNode,
    NilNode,
    Node,
    NumberNode,
    PipeNode,
    StringNode,
    TextNode,
)

# text/template's builtins but `call` (whose function comes from its arguments) and docker's
# functions: each result is a function of the arguments only.
PURE_FUNCTIONS = frozenset(
    {
        "and",
        "or",
        "not",
        "len",
        "index",
        "slice",
        "print",
        "printf",
        "println",
        "html",
        "js",
        "urlquery",
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "json",
        "split",
        "join",
        "title",
        "lower",
        "upper",
        "pad",
        "truncate",
    }
)
_LITERALS = (BoolNode, NilNode, NumberNode, StringNode)


def is_constant_list(node: ListNode | None, known: dict[int, bool]) -> bool:
    """Whether running the list prints the same and fails the same, whatever dot and the
    variables hold and however often it runs (an absent list is constant). `known` keeps the
    answers by id of the list, so that each list is looked at once however often it runs."""
    if node is None:
        return True
    answer = known.get(id(node))
    if answer is None:
        answer = True
        for item in node.nodes:
            if not _is_constant(item, known):
                answer = False
                break
        known[id(node)] = answer
    return answer


def _is_constant(node: Node, known: dict[int, bool]) -> bool:
    if isinstance(node, TextNode | CommentNode):
        return True
    if isinstance(node, ActionNode):
        return _is_constant_pipe(node.pipe)
    if isinstance(node, BranchNode):  # if, with, range
        return (
            _is_constant_pipe(node.pipe)
            and is_constant_list(node.list, known)
            and is_constant_list(node.else_list, known)
        )
    return False  # template, break, continue, and any node not known here


def _is_constant_pipe(pipe: PipeNode) -> bool:
    """Without recursion: parentheses nest as deep as the parser allows."""
    pending: list[Node] = [pipe]
    while pending:
        node = pending.pop()
        if isinstance(node, PipeNode):
            if node.decl:
                return False
            pending.extend(node.cmds)
        elif isinstance(node, CommandNode):
            pending.extend(node.args)
        elif isinstance(node, IdentifierNode):
            if node.ident not in PURE_FUNCTIONS:
                return False
        elif not isinstance(node, _LITERALS):
            return False  # dot, fields, variables ($ included), chains
    return True


__all__ = ["PURE_FUNCTIONS", "is_constant_list"]
