"""The IR foundation: nodes, types, attributes, operators, modules, structural comparison,
and the pass infrastructure (``minitvm.ir.transform``)."""

from minitvm.ir import instrument, transform
from minitvm.ir.adt import Constructor, TypeData
from minitvm.ir.attrs import Attrs, DictAttrs, make_node
from minitvm.ir.expr import BaseFunc, GlobalVar, RelayExpr
from minitvm.ir.module import IRModule
from minitvm.ir.node import Node, Span
from minitvm.ir.op import Op, OpDef, OpPattern, register_op, register_op_attr
from minitvm.ir.structural import assert_structural_equal, structural_equal, structural_hash
from minitvm.ir.type import (
    FuncType,
    GlobalTypeVar,
    IncompleteType,
    RelayRefType,
    TensorType,
    TupleType,
    Type,
    TypeCall,
    TypeKind,
    TypeVar,
)

__all__ = [
    "Attrs",
    "BaseFunc",
    "Constructor",
    "DictAttrs",
    "FuncType",
    "GlobalTypeVar",
    "GlobalVar",
    "IRModule",
    "IncompleteType",
    "Node",
    "Op",
    "OpDef",
    "OpPattern",
    "RelayExpr",
    "RelayRefType",
    "Span",
    "TensorType",
    "TupleType",
    "Type",
    "TypeCall",
    "TypeData",
    "TypeKind",
    "TypeVar",
    "assert_structural_equal",
    "instrument",
    "make_node",
    "register_op",
    "register_op_attr",
    "structural_equal",
    "structural_hash",
    "transform",
]
