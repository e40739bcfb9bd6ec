"""TIR: the loop-nest level IR. So far its scalar immediates."""

from minitvm.tir.expr import FloatImm, IntImm, StringImm, const

__all__ = ["FloatImm", "IntImm", "StringImm", "const"]
