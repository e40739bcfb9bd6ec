"""Hypothesis strategies for the parser's properties: expressions of every construct the text
format has, well scoped but not necessarily well typed (``parse_expr`` does not type check).

The well-typed programs of ``relay.testing.program_gen`` use few literals, names and
attributes; these add what they lack: scalar literals of every inline dtype, constants of
every dtype that go to the metadata section, names with ``_``, ``.``, ``/``, digits and
non-ASCII letters (and repeated names, which the printer numbers), every type form as an
annotation, call attributes, function attributes, lets, ifs, closures, tuples and
projections, and shared sub-expressions. Uses of a variable stay within its binder's scope:
each scope draws from the expressions built in it or in the scopes around it.

Generation recurses over construct nesting, bounded by ``MAX_DEPTH``.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from minitvm import relay
from minitvm.ir.op import Op
from minitvm.ir.type import FuncType, IncompleteType, TensorType, TupleType, Type
from minitvm.relay.expr import Expr
from minitvm.runtime.dtype import DTYPES
from minitvm.tir.expr import FloatImm, IntImm

__all__ = ["MAX_DEPTH", "expressions"]

MAX_DEPTH = 3

_NAMES = st.one_of(
    st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,4}", fullmatch=True),
    st.sampled_from(["x", "x1", "_a", "1", "", "base/x", "layer.weight", "a/b.c", "é", "名"]),
)
_INT_RANGES = {"int16": 2**15, "int32": 2**31, "int64": 2**63}


def _six_digits(draw: st.DrawFn, max_exp: int) -> float:
    """A float with at most 6 significant digits, which the printer writes exactly."""
    mantissa = draw(st.integers(-999_999, 999_999))
    exponent = draw(st.integers(-12, max_exp))
    return float(f"{mantissa}e{exponent}")


@st.composite
def scalars(draw: st.DrawFn) -> Expr:
    """A rank-0 constant of a dtype the printer writes inline."""
    dtype = draw(
        st.sampled_from(["int16", "int32", "int64", "float16", "float32", "float64", "bool"])
    )
    if dtype == "bool":
        return relay.const(draw(st.booleans()))
    if dtype in _INT_RANGES:
        bound = _INT_RANGES[dtype]
        return relay.const(draw(st.integers(-bound, bound - 1)), dtype)
    if dtype == "float16":
        value = draw(st.floats(width=16))
    elif draw(st.integers(0, 9)) == 0:
        value = draw(st.sampled_from([math.inf, -math.inf, math.nan, -0.0]))
    else:
        value = _six_digits(draw, 30)
    return relay.const(value, dtype)


@st.composite
def arrays(draw: st.DrawFn) -> Expr:
    """A constant the printer puts in the metadata section."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = tuple(draw(st.lists(st.integers(0, 3), min_size=0, max_size=2)))
    if shape == () and dtype in (
        "int16",
        "int32",
        "int64",
        "float16",
        "float32",
        "float64",
        "bool",
    ):
        shape = (1,)
    seed = draw(st.integers(0, 2**32 - 1))
    raw = np.random.default_rng(seed).integers(
        0, 256, size=math.prod(shape) * np.dtype(dtype).itemsize
    )
    data = np.frombuffer(raw.astype("uint8").tobytes(), dtype=dtype).reshape(shape)
    if dtype == "bool":
        data = data.astype(bool)
    return relay.const(data.copy(), dtype)


def types(depth: int = 0) -> st.SearchStrategy[Type]:
    tensor = st.builds(
        TensorType,
        st.lists(st.integers(0, 4), max_size=3),
        st.sampled_from(DTYPES),
    )
    leaf = st.one_of(tensor, st.builds(IncompleteType))
    if depth >= 2:
        return leaf
    inner = st.deferred(lambda: types(depth + 1))
    return st.one_of(
        leaf,
        st.builds(TupleType, st.lists(inner, max_size=3)),
        st.builds(FuncType, st.lists(inner, max_size=2), inner),
    )


def _attr_values(depth: int = 0) -> st.SearchStrategy[object]:
    leaf = st.one_of(
        st.integers(-(2**40), 2**40),
        st.booleans(),
        st.text(max_size=4),
        st.none(),
        st.builds(IntImm, st.just("int16"), st.integers(-100, 100)),
        st.builds(
            FloatImm, st.sampled_from(["float16", "float64"]), st.sampled_from([0.5, -2.0, 1e-5])
        ),
    )
    if depth >= 2:
        return leaf
    return st.one_of(leaf, st.lists(st.deferred(lambda: _attr_values(depth + 1)), max_size=3))


class _Scope:
    """The expressions a scope may use: built in it or in the scopes around it."""

    def __init__(self, pool: list[Expr]) -> None:
        self.pool = pool

    def child(self, *bound: Expr) -> _Scope:
        return _Scope([*self.pool, *bound])


class _Builder:
    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw

    def var(self, annotated: bool = True) -> relay.Var:
        ty = self.draw(st.one_of(st.none(), types())) if annotated else None
        return relay.Var(self.draw(_NAMES), ty)

    def expr(self, scope: _Scope, depth: int) -> Expr:
        draw = self.draw
        kinds = ["scalar", "array", "free_var"] + (["reuse"] if scope.pool else [])
        if depth < MAX_DEPTH:
            kinds += ["tuple", "project", "op", "attrs_op", "let", "if", "fn", "call_fn"]
        kind = draw(st.sampled_from(kinds))
        expr = self.build(kind, scope, depth)
        scope.pool.append(expr)
        return expr

    def build(self, kind: str, scope: _Scope, depth: int) -> Expr:  # noqa: C901  (one case per construct)
        draw = self.draw
        sub = depth + 1
        if kind == "scalar":
            return draw(scalars())
        if kind == "array":
            return draw(arrays())
        if kind == "free_var":
            return self.var()
        if kind == "reuse":
            return draw(st.sampled_from(scope.pool))
        if kind == "tuple":
            return relay.Tuple([self.expr(scope, sub) for _ in range(draw(st.integers(0, 3)))])
        if kind == "project":
            value = self.expr(scope, sub)
            if isinstance(value, relay.Constant) and value.data.dtype == "int32":
                # `0.0` would read as a float literal missing its suffix (PARSE-18).
                value = relay.Tuple([value])
            return relay.TupleGetItem(value, draw(st.integers(0, 3)))
        if kind == "op":
            name = draw(st.sampled_from(["add", "multiply", "negative", "equal", "subtract"]))
            arity = 1 if name == "negative" else 2
            return relay.Call(Op.get(name), [self.expr(scope, sub) for _ in range(arity)])
        if kind == "attrs_op":
            x = self.expr(scope, sub)
            choice = draw(st.integers(0, 3))
            if choice == 0:
                return relay.clip(x, _six_digits(draw, 3), _six_digits(draw, 3))
            if choice == 1:
                return relay.cast(x, draw(st.sampled_from(DTYPES)))
            if choice == 2:
                return relay.nn.softmax(x, axis=draw(st.integers(-3, 3)))
            return relay.reshape(
                x, tuple(draw(st.lists(st.integers(-1, 4), min_size=1, max_size=3)))
            )
        if kind == "let":
            v = self.var()
            value = self.expr(scope, sub)
            return relay.Let(v, value, self.expr(scope.child(v), sub))
        if kind == "if":
            cond = self.expr(scope, sub)
            return relay.If(cond, self.expr(scope.child(), sub), self.expr(scope.child(), sub))
        if kind == "fn":
            return self.function(scope, sub)
        func = self.function(scope, sub)
        return relay.Call(func, [self.expr(scope, sub) for _ in func.params])

    def function(self, scope: _Scope, depth: int) -> relay.Function:
        draw = self.draw
        params = [self.var() for _ in range(draw(st.integers(0, 2)))]
        body = self.expr(scope.child(*params), depth)
        ret = draw(st.one_of(st.none(), types()))
        attrs = draw(
            st.dictionaries(
                st.sampled_from(["Primitive", "Compiler", "k", "relay.reshape_only"]),
                _attr_values(),
                max_size=2,
            )
        )
        return relay.Function(params, body, ret, attrs=attrs)


@st.composite
def expressions(draw: st.DrawFn) -> Expr:
    """An expression of every construct; free variables are declared by the printer."""
    return _Builder(draw).expr(_Scope([]), 0)
