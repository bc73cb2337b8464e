"""Go text/template's executor: walks the parse tree over a Value as exec.go walks reflect.Values.

Errors carry text/template's wording and ErrorContext location. A value here is a Value or
None, Go's invalid reflect.Value (what a missing map key gives); MISSING is the absent final
argument of a pipeline stage.
"""

from collections.abc import Callable, Mapping
from typing import Final

from inspector.errors import TemplateExecError, TemplateLimitError
from inspector.template import gofmt
from inspector.template.constant import is_constant_list
from inspector.template.parser import (
    ActionNode,
    BoolNode,
    BranchNode,
    BreakNode,
    ChainNode,
    CommandNode,
    CommentNode,
    ContinueNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    IfNode,
    ListNode,
    NilNode,
    Node,
    NumberNode,
    PipeNode,
    RangeNode,
    StringNode,
    TemplateNode,
    TextNode,
    Tree,
    VariableNode,
    WithNode,
    location,
)
from inspector.template.values import (
    ANY,
    BOOL,
    COMPLEX128,
    FLOAT64,
    INT,
    REFLECT_VALUE,
    STRING,
    Field,
    Func,
    GoCallError,
    GoType,
    Kind,
    Value,
    assignable,
)
from inspector.template.values import zero as values_zero

# A template invoking templates, and blocks inside blocks: Go stops at 100000 levels; Python's
# stack needs a smaller bound (the parser bounds nesting inside one template).
MAX_EXEC_DEPTH = 100
# The work of one execution, in steps: a node walked or a range iteration is one step; the
# costlier operations count more, so that the limit bounds the time whatever the template
# does (docs/templates.md gives the figures). A range over an integer with a constant body runs the
# body once and repeats its output, so each further iteration costs one step for itself and
# one for each iteration of a range in the body: `{{range .Size}}{{""}}{{end}}` over a 2 MB
# image fits, and no execution runs more than MAX_STEPS range iterations.
MAX_STEPS = 8_000_000
COMMAND_STEPS = 8  # a command of a pipeline
FIELD_STEPS = 4  # a field, key or method looked up
CALL_STEPS = 16  # a function or method called
PRINT_STEPS = 2  # an action's value printed
MAX_OUTPUT = 16 << 20  # characters of output, and of any one string built on the way


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
Operand = Value | None


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class ExecLimitExceeded(Exception):
    """Raised inside functions when a result would pass the output limit."""


class _Stop(Exception):
    """An execution error, already worded; becomes TemplateExecError at the top
    (TemplateLimitError when `limit`: one of the bounds above was passed)."""

    def __init__(self, message: str, *, limit: bool = False) -> None:
        super().__init__(message)
        self.limit = limit


def indirect(value: Value) -> tuple[Value, bool]:
    """Through pointers and interfaces to the value; (the nil one, True) at a nil."""
    while value.type.kind in (Kind.POINTER, Kind.INTERFACE):
        if value.data is None:
            return value, True
        value = value.data
    return value, False


def indirect_interface(value: Operand) -> Operand:
    if value is not None and value.type.kind is Kind.INTERFACE:
        inner: Operand = value.data
        return inner
    return value


def is_true(value: Operand) -> tuple[bool, bool]:
    """Go's truth: not the zero value of its type; (truth, whether it has one)."""
    if value is None:
        return False, True
    kind = value.type.kind
    if kind in (Kind.SLICE, Kind.MAP, Kind.STRING):
        return bool(value.data), True
    if kind in (Kind.BOOL, Kind.INT, Kind.UINT, Kind.FLOAT, Kind.COMPLEX):
        return bool(value.data), True
    if kind in (Kind.POINTER, Kind.INTERFACE):
        return value.data is not None, True
    if kind is Kind.STRUCT:
        return True, True
    return False, False


def can_be_nil(type_: GoType) -> bool:
    return type_.kind in (Kind.INTERFACE, Kind.MAP, Kind.POINTER, Kind.SLICE) or (
        type_ is REFLECT_VALUE
    )


def zero(type_: GoType) -> Operand:
    """Go's zero value of a type (None for reflect.Value)."""
    return None if type_ is REFLECT_VALUE else values_zero(type_)


def find_field(type_: GoType, name: str) -> list[int] | None:
    """The index path of a struct field by name, promoted fields included (Go's FieldByName:
    the shallowest depth wins; two at the same depth hide each other)."""
    level: list[tuple[GoType, list[int]]] = [(type_, [])]
    seen: set[int] = set()
    while level:
        found: list[list[int]] = []
        next_level: list[tuple[GoType, list[int]]] = []
        for struct_type, path in level:
            if id(struct_type) in seen:
                continue
            seen.add(id(struct_type))
            for i, field in enumerate(struct_type.fields):
                if field.name == name:
                    found.append([*path, i])
                elif getattr(field, "embedded", False):
                    inner = field.type
                    if inner.kind is Kind.POINTER and inner.elem is not None:
                        inner = inner.elem
                    if inner.kind is Kind.STRUCT:
                        next_level.append((inner, [*path, i]))
        if len(found) == 1:
            return found[0]
        if found:
            return None
        level = next_level
    return None


def field_type(type_: GoType, path: list[int]) -> Field:
    field = type_.fields[path[0]]
    for i in path[1:]:
        inner = field.type.elem if field.type.kind is Kind.POINTER else field.type
        assert inner is not None
        field = inner.fields[i]
    return field


def method_of(type_: GoType, name: str) -> Func | None:
    """A method of a type (or of the type a pointer points to) as a Func."""
    methods = type_.methods
    if name not in methods and type_.kind is Kind.POINTER and type_.elem is not None:
        methods = type_.elem.methods
    method = methods.get(name)
    if method is None:
        return None
    if isinstance(method, Func):
        return method
    return Func((), method)


class State:
    """One execution: the variable stack, the template being run, limits."""

    def __init__(
        self,
        text: str,
        trees: Mapping[str, Tree],
        functions: Mapping[str, Func],
        builtins: Mapping[str, Func],
        *,
        missingkey_error: bool,
    ) -> None:
        self.text = text
        self.trees = trees
        self.functions = functions
        self.builtins = builtins
        self.missingkey_error = missingkey_error
        self.name = ""
        self.node: Node | None = None
        self.vars: list[tuple[str, Operand]] = []
        self.depth = 0
        self.steps = 0
        self.iterations = 0  # of ranges, run or repeated
        self.out: list[str] = []
        self.size = 0
        self.constant_lists: dict[int, bool] = {}  # is_constant_list's answers

    # -- errors ---------------------------------------------------------------------------

    def at(self, node: Node) -> None:
        self.node = node

    def error(self, message: str, *, limit: bool = False) -> _Stop:
        if self.node is None:
            return _Stop(f"template: {self.name}: {message}", limit=limit)
        line, column = location(self.text, self.node.pos)
        context = str(self.node)
        return _Stop(
            f"template: :{line}:{column}: executing {gofmt.quote(self.name)} "
            f"at <{context}>: {message}",
            limit=limit,
        )

    def limit_error(self, message: str) -> _Stop:
        return self.error(message, limit=True)

    def step(self, cost: int = 1) -> None:
        self.steps += cost
        if self.steps > MAX_STEPS:
            raise self.limit_error(f"template too expensive: more than {MAX_STEPS} steps")

    def repeat(self, text: str, times: int, iterations: int) -> int:
        """Print a constant range body's output up to `times` more times, as many times as
        both limits allow; how many. One time round stands for `iterations` range iterations
        (its own and those of the ranges in the body), and each costs its step as if it ran,
        so that no execution passes MAX_STEPS iterations. The time round that would pass a
        limit is left to run in full, so that it fails with the error it fails with anyway."""
        fits = min(times, (MAX_STEPS - self.steps) // iterations)
        if text:
            fits = min(fits, (MAX_OUTPUT - self.size) // len(text))
            self.out.append(text * fits)
            self.size += fits * len(text)
        self.steps += fits * iterations
        self.iterations += fits * iterations
        return fits

    def write(self, text: str) -> None:
        self.size += len(text)
        if self.size > MAX_OUTPUT:
            raise self.limit_error(f"output too large: more than {MAX_OUTPUT} characters")
        self.out.append(text)

    # -- variables --------------------------------------------------------------------------

    def push(self, name: str, value: Operand) -> None:
        self.vars.append((name, value))

    def mark(self) -> int:
        return len(self.vars)

    def pop(self, mark: int) -> None:
        del self.vars[mark:]

    def set_var(self, name: str, value: Operand) -> None:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i] = (name, value)
                return
        raise self.error(f"undefined variable: {name}")

    def set_top_var(self, n: int, value: Operand) -> None:
        name, _ = self.vars[-n]
        self.vars[-n] = (name, value)

    def var_value(self, name: str) -> Operand:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                return self.vars[i][1]
        raise self.error(f"undefined variable: {name}")

    # -- walking ------------------------------------------------------------------------

    def walk(self, dot: Operand, node: Node) -> None:
        self.at(node)
        self.step()
        if isinstance(node, ActionNode):
            value = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.print_value(node, value)
        elif isinstance(node, TextNode):
            self.write(node.text)
        elif isinstance(node, ListNode):
            for item in node.nodes:
                self.walk(dot, item)
        elif isinstance(node, IfNode | WithNode):
            self.walk_if_or_with(isinstance(node, WithNode), dot, node)
        elif isinstance(node, RangeNode):
            self.walk_range(dot, node)
        elif isinstance(node, TemplateNode):
            self.walk_template(dot, node)
        elif isinstance(node, BreakNode):
            raise _Break
        elif isinstance(node, ContinueNode):
            raise _Continue
        elif not isinstance(node, CommentNode):
            raise self.error(f"unknown node: {node}")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_EXEC_DEPTH:
            raise self.limit_error(f"exceeded maximum template depth ({MAX_EXEC_DEPTH})")

    def walk_if_or_with(self, is_with: bool, dot: Operand, node: BranchNode) -> None:
        mark = self.mark()
        self.enter()
        try:
            value = self.eval_pipeline(dot, node.pipe)
            truth, ok = is_true(indirect_interface(value))
            if not ok:
                raise self.error(f"if/with can't use {gofmt.describe(value)}")
            if truth:
                self.walk(value if is_with else dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            self.depth -= 1
            self.pop(mark)

    def walk_range(self, dot: Operand, node: RangeNode) -> None:
        self.at(node)
        outer = self.mark()
        self.enter()
        try:
            self._range(dot, node)
        except _Break:
            pass
        finally:
            self.depth -= 1
            self.pop(outer)

    def _range(self, dot: Operand, node: RangeNode) -> None:
        evaluated = self.eval_pipeline(dot, node.pipe)
        value = indirect(evaluated)[0] if evaluated is not None else None
        mark = self.mark()
        decl = node.pipe.decl

        def one_iteration(index: Operand, elem: Operand) -> None:
            self.step()
            self.iterations += 1
            if decl:
                if node.pipe.is_assign:
                    self.set_var(decl[0].ident[0], index if len(decl) > 1 else elem)
                else:
                    self.set_top_var(1, elem)
            if len(decl) > 1:
                if node.pipe.is_assign:
                    self.set_var(decl[1].ident[0], elem)
                else:
                    self.set_top_var(2, index)
            try:
                self.walk(elem, node.list)
            except _Continue:
                pass
            finally:
                self.pop(mark)

        kind = value.type.kind if value is not None else None
        if value is None:
            pass  # Go's invalid value (a missing key, a nil interface) acts like an empty map
        elif kind is Kind.SLICE:
            items: list[Value] = value.data or []
            if items:
                for i, item in enumerate(items):
                    one_iteration(Value(INT, i), item)
                return
        elif kind is Kind.MAP:
            if value.data:
                key_type = value.type.key
                assert key_type is not None
                for key, item in gofmt.sorted_items(value):
                    one_iteration(Value(key_type, key), item)
                return
        elif kind in (Kind.INT, Kind.UINT):
            if len(decl) > 1:
                raise self.error(
                    f"can't use {gofmt.describe(value)} to iterate over more than one variable"
                )
            # Go counts 0 to n-1 in values of the ranged value's own type (reflect's Value.Seq
            # converts to a named type: a time.Month counts in time.Months). range() makes
            # them one at a time, so the step limit stops a huge count before it costs memory.
            count: int = value.data
            if count > 0:
                start = 0
                if not node.pipe.is_assign and is_constant_list(node.list, self.constant_lists):
                    # A constant body prints the same and fails the same every time round
                    # (it reads neither the count nor the variable): run it once, then repeat
                    # its output instead of running it count times.
                    printed, iterations = len(self.out), self.iterations
                    one_iteration(None, Value(value.type, 0))
                    text = "".join(self.out[printed:])
                    start = 1 + self.repeat(text, count - 1, self.iterations - iterations)
                for i in range(start, count):
                    one_iteration(None, Value(value.type, i))
                return
        else:
            # A nil pointer lands here too: Go's indirect stops at it and walkRange finds no
            # case for a pointer (`range can't iterate over <nil>`), unlike an invalid value.
            raise self.error(f"range can't iterate over {gofmt.describe(value)}")
        if node.else_list is not None:
            self.walk(dot, node.else_list)

    def walk_template(self, dot: Operand, node: TemplateNode) -> None:
        self.at(node)
        tree = self.trees.get(node.name)
        if tree is None:
            raise self.error(f"template {gofmt.quote(node.name)} not defined")
        if self.depth >= MAX_EXEC_DEPTH:
            raise self.limit_error(f"exceeded maximum template depth ({MAX_EXEC_DEPTH})")
        dot = self.eval_pipeline(dot, node.pipe)
        saved_vars, saved_name = self.vars, self.name
        self.vars = [("$", dot)]
        self.name = tree.name
        self.enter()
        try:
            self.walk(dot, tree.root)
        finally:
            self.depth -= 1
            self.vars, self.name = saved_vars, saved_name

    # -- evaluation ---------------------------------------------------------------------

    def eval_pipeline(self, dot: Operand, pipe: PipeNode | None) -> Operand:
        if pipe is None:
            return None
        self.at(pipe)
        value: Operand | _Missing = MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
            if value is not None and value.type.kind is Kind.INTERFACE:
                value = value.data  # an interface {} result: the value inside
        assert not isinstance(value, _Missing)
        for variable in pipe.decl:
            if pipe.is_assign:
                self.set_var(variable.ident[0], value)
            else:
                self.push(variable.ident[0], value)
        return value

    def not_a_function(self, args: list[Node], final: Operand | _Missing) -> None:
        if len(args) > 1 or not isinstance(final, _Missing):
            raise self.error(f"can't give argument to non-function {args[0]}")

    def eval_command(self, dot: Operand, cmd: CommandNode, final: Operand | _Missing) -> Operand:
        self.step(COMMAND_STEPS)
        first = cmd.args[0]
        if isinstance(first, FieldNode):
            return self.eval_field_node(dot, first, cmd.args, final)
        if isinstance(first, ChainNode):
            return self.eval_chain_node(dot, first, cmd.args, final)
        if isinstance(first, IdentifierNode):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, PipeNode):
            self.not_a_function(cmd.args, final)
            self.enter()
            try:
                return self.eval_pipeline(dot, first)
            finally:
                self.depth -= 1
        if isinstance(first, VariableNode):
            return self.eval_variable_node(dot, first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, BoolNode):
            return Value(BOOL, first.value)
        if isinstance(first, DotNode):
            return dot
        if isinstance(first, NilNode):
            raise self.error("nil is not a command")
        if isinstance(first, NumberNode):
            return self.ideal_constant(first)
        if isinstance(first, StringNode):
            return Value(STRING, first.text)
        raise self.error(f"can't evaluate command {gofmt.quote(str(first))}")

    def ideal_constant(self, constant: NumberNode) -> Operand:
        self.at(constant)
        text = constant.text
        if constant.is_complex:
            return Value(COMPLEX128, constant.complex)
        is_hex_int = (
            len(text) > 2
            and text[0] == "0"
            and text[1] in "xX"
            and not any(c in text for c in "pP")
        )
        if (
            constant.is_float
            and not is_hex_int
            and not text.startswith("'")
            and any(c in text for c in ".eEpP")
        ):
            return Value(FLOAT64, constant.float)
        if constant.is_int:
            return Value(INT, constant.int)
        if constant.is_uint:
            raise self.error(f"{text} overflows int")
        return None

    def eval_field_node(
        self, dot: Operand, field: FieldNode, args: list[Node] | None, final: Operand | _Missing
    ) -> Operand:
        self.at(field)
        return self.eval_field_chain(dot, dot, field, field.ident, args, final)

    def eval_chain_node(
        self, dot: Operand, chain: ChainNode, args: list[Node] | None, final: Operand | _Missing
    ) -> Operand:
        self.at(chain)
        if not chain.fields:
            raise self.error("internal error: no fields in evalChainNode")
        if isinstance(chain.node, NilNode):
            raise self.error(f"indirection through explicit nil in {chain}")
        pipe = self.eval_arg(dot, None, chain.node)
        return self.eval_field_chain(dot, pipe, chain, chain.fields, args, final)

    def eval_variable_node(
        self,
        dot: Operand,
        variable: VariableNode,
        args: list[Node] | None,
        final: Operand | _Missing,
    ) -> Operand:
        self.at(variable)
        value = self.var_value(variable.ident[0])
        if len(variable.ident) == 1:
            self.not_a_function(args or [variable], final)
            return value
        return self.eval_field_chain(dot, value, variable, variable.ident[1:], args, final)

    def eval_field_chain(
        self,
        dot: Operand,
        receiver: Operand,
        node: Node,
        ident: list[str],
        args: list[Node] | None,
        final: Operand | _Missing,
    ) -> Operand:
        for name in ident[:-1]:
            receiver = self.eval_field(dot, name, node, None, MISSING, receiver)
        return self.eval_field(dot, ident[-1], node, args, final, receiver)

    def eval_function(
        self,
        dot: Operand,
        node: IdentifierNode,
        cmd: Node,
        args: list[Node] | None,
        final: Operand | _Missing,
    ) -> Operand:
        self.at(node)
        name = node.ident
        function = self.functions.get(name)
        is_builtin = False
        if function is None:
            function = self.builtins.get(name)
            is_builtin = True
        if function is None:
            raise self.error(f"{gofmt.quote(name)} is not a defined function")
        return self.eval_call(dot, function, is_builtin, cmd, name, args, final)

    def eval_field(
        self,
        dot: Operand,
        name: str,
        node: Node,
        args: list[Node] | None,
        final: Operand | _Missing,
        receiver: Operand,
    ) -> Operand:
        self.step(FIELD_STEPS)
        if receiver is None:
            if self.missingkey_error:
                raise self.error(f"nil data; no entry for key {gofmt.quote(name)}")
            return None
        type_name = receiver.type.name
        receiver, is_nil = indirect(receiver)
        if receiver.type.kind is Kind.INTERFACE and is_nil:
            raise self.error(f"nil pointer evaluating {type_name}.{name}")
        method = method_of(receiver.type, name)
        if method is not None:
            if receiver.type.kind is Kind.POINTER and receiver.data is None:
                target = receiver.type.elem.name if receiver.type.elem else ""
                self.at(node)
                raise self.error(
                    f"error calling {name}: value method {target}.{name} called using nil "
                    f"*{target.rpartition('.')[2]} pointer"
                )
            bound = Func(method.params, _bind(method, receiver), method.variadic)
            return self.eval_call(dot, bound, False, node, name, args, final)
        has_args = (args is not None and len(args) > 1) or not isinstance(final, _Missing)
        kind = receiver.type.kind
        if kind is Kind.STRUCT:
            path = find_field(receiver.type, name)
            if path is not None:
                if not name[:1].isupper():
                    raise self.error(f"{name} is an unexported field of struct type {type_name}")
                if has_args:
                    raise self.error(f"{name} has arguments but cannot be invoked as function")
                value: Value = receiver
                for i in path:
                    if value.type.kind is Kind.POINTER:
                        if value.data is None:
                            raise self.error(
                                "reflect: indirection through nil pointer to embedded struct"
                            )
                        value = value.data
                    value = value.data[i]
                return value
        elif kind is Kind.MAP:
            key_type = receiver.type.key
            if key_type is not None and assignable(STRING, key_type):
                if has_args:
                    raise self.error(f"{name} is not a method but has arguments")
                items = receiver.data
                result = items.get(name) if items is not None else None
                if result is None and self.missingkey_error:
                    raise self.error(f"map has no entry for key {gofmt.quote(name)}")
                return result
        elif kind is Kind.POINTER:
            elem = receiver.type.elem
            if elem is not None and elem.kind is Kind.STRUCT and find_field(elem, name) is None:
                pass  # no such field: "can't evaluate", not "nil pointer evaluating"
            elif is_nil:
                raise self.error(f"nil pointer evaluating {type_name}.{name}")
        raise self.error(f"can't evaluate field {name} in type {type_name}")

    def eval_call(
        self,
        dot: Operand,
        function: Func,
        is_builtin: bool,
        node: Node,
        name: str,
        args: list[Node] | None,
        final: Operand | _Missing,
    ) -> Operand:
        self.step(CALL_STEPS)
        call_args = args[1:] if args is not None else []
        params = function.params
        num_in = len(call_args) + (not isinstance(final, _Missing))
        num_fixed = len(call_args)
        if function.variadic:
            num_fixed = len(params) - 1
            if num_in < num_fixed:
                raise self.error(
                    f"wrong number of args for {name}: want at least {len(params) - 1} "
                    f"got {len(call_args)}"
                )
        elif num_in != len(params):
            raise self.error(f"wrong number of args for {name}: want {len(params)} got {num_in}")

        if is_builtin and name in ("and", "or"):
            result: Operand = None
            for arg in call_args:
                result = self.eval_arg(dot, REFLECT_VALUE, arg)
                if is_true(indirect_interface(result))[0] == (name == "or"):
                    return result
            if not isinstance(final, _Missing):
                result = self.validate_type(final, REFLECT_VALUE)
            return result

        argv: list[Operand] = []
        i = 0
        while i < num_fixed and i < len(call_args):
            argv.append(self.eval_arg(dot, params[i], call_args[i]))
            i += 1
        if function.variadic:
            while i < len(call_args):
                argv.append(self.eval_arg(dot, params[-1], call_args[i]))
                i += 1
        if not isinstance(final, _Missing):
            param = params[-1]
            if function.variadic and num_in - 1 < num_fixed:
                param = params[num_in - 1]
            argv.append(self.validate_type(final, param))
        converted = [
            _as_parameter(value, params[min(j, len(params) - 1)]) for j, value in enumerate(argv)
        ]
        if is_builtin and name == "call":
            callee = str(call_args[0]) if call_args else _reflect_string(final)
            converted.insert(0, Value(STRING, callee))
        try:
            result = function.body(*converted)
        except GoCallError as exc:
            self.at(node)
            raise self.error(f"error calling {name}: {exc}") from None
        except (gofmt.OutputTooLarge, ExecLimitExceeded):
            self.at(node)
            raise self.limit_error(
                f"error calling {name}: result too large (more than {MAX_OUTPUT} characters)"
            ) from None
        except gofmt.ValueTooDeep:
            self.at(node)
            raise self.limit_error(f"error calling {name}: value nested too deeply") from None
        if result is not None and result.type.kind is Kind.STRING and len(result.data) > MAX_OUTPUT:
            self.at(node)
            raise self.limit_error(
                f"error calling {name}: result too large (more than {MAX_OUTPUT} characters)"
            )
        return result

    def validate_type(self, value: Operand, type_: GoType | None) -> Operand:
        """The value as an argument of the type: Go's assignability, one interface unwrap or
        one pointer dereference, else `wrong type for value`."""
        if value is None:
            if type_ is None:
                return None
            if can_be_nil(type_):
                return zero(type_)
            raise self.error(f"invalid value; expected {type_.name}")
        if type_ is None or type_ is REFLECT_VALUE:
            return value
        if not assignable(value.type, type_):
            if value.type.kind is Kind.INTERFACE and value.data is not None:
                value = value.data
                assert value is not None
                if assignable(value.type, type_):
                    return value
            elem = value.type.elem
            if value.type.kind is Kind.POINTER and elem is not None and assignable(elem, type_):
                if value.data is None:
                    raise self.error(f"dereference of nil pointer of type {type_.name}")
                inner: Value = value.data
                return inner
            raise self.error(f"wrong type for value; expected {type_.name}; got {value.type.name}")
        return value

    def eval_arg(self, dot: Operand, type_: GoType | None, node: Node) -> Operand:
        self.at(node)
        if isinstance(node, DotNode):
            return self.validate_type(dot, type_)
        if isinstance(node, NilNode):
            if type_ is not None and can_be_nil(type_):
                return zero(type_)
            raise self.error(f"cannot assign nil to {type_.name if type_ else '<nil>'}")
        if isinstance(node, FieldNode):
            return self.validate_type(self.eval_field_node(dot, node, [node], MISSING), type_)
        if isinstance(node, VariableNode):
            return self.validate_type(self.eval_variable_node(dot, node, None, MISSING), type_)
        if isinstance(node, PipeNode):
            self.enter()
            try:
                return self.validate_type(self.eval_pipeline(dot, node), type_)
            finally:
                self.depth -= 1
        if isinstance(node, IdentifierNode):
            return self.validate_type(self.eval_function(dot, node, node, None, MISSING), type_)
        if isinstance(node, ChainNode):
            return self.validate_type(self.eval_chain_node(dot, node, None, MISSING), type_)
        assert type_ is not None
        kind = type_.kind
        if kind is Kind.BOOL:
            if isinstance(node, BoolNode):
                return Value(type_, node.value)
            raise self.error(f"expected bool; found {node}")
        if kind is Kind.FLOAT:
            if isinstance(node, NumberNode) and node.is_float:
                return Value(type_, node.float)
            raise self.error(f"expected float; found {node}")
        if kind is Kind.INT:
            if isinstance(node, NumberNode) and node.is_int:
                return Value(type_, _wrap_int(node.int, type_.name))
            raise self.error(f"expected integer; found {node}")
        if kind is Kind.UINT:
            if isinstance(node, NumberNode) and node.is_uint:
                return Value(type_, _wrap_uint(node.uint, type_.name))
            raise self.error(f"expected unsigned integer; found {node}")
        if kind is Kind.STRING:
            if isinstance(node, StringNode):
                return Value(type_, node.text)
            raise self.error(f"expected string; found {node}")
        if kind is Kind.INTERFACE or type_ is REFLECT_VALUE:
            return self.eval_empty_interface(dot, node)
        raise self.error(f"can't handle {node} for arg of type {type_.name}")

    def eval_empty_interface(self, dot: Operand, node: Node) -> Operand:
        self.at(node)
        if isinstance(node, BoolNode):
            return Value(BOOL, node.value)
        if isinstance(node, NumberNode):
            return self.ideal_constant(node)
        if isinstance(node, StringNode):
            return Value(STRING, node.text)
        raise self.error(f"can't handle assignment of {node} to empty interface argument")

    # -- printing -----------------------------------------------------------------------

    def print_value(self, node: Node, value: Operand) -> None:
        self.at(node)
        self.step(PRINT_STEPS)
        if value is not None and value.type.kind is Kind.POINTER:
            value = indirect(value)[0]
        if value is None:
            self.write("<no value>")
            return
        try:
            self.write(gofmt.sprint([value], MAX_OUTPUT - self.size))
        except gofmt.OutputTooLarge:
            raise self.limit_error(f"output too large: more than {MAX_OUTPUT} characters") from None
        except gofmt.ValueTooDeep:
            raise self.limit_error("value nested too deeply to print") from None


def _bind(method: Func, receiver: Value) -> Callable[..., Operand]:
    body = method.body

    def bound(*args: Operand) -> Operand:
        return body(receiver, *args)

    return bound


def _as_parameter(value: Operand, param: GoType) -> Operand:
    """What the Go function receives: an `any` parameter holds the dynamic value."""
    if param.kind is Kind.INTERFACE and value is not None and value.type.kind is Kind.INTERFACE:
        inner: Operand = value.data
        return inner
    return value


def _reflect_string(value: Operand | _Missing) -> str:
    """reflect.Value.String(): a string's text, else `<T Value>`."""
    if isinstance(value, _Missing) or value is None:
        return "<invalid Value>"
    if value.type.kind is Kind.STRING:
        text: str = value.data
        return text
    return f"<{value.type.name} Value>"


_INT_BITS = {"int8": 8, "int16": 16, "int32": 32}
_UINT_BITS = {"uint8": 8, "uint16": 16, "uint32": 32}


def _wrap_int(value: int, name: str) -> int:
    bits = _INT_BITS.get(name, 64)
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


def _wrap_uint(value: int, name: str) -> int:
    return value & ((1 << _UINT_BITS.get(name, 64)) - 1)


def execute(
    text: str,
    trees: Mapping[str, Tree],
    functions: Mapping[str, Func],
    builtins: Mapping[str, Func],
    dot: Value,
    *,
    missingkey_error: bool,
) -> str:
    """Run the template "" on dot; TemplateExecError with Go's message on failure."""
    state = State(text, trees, functions, builtins, missingkey_error=missingkey_error)
    if dot.type.kind is Kind.INTERFACE:
        dot_value: Operand = dot.data  # Execute takes `any`: the value inside
    else:
        dot_value = dot
    state.vars = [("$", dot_value)]
    tree = trees.get("")
    try:
        if tree is None:
            raise state.error('"" is an incomplete or empty template')
        state.walk(dot_value, tree.root)
    except _Stop as exc:
        raise (TemplateLimitError if exc.limit else TemplateExecError)(str(exc)) from None
    return "".join(state.out)


__all__ = ["ANY", "MISSING", "Operand", "State", "execute"]
