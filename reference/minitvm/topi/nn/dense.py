"""``dense``, ``nn.matmul`` and ``batch_matmul`` (TVM's ``topi/nn/{dense,batch_matmul}.py``).

``dense(x, w)`` is ``x @ w.T`` (weights are ``(out_dim, in_dim)``), accumulated in
``out_dtype`` (default: the input dtype). The weight is marked as a layout-free placeholder,
which ``create_prim_func`` turns into the ``layout_free_buffers`` function attribute, as TVM.
``batch_matmul`` broadcasts a batch dimension of 1.
"""

from __future__ import annotations

from minitvm.error import DiagnosticError
from minitvm.te.operation import compute, reduce_axis
from minitvm.te.reduction import sum as te_sum
from minitvm.te.tensor import Tensor
from minitvm.tir import op as tir_op
from minitvm.tir.expr import PrimExpr, Var, const
from minitvm.topi.utils import get_const_int

__all__ = ["batch_matmul", "dense", "matmul"]


def _one(t: Tensor | tuple[Tensor, ...]) -> Tensor:
    if isinstance(t, tuple):
        raise DiagnosticError("expected one output")
    return t


def _reduced(e: PrimExpr | tuple[PrimExpr, ...]) -> PrimExpr:
    if isinstance(e, tuple):
        raise DiagnosticError("expected a single-value reduction")
    return e


def matmul(
    tensor_a: Tensor,
    tensor_b: Tensor,
    bias: Tensor | None = None,
    out_dtype: str | None = None,
    transpose_a: bool = False,
    transpose_b: bool = False,
) -> Tensor:
    """``op(a) @ op(b) (+ bias)`` for 2-d tensors, named ``T_matmul_{N|T}{N|T}``."""
    if tensor_a.ndim != 2 or tensor_b.ndim != 2:
        raise DiagnosticError("matmul expects 2-d tensors")
    dtype = out_dtype or tensor_a.dtype
    batch, in_a = (tensor_a.shape[1], tensor_a.shape[0]) if transpose_a else tensor_a.shape
    in_b, out_dim = (tensor_b.shape[1], tensor_b.shape[0]) if transpose_b else tensor_b.shape
    if get_const_int(in_a) != get_const_int(in_b):
        raise DiagnosticError(f"matmul: reduction dimensions differ: {in_a} vs {in_b}")
    k = reduce_axis((0, in_a), name="k")

    def body(i: Var, j: Var) -> PrimExpr:
        a = tensor_a(k.var, i) if transpose_a else tensor_a(i, k.var)
        b = tensor_b(j, k.var) if transpose_b else tensor_b(k.var, j)
        return _reduced(te_sum(tir_op.cast(a, dtype) * tir_op.cast(b, dtype), axis=k))

    name = f"T_matmul_{'T' if transpose_a else 'N'}{'T' if transpose_b else 'N'}"
    tag = "dense" if (not transpose_a and transpose_b) else "matmul"
    mat = _one(
        compute(
            (batch, out_dim),
            body,
            name=name,
            tag=tag,
            attrs={"layout_free_placeholders": (tensor_b,)},
        )
    )
    if bias is None:
        return mat
    return _one(
        compute(
            (batch, out_dim), lambda i, j: mat(i, j) + tir_op.cast(bias(j), dtype), tag="broadcast"
        )
    )


def dense(
    data: Tensor, weight: Tensor, bias: Tensor | None = None, out_dtype: str | None = None
) -> Tensor:
    """``data @ weight.T (+ bias)``."""
    return matmul(data, weight, bias, out_dtype, False, True)


def batch_matmul(
    tensor_a: Tensor,
    tensor_b: Tensor,
    oshape: object = None,
    out_dtype: str | None = None,
    transpose_a: bool = False,
    transpose_b: bool = True,
) -> Tensor:
    """Batched ``op(a) @ op(b)`` over 3-d tensors; a batch dimension of 1 broadcasts."""
    if tensor_a.ndim != 3 or tensor_b.ndim != 3:
        raise DiagnosticError("batch_matmul expects 3-d tensors")
    dtype = out_dtype or tensor_a.dtype
    ba, m, ka = (
        (tensor_a.shape[0], tensor_a.shape[2], tensor_a.shape[1]) if transpose_a else tensor_a.shape
    )
    bb, kb, n = (
        (tensor_b.shape[0], tensor_b.shape[2], tensor_b.shape[1]) if transpose_b else tensor_b.shape
    )
    if get_const_int(ka) != get_const_int(kb):
        raise DiagnosticError(f"batch_matmul: reduction dimensions differ: {ka} vs {kb}")
    ba_i, bb_i = get_const_int(ba), get_const_int(bb)
    if ba_i != bb_i and 1 not in (ba_i, bb_i):
        raise DiagnosticError(f"batch_matmul: batch dimensions {ba_i} and {bb_i} do not broadcast")
    batch = ba if ba_i != 1 else bb
    k = reduce_axis((0, ka), name="k")

    def body(b: Var, i: Var, j: Var) -> PrimExpr:
        x_b = const(0, b.dtype) if ba_i == 1 else b
        y_b = const(0, b.dtype) if bb_i == 1 else b
        x = tensor_a(x_b, k.var, i) if transpose_a else tensor_a(x_b, i, k.var)
        y = tensor_b(y_b, j, k.var) if transpose_b else tensor_b(y_b, k.var, j)
        return _reduced(te_sum(tir_op.cast(x, dtype) * tir_op.cast(y, dtype), axis=k))

    name = f"T_batch_matmul_{'T' if transpose_a else 'N'}{'T' if transpose_b else 'N'}"
    return _one(compute((batch, m, n), body, name=name, tag="batch_matmul"))
