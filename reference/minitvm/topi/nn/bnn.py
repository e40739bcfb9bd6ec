"""Binary neural networks: sign-bit packing and XNOR-popcount dense (TVM's ``topi/nn/bnn.py``).

``binarize_pack`` packs 32 consecutive elements along ``axis`` into a uint32, bit = ``x >= 0``,
the first element in the most significant bit. ``binary_dense`` of packed ``(batch, k)`` and
``(units, k)`` gives ``32 * k - 2 * popcount(a ^ b)`` summed over ``k``, as float32.
"""

from __future__ import annotations

from minitvm.error import DiagnosticError
from minitvm.te.operation import compute, reduce_axis
from minitvm.te.reduction import sum as te_sum
from minitvm.te.tensor import Tensor
from minitvm.tir import intrin
from minitvm.tir import op as tir_op
from minitvm.tir.expr import PrimExpr, Var, const
from minitvm.topi.utils import get_const_int, normalize_axis, simplify

__all__ = ["binarize_pack", "binary_dense"]


def binarize_pack(data: Tensor, axis: int | None = None, name: str = "PackedInput") -> Tensor:
    n = data.ndim
    axis = n - 1 if axis is None else normalize_axis(axis, n, "binarize_pack")
    if get_const_int(data.shape[axis]) % 32:
        raise DiagnosticError("binarize_pack: the packed dimension must be a multiple of 32")
    oshape = [simplify(d // 32) if k == axis else d for k, d in enumerate(data.shape)]

    def body(*idx: Var) -> PrimExpr:
        packed: PrimExpr = const(0, "uint32")
        for j in range(32):
            index = [idx[k] * 32 + j if k == axis else idx[k] for k in range(n)]
            bit = tir_op.cast(tir_op.greater_equal(data(*index), const(0, data.dtype)), "uint32")
            packed = tir_op.bitwise_or(packed, bit)
            if j < 31:
                packed = tir_op.left_shift(packed, const(1, "uint32"))
        return packed

    return compute(oshape, body, name=name)


def binary_dense(data: Tensor, weight: Tensor) -> Tensor:
    if data.dtype != "uint32" or weight.dtype != "uint32":
        raise DiagnosticError("binary_dense expects packed uint32 inputs")
    batch, in_dim = data.shape
    out_dim = weight.shape[0]
    k = reduce_axis((0, in_dim), name="k")

    def popc(i: Var, j: Var) -> PrimExpr:
        return te_sum(intrin.popcount(tir_op.bitwise_xor(data(i, k.var), weight(j, k.var))), axis=k)

    matmul = compute((batch, out_dim), popc, tag="binary_dense")
    total = tir_op.cast(in_dim * 32, "float32")

    def body(i: Var, j: Var) -> PrimExpr:
        return total - const(2.0, "float32") * tir_op.cast(matmul(i, j), "float32")

    return compute((batch, out_dim), body, tag="elemwise")
