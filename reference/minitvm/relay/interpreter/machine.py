"""The evaluator: an explicit-stack machine over Relay expressions.

Corresponds to ``Interpreter`` in TVM's ``src/relay/backend/interpreter.cc``, which is a
recursive ``ExprFunctor``. Here nothing recurses: the machine keeps a work stack of
``(node, phase)`` tasks and ``_Return`` markers, in the style of a CEK machine.

* An *activation* (``Env``) is a dict, one per function call. It maps the variables bound in
  the call (parameters, let variables, captured free variables) to their values, and every
  node already evaluated in the call to its value. The second role is a memo: a node shared
  within one activation is evaluated once, so DAGs with heavy sharing cost time linear in
  their unique nodes (Relay without references is pure, so this is unobservable).
* A task ``(node, 0)`` asks for ``node``'s value in the current activation; the node pushes
  a later phase of itself and its unevaluated children, and the later phase reads the
  children's values from the activation and stores its own. Lets, ifs and calls evaluate
  their body or branch through the stack too, so deep let chains, call chains and deep
  recursion (non-tail as well as tail) grow the heap-allocated stack, never Python's.
* A call of a closure pushes ``_Return(call, caller_env, body)`` and switches to the
  callee's fresh activation; the marker copies the body's value back into the caller.
* A call evaluates its arguments left to right, then its callee (TVM's order, which is also
  the order ToANormalForm binds them in). A call of a constructor builds a
  ``ConstructorValue``; ``ref``, ``ref_read`` and ``ref_write`` create, read and update a
  ``RefValue`` (the reference first, then the value written). A match evaluates its data,
  binds the variables of the first clause whose pattern matches it, and evaluates that
  clause's right-hand side through the stack, so recursion over a 100,000-element list uses
  no Python recursion.
* With references a program has effects, and the memo above means a node *shared* within an
  activation runs its effect once, where it is first needed (the order ToANormalForm gives a
  shared node). Programs that care about the order of effects bind them with lets.

Operator calls run the operator's numpy kernel (``eval_op``). The output type a kernel is
given is the call's checked type when InferType left a concrete one, else it is computed by
the operator's type relation from the argument values, so the machine also runs untyped
programs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias, assert_never

import numpy as np

from minitvm.error import DiagnosticError, InternalError, OpNotImplemented, TVMError
from minitvm.ir.adt import Constructor
from minitvm.ir.attrs import Attrs
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.type import TensorType, Type
from minitvm.relay.adt import (
    Match,
    Pattern,
    PatternConstructor,
    PatternTuple,
    PatternVar,
    PatternWildcard,
    pattern_str,
)
from minitvm.relay.analysis import free_vars
from minitvm.relay.expr import (
    Call,
    Constant,
    Expr,
    If,
    Let,
    RefCreate,
    RefRead,
    RefWrite,
    Tuple,
    TupleGetItem,
    Var,
)
from minitvm.relay.function import Function
from minitvm.relay.interpreter.values import (
    Closure,
    ConstructorValue,
    Env,
    RefValue,
    Value,
    check_value,
    describe,
    dtype_name,
    is_concrete,
    map_tuples,
    value_type,
)

__all__ = ["Machine", "eval_op", "infer_op_type"]

_ATOMS = (Constant, GlobalVar, Op, Constructor)
"""Nodes whose value is read directly, never computed through the stack."""

_START, _CHILDREN_DONE, _TRUE_DONE, _FALSE_DONE, _FIRST_CLAUSE = 0, 1, 2, 3, 4
"""Task phases. A let uses ``_TRUE_DONE`` for "body evaluated"; a match whose clause ``i``
was chosen finishes in phase ``_FIRST_CLAUSE + i``."""


@dataclass(frozen=True, slots=True)
class _Return:
    """Return from a closure call: store the callee body's value as the call's value."""

    call: Call
    caller: Env
    body: Expr


_Task: TypeAlias = tuple[Expr, int] | _Return


def _name(expr: Expr) -> str:
    match expr:
        case GlobalVar():
            return f"@{expr.name_hint}"
        case Var():
            return f"%{expr.name_hint}"
        case Op():
            return expr.name
        case _:
            return f"a {type(expr).__name__}"


def _where(expr: Expr) -> str | None:
    """The location of ``expr`` for a diagnostic: its span, if it has one."""
    return None if expr.span is None else str(expr.span)


PrimitiveHook = Callable[[Function, list[Value]], Value]
"""Runs a call of a ``Primitive`` function on argument values (a compiled kernel)."""


class Machine:
    """Evaluates expressions against a module. Reusable: global closures and free-variable
    sets are cached per node, so repeated calls pay for each only once.

    ``primitive``, when given, runs every call of a closed function marked ``Primitive``
    instead of the machine evaluating its body: this is how compiled executors reuse the
    machine for control flow and closures while fused functions run as kernels.
    """

    def __init__(self, mod: IRModule | None = None, primitive: PrimitiveHook | None = None) -> None:
        self.mod = mod
        self.primitive = primitive
        self._globals: dict[GlobalVar, Closure] = {}
        self._free_vars: dict[Function, tuple[Var, ...]] = {}
        self._relation_types: dict[tuple[object, Attrs | None, tuple[Type, ...]], Type] = {}

    # --- entry points ---------------------------------------------------------------------

    def evaluate(self, expr: Expr, env: Env | None = None) -> Value:
        """The value of ``expr``; ``env`` binds its free variables."""
        activation: Env = {} if env is None else env
        with np.errstate(all="ignore"):
            self._run(expr, activation)
        return self.value_of(expr, activation)

    def apply(self, closure: Closure, args: Sequence[Value], where: str) -> Value:
        """Call ``closure`` with argument values (the Python-facing call)."""
        activation = self._activate(closure, args, where)
        body = closure.func.body
        with np.errstate(all="ignore"):
            self._run(body, activation)
        return self.value_of(body, activation)

    # --- the loop -------------------------------------------------------------------------

    def _run(self, root: Expr, env: Env) -> None:  # noqa: C901  (one flat dispatch loop)
        stack: list[_Task] = []
        _push(stack, env, root)
        pop = stack.pop
        while stack:
            task = pop()
            if isinstance(task, _Return):
                value = self.value_of(task.body, env)
                env = task.caller
                env[task.call] = value
                continue
            node, phase = task
            if phase == _START and node in env:
                continue
            match node:
                case Call():
                    env = self._step_call(node, phase, env, stack)
                case Let():
                    self._step_let(node, phase, env, stack)
                case If():
                    self._step_if(node, phase, env, stack)
                case Tuple() | TupleGetItem():
                    self._step_tuple(node, phase, env, stack)
                case Function():
                    env[node] = self._closure(node, env, None)
                case RefCreate() | RefRead() | RefWrite():
                    self._step_ref(node, phase, env, stack)
                case Match():
                    self._step_match(node, phase, env, stack)
                case Var():
                    raise DiagnosticError(f"unbound variable {_name(node)}", _where(node))
                case GlobalVar() | Constant() | Op() | Constructor():
                    pass  # read directly by value_of
                case _:
                    assert_never(node)

    def value_of(self, node: Expr, env: Env) -> Value:
        """The value of an evaluated node, a variable or an atom in activation ``env``."""
        value = env.get(node)
        if value is not None:
            return value
        match node:
            case Constant():
                data: Value = np.asarray(node.data)
                return data
            case GlobalVar():
                return self.global_closure(node)
            case Constructor():
                return node
            case Var():
                raise DiagnosticError(f"unbound variable {_name(node)}", _where(node))
            case Op():
                raise DiagnosticError(
                    f"operator {node.name} is used as a value; only calls of operators can be "
                    "evaluated (wrap it in a function)",
                    _where(node),
                )
            case _:
                raise InternalError(f"{_name(node)} was read before it was evaluated")

    # --- one step per node kind -----------------------------------------------------------

    def _step_call(self, call: Call, phase: int, env: Env, stack: list[_Task]) -> Env:
        callee = call.op
        if phase == _START:
            stack.append((call, _CHILDREN_DONE))
            if not isinstance(callee, Op):
                _push(stack, env, callee)  # evaluated after the arguments
            _push_all(stack, env, call.args)
            return env
        args = [self.value_of(a, env) for a in call.args]
        if isinstance(callee, Op):
            out_type = call.checked_type_
            if not is_concrete(out_type):
                out_type = self._relation_type(callee, call.attrs, args)
            env[call] = _eval_op(callee, call.attrs, args, out_type)
            return env
        fn = self.value_of(callee, env)
        if isinstance(fn, Constructor):
            env[call] = _construct(fn, args, call)
            return env
        if not isinstance(fn, Closure):
            raise DiagnosticError(
                f"call of {_name(callee)}: the callee is not a function, it is {describe(fn)}",
                _where(call),
            )
        primitive = self.primitive
        func = fn.func
        if primitive and not fn.env and func.is_primitive() and len(args) == len(func.params):
            env[call] = primitive(func, args)
            return env
        activation = self._activate(fn, args, f"call of {_name(callee)}")
        body = fn.func.body
        stack.append(_Return(call, env, body))
        _push(stack, activation, body)
        return activation

    def _step_let(self, let: Let, phase: int, env: Env, stack: list[_Task]) -> None:
        if phase == _TRUE_DONE:
            env[let] = self.value_of(let.body, env)
            return
        # Bind, then go straight on into a body that is itself a let: a let chain is walked
        # by this loop, leaving only the "store my value" task of each let on the stack.
        while True:
            value = let.value
            if isinstance(value, Function):
                # A let-bound function may call itself through the let variable.
                env[let.var] = self._closure(value, env, let.var)
            elif phase == _CHILDREN_DONE or value in env or isinstance(value, _ATOMS):
                env[let.var] = self.value_of(value, env)
            else:
                stack.append((let, _CHILDREN_DONE))
                stack.append((value, _START))
                return
            stack.append((let, _TRUE_DONE))
            body = let.body
            if not isinstance(body, Let) or body in env:
                _push(stack, env, body)
                return
            let, phase = body, _START

    def _step_if(self, ite: If, phase: int, env: Env, stack: list[_Task]) -> None:
        if phase == _START:
            stack.append((ite, _CHILDREN_DONE))
            _push(stack, env, ite.cond)
        elif phase == _CHILDREN_DONE:
            cond = self.value_of(ite.cond, env)
            if not (isinstance(cond, np.ndarray) and cond.dtype == np.bool_ and cond.shape == ()):
                raise DiagnosticError(
                    f"if: the condition must be a bool scalar, got {describe(cond)}",
                    _where(ite),
                )
            taken = bool(cond)
            stack.append((ite, _TRUE_DONE if taken else _FALSE_DONE))
            _push(stack, env, ite.true_branch if taken else ite.false_branch)
        else:
            branch = ite.true_branch if phase == _TRUE_DONE else ite.false_branch
            env[ite] = self.value_of(branch, env)

    def _step_tuple(
        self, node: Tuple | TupleGetItem, phase: int, env: Env, stack: list[_Task]
    ) -> None:
        if phase == _START:
            stack.append((node, _CHILDREN_DONE))
            _push_all(stack, env, node.fields if isinstance(node, Tuple) else (node.tuple_value,))
        elif isinstance(node, Tuple):
            env[node] = tuple([self.value_of(f, env) for f in node.fields])
        else:
            tup = self.value_of(node.tuple_value, env)
            if not isinstance(tup, tuple) or not 0 <= node.index < len(tup):
                raise DiagnosticError(
                    f"tuple projection .{node.index}: expected a tuple with more than "
                    f"{node.index} fields, got {describe(tup)}",
                    _where(node),
                )
            env[node] = tup[node.index]

    def _step_ref(
        self, node: RefCreate | RefRead | RefWrite, phase: int, env: Env, stack: list[_Task]
    ) -> None:
        if phase == _START:
            stack.append((node, _CHILDREN_DONE))
            match node:
                case RefCreate():
                    _push(stack, env, node.value)
                case RefRead():
                    _push(stack, env, node.ref)
                case RefWrite():
                    _push_all(stack, env, (node.ref, node.value))
            return
        match node:
            case RefCreate():
                env[node] = RefValue(self.value_of(node.value, env))
            case RefRead():
                env[node] = _ref_cell(self.value_of(node.ref, env), "ref_read", node).value
            case RefWrite():
                cell = _ref_cell(self.value_of(node.ref, env), "ref_write", node)
                cell.value = self.value_of(node.value, env)
                env[node] = ()

    def _step_match(self, match: Match, phase: int, env: Env, stack: list[_Task]) -> None:
        if phase == _START:
            stack.append((match, _CHILDREN_DONE))
            _push(stack, env, match.data)
        elif phase == _CHILDREN_DONE:
            data = self.value_of(match.data, env)
            for index, clause in enumerate(match.clauses):
                bindings = _match_pattern(clause.lhs, data, match)
                if bindings is not None:
                    env.update(bindings)
                    # The chosen clause's index is the phase of the finishing task.
                    stack.append((match, _FIRST_CLAUSE + index))
                    _push(stack, env, clause.rhs)
                    return
            raise DiagnosticError(
                f"match: no clause matches {describe(data)} (patterns: "
                f"{', '.join(pattern_str(c.lhs) for c in match.clauses) or 'none'})",
                _where(match),
            )
        else:
            env[match] = self.value_of(match.clauses[phase - _FIRST_CLAUSE].rhs, env)

    def _relation_type(self, op: Op, attrs: Attrs | None, args: Sequence[Value]) -> Type:
        """``infer_op_type``, memoized per relation, attrs and argument types: untyped
        programs call the same operator on the same types over and over."""
        _check_arity(op, args)
        arg_types = tuple(value_type(a, f"argument {i} of {op.name}") for i, a in enumerate(args))
        key = (op.definition.type_rel, attrs, arg_types)
        try:
            cached = self._relation_types.get(key)
        except TypeError:  # attrs holding something unhashable: just apply the relation
            return _apply_relation(op, attrs, arg_types)
        if cached is None:
            cached = self._relation_types[key] = _apply_relation(op, attrs, arg_types)
        return cached

    # --- closures and globals -------------------------------------------------------------

    def _closure(self, func: Function, env: Env, rec_var: Var | None) -> Closure:
        fvs = self._free_vars.get(func)
        if fvs is None:
            fvs = tuple(free_vars(func))
            self._free_vars[func] = fvs
        captured: Env = {}
        for var in fvs:
            if var is rec_var:
                continue
            value = env.get(var)
            if value is None:
                raise DiagnosticError(
                    f"unbound variable {_name(var)} (a free variable of a function)",
                    _where(func),
                )
            captured[var] = value
        return Closure(func, captured, rec_var)

    def _activate(self, closure: Closure, args: Sequence[Value], where: str) -> Env:
        params = closure.func.params
        if len(args) != len(params):
            names = ", ".join(_name(p) for p in params)
            raise DiagnosticError(
                f"{where}: expected {len(params)} arguments ({names}), got {len(args)}"
            )
        activation: Env = dict(closure.env)
        if closure.rec_var is not None:
            activation[closure.rec_var] = closure
        activation.update(zip(params, args, strict=True))
        return activation

    def global_closure(self, gv: GlobalVar) -> Closure:
        """The closure of a global function (no captured variables), made once."""
        closure = self._globals.get(gv)
        if closure is None:
            mod = self.mod
            func: object = None
            if mod is not None and gv in mod:
                func = mod[gv]
            elif mod is not None and mod.contains_global_var(gv.name_hint):
                func = mod[gv.name_hint]
            if func is None:
                raise DiagnosticError(f"global function @{gv.name_hint} is not in the module")
            if not isinstance(func, Function):
                raise DiagnosticError(
                    f"global @{gv.name_hint} is a {type(func).__name__}, not a Relay function"
                )
            closure = Closure(func, {})
            self._globals[gv] = closure
        return closure


def _construct(ctor: Constructor, args: Sequence[Value], call: Call) -> ConstructorValue:
    if len(args) != len(ctor.inputs):
        raise DiagnosticError(
            f"constructor {ctor.name_hint} takes {len(ctor.inputs)} arguments, got {len(args)}",
            _where(call),
        )
    return ConstructorValue(ctor.tag, args, ctor)


def _ref_cell(value: Value, what: str, node: Expr) -> RefValue:
    if not isinstance(value, RefValue):
        raise DiagnosticError(f"{what}: expected a reference, got {describe(value)}", _where(node))
    return value


def _match_pattern(pattern: Pattern, value: Value, match: Match) -> dict[Expr, Value] | None:
    """The variables ``pattern`` binds when it matches ``value``, or None if it does not.
    A constructor is recognized by its tag, as in TVM."""
    bindings: dict[Expr, Value] = {}
    stack: list[tuple[Pattern, Value]] = [(pattern, value)]
    while stack:
        p, v = stack.pop()
        match p:
            case PatternWildcard():
                pass
            case PatternVar():
                bindings[p.var] = v
            case PatternConstructor():
                if not isinstance(v, ConstructorValue):
                    raise DiagnosticError(
                        f"match: pattern {pattern_str(p)} needs an ADT value, got {describe(v)}",
                        _where(match),
                    )
                if v.tag != p.constructor.tag:
                    return None
                if len(v.fields) != len(p.patterns):
                    raise DiagnosticError(
                        f"match: pattern {pattern_str(p)} has {len(p.patterns)} fields, the "
                        f"value has {len(v.fields)}",
                        _where(match),
                    )
                stack.extend(zip(reversed(p.patterns), reversed(v.fields), strict=True))
            case PatternTuple():
                if not isinstance(v, tuple) or len(v) != len(p.patterns):
                    raise DiagnosticError(
                        f"match: pattern {pattern_str(p)} needs a tuple of {len(p.patterns)} "
                        f"fields, got {describe(v)}",
                        _where(match),
                    )
                stack.extend(zip(reversed(p.patterns), reversed(v), strict=True))
            case _:
                assert_never(p)
    return bindings


def _push(stack: list[_Task], env: Env, node: Expr) -> None:
    if node not in env and not isinstance(node, _ATOMS):
        stack.append((node, _START))


def _push_all(stack: list[_Task], env: Env, nodes: Sequence[Expr]) -> None:
    # Reversed, so that the first child is evaluated first.
    for node in reversed(nodes):
        if node not in env and not isinstance(node, _ATOMS):
            stack.append((node, _START))


# --- operators ------------------------------------------------------------------------------


def infer_op_type(op: Op, attrs: Attrs | None, args: Sequence[Value]) -> Type:
    """The output type of ``op`` applied to these values, by the operator's type relation."""
    _check_arity(op, args)
    arg_types = [value_type(a, f"argument {i} of {op.name}") for i, a in enumerate(args)]
    return _apply_relation(op, attrs, arg_types)


def _check_arity(op: Op, args: Sequence[Value]) -> None:
    expected = op.definition.num_inputs
    if expected >= 0 and len(args) != expected:
        raise DiagnosticError(f"operator {op.name} takes {expected} arguments, got {len(args)}")


def _apply_relation(op: Op, attrs: Attrs | None, arg_types: Sequence[Type]) -> Type:
    rel = op.definition.type_rel
    if rel is None:
        raise DiagnosticError(
            f"operator {op.name} has no type relation, so its output type is unknown; "
            "run InferType on the program first"
        )
    out = rel(list(arg_types), attrs)
    if not is_concrete(out):
        raise DiagnosticError(f"operator {op.name}: the relation gave a non-concrete type")
    return out


def eval_op(
    op: Op, attrs: Attrs | None, args: Sequence[Value], out_type: Type | None = None
) -> Value:
    """Apply ``op``'s numpy kernel: numpy arrays (or tuples of them) in and out.

    ``out_type`` is the call's output type; when None it is computed by the type relation.
    Kernels run with numpy floating-point warnings silenced (inf/nan results are values, as
    in compiled code), and their results are checked against ``out_type``: a mismatch is a
    bug in the operator's definition and raises InternalError.
    """
    with np.errstate(all="ignore"):
        return _eval_op(op, attrs, args, out_type)


def _eval_op(op: Op, attrs: Attrs | None, args: Sequence[Value], out_type: Type | None) -> Value:
    # The machine calls this directly: it silences numpy warnings once for a whole run.
    definition = op.definition
    if definition.kernel is None:
        raise OpNotImplemented(f"operator {op.name} has no reference kernel")
    _check_arity(op, args)
    if out_type is None:
        out_type = infer_op_type(op, attrs, args)
    try:
        result = definition.kernel(attrs, list(args), out_type)
    except TVMError:
        raise
    except Exception as exc:
        raise InternalError(f"the kernel of operator {op.name} failed: {exc!r}") from exc
    return _check_result(op, result, out_type)


def _kernel_leaf(op: Op, obj: object) -> Value:
    if isinstance(obj, np.ndarray):
        return obj
    if isinstance(obj, np.generic):
        scalar: Value = np.asarray(obj)
        return scalar
    raise InternalError(f"the kernel of operator {op.name} returned a {type(obj).__name__}")


def _check_result(op: Op, result: object, out_type: Type) -> Value:
    if isinstance(result, np.generic):
        result = np.asarray(result)
    if (
        isinstance(result, np.ndarray)
        and isinstance(out_type, TensorType)
        and result.shape == out_type.shape
        and dtype_name(result.dtype) == out_type.dtype
    ):
        return result  # the common case, checked without the general walk
    value: Value = map_tuples(
        result, lambda o: isinstance(o, tuple | list), lambda o: _kernel_leaf(op, o)
    )
    try:
        check_value(value, out_type, f"the result of operator {op.name}")
    except DiagnosticError as exc:
        raise InternalError(f"{exc.message} (its kernel disagrees with its type)") from None
    return value
