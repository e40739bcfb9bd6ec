"""Helpers for the operator spec tests: type and evaluate one operator call directly through
its registry record (``OpDef.type_rel`` and ``OpDef.kernel``), whatever passes exist."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from minitvm import relay
from minitvm.ir.op import Op
from minitvm.ir.type import TensorType, TupleType, Type
from minitvm.relay.expr import Call, Constant, Expr, Tuple, TupleGetItem, Var

__all__ = ["arg_type", "evaluate", "infer", "tt"]


def tt(shape: tuple[int, ...] | list[int], dtype: str = "float32") -> TensorType:
    return TensorType(shape, dtype)


def arg_type(e: Expr) -> Type:
    """The type of an argument expression: annotated vars, constants, tuples, nested calls."""
    if isinstance(e, Var):
        assert e.type_annotation is not None, "test vars carry annotations"
        return e.type_annotation
    if isinstance(e, Constant):
        return TensorType(e.data.shape, e.data.dtype)
    if isinstance(e, Tuple):
        return TupleType([arg_type(f) for f in e.fields])
    if isinstance(e, TupleGetItem):
        tup = arg_type(e.tuple_value)
        assert isinstance(tup, TupleType)
        return tup.fields[e.index]
    if isinstance(e, Call):
        return infer(e)
    raise AssertionError(f"unsupported test expression {type(e).__name__}")


def infer(expr: Expr | relay.TupleWrapper) -> Type:
    """The output type the operator's relation gives the call ``expr``."""
    call = expr.astuple() if isinstance(expr, relay.TupleWrapper) else expr
    if not isinstance(call, Call):
        return arg_type(call)
    assert isinstance(call.op, Op)
    rel = call.op.definition.type_rel
    assert rel is not None
    return rel([arg_type(a) for a in call.args], call.attrs)


def evaluate(e: Expr | relay.TupleWrapper, env: Mapping[Var, npt.ArrayLike] | None = None) -> Any:
    """Evaluate a tree of operator calls over vars bound in ``env``, with the kernels."""
    env = env or {}
    if isinstance(e, relay.TupleWrapper):
        e = e.astuple()
    if isinstance(e, Var):
        ty = e.type_annotation
        assert isinstance(ty, TensorType)
        return np.asarray(env[e], dtype=ty.dtype)
    if isinstance(e, Constant):
        return e.data.numpy()
    if isinstance(e, Tuple):
        return tuple(evaluate(f, env) for f in e.fields)
    if isinstance(e, TupleGetItem):
        return evaluate(e.tuple_value, env)[e.index]
    assert isinstance(e, Call)
    assert isinstance(e.op, Op)
    kernel = e.op.definition.kernel
    assert kernel is not None
    args = [evaluate(a, env) for a in e.args]
    return kernel(e.attrs, args, infer(e))
