"""Compilation targets (``tvm.target``)."""

from minitvm.target.target import Target, TargetKind, list_kinds

__all__ = ["Target", "TargetKind", "list_kinds"]
