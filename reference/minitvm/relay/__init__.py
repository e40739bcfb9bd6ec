"""Relay: the high-level functional IR, its operators, passes and interpreter."""

from minitvm.ir.adt import Constructor, TypeData
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.type import (
    FuncType,
    GlobalTypeVar,
    IncompleteType,
    RefType,
    TensorType,
    TupleType,
    Type,
    TypeCall,
    TypeKind,
    TypeVar,
)
from minitvm.relay import analysis, build_module, interpreter, op, testing, transform
from minitvm.relay.adt import (
    Clause,
    Match,
    Pattern,
    PatternConstructor,
    PatternTuple,
    PatternVar,
    PatternWildcard,
)
from minitvm.relay.build_module import build, optimize
from minitvm.relay.builder import const, scalar_type, var
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
    TupleWrapper,
    Var,
)
from minitvm.relay.expr_functor import ExprMutator, ExprVisitor
from minitvm.relay.function import Function
from minitvm.relay.interpreter import create_executor
from minitvm.relay.op import annotation, nn
from minitvm.relay.op.algorithm import *  # noqa: F403 - TVM's flat namespace of operator builders
from minitvm.relay.op.algorithm import __all__ as _op_algorithm_all
from minitvm.relay.op.reduce import *  # noqa: F403
from minitvm.relay.op.reduce import __all__ as _op_reduce_all
from minitvm.relay.op.tensor import *  # noqa: F403
from minitvm.relay.op.tensor import __all__ as _op_tensor_all
from minitvm.relay.op.transform import *  # noqa: F403
from minitvm.relay.op.transform import __all__ as _op_transform_all
from minitvm.relay.parser import fromtext, parse, parse_expr
from minitvm.relay.scope_builder import ScopeBuilder

__all__ = [
    "Call",
    "Clause",
    "Constant",
    "Constructor",
    "Expr",
    "ExprMutator",
    "ExprVisitor",
    "FuncType",
    "Function",
    "GlobalTypeVar",
    "GlobalVar",
    "IRModule",
    "If",
    "IncompleteType",
    "Let",
    "Match",
    "Pattern",
    "PatternConstructor",
    "PatternTuple",
    "PatternVar",
    "PatternWildcard",
    "RefCreate",
    "RefRead",
    "RefType",
    "RefWrite",
    "ScopeBuilder",
    "TensorType",
    "Tuple",
    "TupleGetItem",
    "TupleType",
    "TupleWrapper",
    "Type",
    "TypeCall",
    "TypeData",
    "TypeKind",
    "TypeVar",
    "Var",
    "analysis",
    "build",
    "build_module",
    "const",
    "create_executor",
    "fromtext",
    "interpreter",
    "scalar_type",
    "testing",
    "transform",
    "var",
    "op",
    "parse",
    "parse_expr",
    "optimize",
    "annotation",
    "nn",
    *_op_algorithm_all,
    *_op_reduce_all,
    *_op_tensor_all,
    *_op_transform_all,
]
