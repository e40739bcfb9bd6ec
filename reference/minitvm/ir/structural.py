"""Structural equality and hashing (to be implemented)."""

from __future__ import annotations

__all__ = ["assert_structural_equal", "structural_equal", "structural_hash"]


def structural_equal(lhs: object, rhs: object, map_free_vars: bool = False) -> bool:
    raise NotImplementedError


def assert_structural_equal(lhs: object, rhs: object, map_free_vars: bool = False) -> None:
    raise NotImplementedError


def structural_hash(node: object, map_free_vars: bool = False) -> int:
    raise NotImplementedError
