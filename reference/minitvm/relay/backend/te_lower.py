"""A primitive Relay function as one TE graph (TVM's ``LowerToTECompute`` in
``src/relay/backend/te_compiler_cache.cc``).

Each parameter becomes a placeholder (a tuple parameter one per field, flattened as TVM
does); each operator call applies the operator's ``FTVMCompute`` to the tensors of its
arguments and the call's checked type; tuples, projections and lets just route tensors. A
scalar constant becomes a 0-d compute of its value, and any other constant a placeholder fed
with the constant's data. When BLAS is enabled, the first matmul-like anchor becomes a
library call (``externs``) whose output is a placeholder the rest of the graph reads.

The function's name is TVM's: ``fused_`` and the operators' names in evaluation order, dots
replaced by underscores, shortened with a digest beyond 80 characters.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from minitvm import te
from minitvm.error import DiagnosticError, InternalError
from minitvm.ir.expr import GlobalVar
from minitvm.ir.op import Op
from minitvm.ir.type import TensorType, TupleType, Type
from minitvm.relay.backend.externs import ExternCall, make_extern
from minitvm.relay.expr import Call, Constant, Expr, If, Let, Tuple, TupleGetItem, Var
from minitvm.relay.expr_functor import iter_post_order
from minitvm.relay.function import Function
from minitvm.te.tensor import PlaceholderOp, Tensor
from minitvm.tir.expr import const
from minitvm.topi import relay_compute

__all__ = ["LoweredFunc", "NotLowerable", "TEValue", "flat_types", "lower_to_te", "fused_name"]

Array = npt.NDArray[Any]
TEValue: TypeAlias = "Tensor | tuple[TEValue, ...]"

relay_compute.register()


class NotLowerable(DiagnosticError):
    """The function uses something with no TE compute (an operator, control flow...)."""


@dataclass
class LoweredFunc:
    """The TE graph of a primitive function."""

    name: str
    inputs: list[Tensor]
    """One placeholder per flattened parameter, in order."""
    outputs: list[Tensor]
    """One tensor per flattened result."""
    constants: list[tuple[Tensor, Array]] = field(default_factory=list)
    externs: list[ExternCall] = field(default_factory=list)
    op_names: list[str] = field(default_factory=list)


def flat_types(ty: Type | None, what: str = "value") -> list[TensorType]:
    """The tensor types of a (possibly nested) tuple type, depth first."""
    out: list[TensorType] = []
    stack: list[Type | None] = [ty]
    while stack:
        t = stack.pop()
        if isinstance(t, TensorType):
            out.append(t)
        elif isinstance(t, TupleType):
            stack.extend(reversed(t.fields))
        else:
            raise NotLowerable(f"{what}: expected tensors or tuples of tensors, got {t}")
    return out


def _flatten(value: TEValue) -> list[Tensor]:
    out: list[Tensor] = []
    stack: list[TEValue] = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, Tensor):
            out.append(v)
        else:
            stack.extend(reversed(v))
    return out


def _structure(flat: list[Tensor], ty: Type) -> TEValue:
    """``flat`` regrouped as ``ty``'s tuple structure (built bottom-up, without recursion:
    tuple types nest as deep as the program's tuples)."""
    it = iter(flat)
    if not isinstance(ty, TupleType):
        return next(it)
    pending: list[tuple[TupleType, list[TEValue]]] = [(ty, [])]
    while True:
        tt, built = pending[-1]
        if len(built) == len(tt.fields):
            pending.pop()
            value: TEValue = tuple(built)
            if not pending:
                return value
            pending[-1][1].append(value)
            continue
        nxt = tt.fields[len(built)]
        if isinstance(nxt, TupleType):
            pending.append((nxt, []))
        else:
            built.append(next(it))


def fused_name(op_names: list[str]) -> str:
    name = "fused_" + "_".join(n.replace(".", "_") for n in op_names) if op_names else "fused"
    if len(name) > 80:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = name[:70] + "_" + digest
    return name


class _Lowerer:
    def __init__(self, func: Function, use_blas: bool) -> None:
        self.func = func
        self.use_blas = use_blas
        self.values: dict[Expr, TEValue] = {}
        self.lowered = LoweredFunc("", [], [])
        self.let_values: dict[Var, Expr] = {}

    def params(self) -> None:
        for k, p in enumerate(self.func.params):
            ty = p.checked_type_ or p.type_annotation
            tensors = [
                te.placeholder(t.shape, t.dtype, f"p{k}" if i == 0 else f"p{k}_{i}")
                for i, t in enumerate(flat_types(ty, f"parameter %{p.name_hint}"))
            ]
            self.lowered.inputs.extend(tensors)
            self.values[p] = _structure(tensors, ty) if ty is not None else tensors[0]

    def value(self, e: Expr) -> TEValue:
        if isinstance(e, Var) and e in self.let_values:
            return self.value_of_let(e)
        v = self.values.get(e)
        if v is None:
            raise InternalError(f"lower_to_te: {type(e).__name__} used before it was lowered")
        return v

    def value_of_let(self, var: Var) -> TEValue:
        # A let chain binds variables to values lowered earlier; follow it iteratively.
        e: Expr = var
        while isinstance(e, Var) and e in self.let_values:
            e = self.let_values[e]
        return self.value(e)

    def node(self, e: Expr) -> None:  # noqa: C901  (a flat dispatch over the union)
        match e:
            case Var():
                if e not in self.values and e not in self.let_values:
                    raise NotLowerable(f"free variable %{e.name_hint} in a primitive function")
            case Constant():
                self.values[e] = self.constant(e)
            case Call():
                self.call(e)
            case Tuple():
                self.values[e] = tuple(self.value(f) for f in e.fields)
            case TupleGetItem():
                tup = self.value(e.tuple_value)
                if not isinstance(tup, tuple):
                    raise NotLowerable("projection of a non-tuple value")
                self.values[e] = tup[e.index]
            case Let():
                self.values[e] = self.value(e.body)
            case Op():
                pass
            case Function() | If() | GlobalVar():
                raise NotLowerable(f"{type(e).__name__} inside a primitive function")
            case _:
                raise NotLowerable(f"{type(e).__name__} inside a primitive function")

    def constant(self, c: Constant) -> Tensor:
        data = np.asarray(c.data)
        dtype = str(data.dtype)
        if data.ndim == 0:
            value = data.item()
            return te.compute((), lambda: const(value, dtype), "constant")
        ph = te.placeholder(data.shape, dtype, f"c{len(self.lowered.constants)}")
        self.lowered.constants.append((ph, data))
        return ph

    def call(self, call: Call) -> None:
        op = call.op
        if not isinstance(op, Op):
            raise NotLowerable("a call of a non-operator inside a primitive function")
        out_type = call.checked_type_
        if out_type is None:
            raise NotLowerable(f"call of {op.name} has no checked type; run InferType first")
        args = [t for a in call.args for t in _flatten(self.value(a))]
        self.lowered.op_names.append(op.name)
        if self.use_blas and not self.lowered.externs and isinstance(out_type, TensorType):
            ext = make_extern(op.name, call.attrs, args, out_type)
            if ext is not None:
                self.lowered.externs.append(ext)
                self.values[call] = ext.output
                return
        fcompute = op.definition.get_extra("FTVMCompute")
        if fcompute is None:
            raise NotLowerable(f"operator {op.name} has no FTVMCompute")
        outs = list(fcompute(call.attrs, args, out_type))
        expected = flat_types(out_type, f"the result of {op.name}")
        if len(outs) != len(expected):
            raise InternalError(f"{op.name}: the compute gave {len(outs)} outputs")
        for t, ty in zip(outs, expected, strict=True):
            shape = tuple(int(d) for d in t.shape)
            if shape != ty.shape or t.dtype != ty.dtype:
                raise InternalError(
                    f"{op.name}: the compute gives {t.dtype}{list(shape)}, the type says {ty}"
                )
        self.values[call] = _structure(outs, out_type)

    def run(self) -> LoweredFunc:
        self.params()
        for n in iter_post_order(self.func.body):
            if isinstance(n, Let):
                self.let_values[n.var] = n.value
        for n in iter_post_order(self.func.body, lambda x: not isinstance(x, Function)):
            self.node(n)
        outputs = _flatten(self.value(self.func.body))
        direct = {e.output for e in self.lowered.externs}
        self.lowered.outputs = _distinct_outputs(outputs, direct)
        self.lowered.name = fused_name(self.lowered.op_names)
        return self.lowered


def _distinct_outputs(outputs: list[Tensor], direct: set[Tensor]) -> list[Tensor]:
    """Each output a tensor of its own, computed here or by a library call (``direct``):
    parameters and repeated tensors are copied."""
    seen: set[Tensor] = set()
    out: list[Tensor] = []
    for t in outputs:
        if (isinstance(t.op, PlaceholderOp) and t not in direct) or t in seen:
            src = t
            t = te.compute(src.shape, lambda *i, s=src: s(*i), "copy", "elemwise")
        seen.add(t)
        out.append(t)
    return out


def lower_to_te(func: Function, use_blas: bool = True) -> LoweredFunc:
    """The TE graph of ``func`` (type checked, ``Primitive``); NotLowerable when an operator
    has no TE compute or the body is not a dataflow graph."""
    return _Lowerer(func, use_blas).run()
