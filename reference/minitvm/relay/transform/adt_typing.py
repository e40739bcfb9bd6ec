"""Type inference for references, constructors and pattern matching (part of InferType).

TVM: ``TypeInferencer::VisitExpr_`` for ``RefCreate``/``RefRead``/``RefWrite``/``Constructor``/
``Match`` and ``VisitPattern_`` in ``src/relay/transforms/type_infer.cc``, the kind checks of
``src/relay/analysis/kind_check.cc`` for ADT types, and the completeness check of
``match_exhaustion.cc``:

* ``ref(v) : ref(T)`` when ``v : T``; ``ref_read(r) : T`` and ``ref_write(r, v) : ()`` when
  ``r : ref(T)`` (and ``v : T``).
* A constructor ``C`` of ``type D[A1..An] { ..., C(T1..Tk), ... }`` has the polymorphic type
  ``fn [A1..An](T1..Tk) -> D[A1..An]``; each call instantiates it, as for a polymorphic global.
* ``match (e) { p => rhs, ... }``: each pattern is typed against ``e``'s type, top-down. A
  constructor pattern makes the type ``D[X1..Xn]`` for fresh ``Xi`` and types its
  sub-patterns against the constructor's field types with ``Ai := Xi``; a tuple pattern
  makes the type a tuple of fresh types; a variable pattern takes the type (or is checked
  against its annotation). All right-hand sides have one type, the match's. A complete
  match must cover every value (``unmatched_cases``); the error lists the missing cases.
* Type annotations naming ADTs must name a type the module defines, with as many type
  arguments as it has parameters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from minitvm.ir.adt import Constructor, TypeData
from minitvm.ir.type import (
    FuncType,
    GlobalTypeVar,
    IncompleteType,
    RelayRefType,
    TupleType,
    Type,
    TypeCall,
    TypeVar,
    type_str,
)
from minitvm.ir.type_functor import substitute, type_children
from minitvm.relay.adt import (
    Match,
    Pattern,
    PatternConstructor,
    PatternTuple,
    PatternVar,
    PatternWildcard,
    pattern_str,
)
from minitvm.relay.analysis.match_exhaustion import unmatched_cases
from minitvm.relay.expr import Expr, RefCreate, RefRead, RefWrite
from minitvm.relay.location import describe

if TYPE_CHECKING:
    from minitvm.relay.transform.type_inferencer import Scope, TypeInferencer

__all__ = ["AdtTyping"]


class AdtTyping:
    """The ADT and reference rules of one ``TypeInferencer``."""

    def __init__(self, inferencer: TypeInferencer) -> None:
        self.inf = inferencer
        self._checked: set[int] = set()
        self._keep: list[Type] = []  # keeps checked types alive, so that no id() is reused

    # --- type definitions ---------------------------------------------------------------------

    def type_data(self, gtv: GlobalTypeVar, where: Expr, what: str) -> TypeData:
        mod = self.inf.mod
        if mod is None:
            raise self.inf.error(where, f"{what} cannot be typed without a module defining it")
        data = mod.type_definitions.get(gtv)
        if data is None:
            raise self.inf.error(
                where, f"{what}: type {gtv.name_hint} is not defined in the module"
            )
        return data

    def check_type(self, ty: Type | None, where: Expr) -> None:
        """Every ADT a type annotation names must be defined, with the right number of type
        arguments (only checked when typing a module)."""
        if ty is None or self.inf.mod is None or id(ty) in self._checked:
            return
        self._checked.add(id(ty))
        self._keep.append(ty)
        stack: list[Type] = [ty]
        while stack:
            t = stack.pop()
            if id(t) in self._checked and t is not ty:  # a shared subtype is checked once
                continue
            self._checked.add(id(t))
            self._keep.append(t)
            if isinstance(t, TypeCall):
                self._check_call(t, where)
                stack.extend(t.args)
            elif isinstance(t, GlobalTypeVar):
                self._check_call(TypeCall(t), where)
            else:
                stack.extend(type_children(t))

    def _check_call(self, call: TypeCall, where: Expr) -> None:
        if not isinstance(call.func, GlobalTypeVar):
            raise self.inf.error(
                where,
                f"type `{type_str(call)}`: only an ADT can take type arguments, not "
                f"`{type_str(call.func)}`",
            )
        data = self.type_data(call.func, where, f"type `{type_str(call)}`")
        if len(data.type_vars) != len(call.args):
            raise self.inf.error(
                where,
                f"type `{type_str(call)}`: {call.func.name_hint} takes "
                f"{len(data.type_vars)} type argument(s), but {len(call.args)} are given",
            )

    # --- expressions --------------------------------------------------------------------------

    def constructor_type(self, ctor: Constructor) -> FuncType:
        data = self.type_data(ctor.belong_to, ctor, describe(ctor))
        if not any(c.name_hint == ctor.name_hint for c in data.constructors):
            raise self.inf.error(
                ctor,
                f"{describe(ctor)} is not a constructor of type {data.header.name_hint} in the "
                f"module (its constructors: "
                f"{', '.join(c.name_hint for c in data.constructors) or 'none'})",
            )
        result = TypeCall(ctor.belong_to, data.type_vars)
        return FuncType(ctor.inputs, result, data.type_vars)

    def ref_type(self, node: RefCreate | RefRead | RefWrite) -> Type:
        inf, types = self.inf, self.inf.types
        match node:
            case RefCreate():
                return RelayRefType(types[node.value])
            case RefRead():
                content = inf.solver.fresh()
                inf.unify(
                    RelayRefType(content),
                    types[node.ref],
                    node,
                    "the reference ref_read reads",
                    "ref",
                )
                return content
            case RefWrite():
                content = inf.solver.fresh()
                inf.unify(
                    RelayRefType(content),
                    types[node.ref],
                    node,
                    "the reference ref_write writes",
                    "ref",
                )
                inf.unify(
                    content,
                    types[node.value],
                    node,
                    "the value ref_write writes (it must match the reference's contents)",
                    "value",
                )
                return TupleType([])

    # --- match --------------------------------------------------------------------------------

    def bind_patterns(self, match: Match, scope: Scope) -> None:
        """Type every clause's pattern against the type of the match's data."""
        data_type = self.inf.types[match.data]
        for index, clause in enumerate(match.clauses):
            self._bind_pattern(clause.lhs, data_type, match, index, scope)

    def _bind_pattern(
        self, pattern: Pattern, data_type: Type, match: Match, index: int, scope: Scope
    ) -> None:
        inf = self.inf
        step = f"clauses[{index}].lhs"
        stack: list[tuple[Pattern, Type]] = [(pattern, data_type)]
        while stack:
            pat, ty = stack.pop()

            def what(p: Pattern = pat) -> str:
                return f"the pattern `{pattern_str(p)}` of {describe(match)}"

            match pat:
                case PatternWildcard():
                    pass
                case PatternVar():
                    var = pat.var
                    if var not in inf.types:
                        declared = inf.declared_type(var)
                        inf.types[var] = declared if declared is not None else inf.solver.fresh()
                    inf.binders.append((var, scope))
                    inf.unify(inf.types[var], ty, match, what, step)
                case PatternConstructor():
                    ctor = pat.constructor
                    data = self.type_data(ctor.belong_to, match, what())
                    if len(pat.patterns) != len(ctor.inputs):
                        raise inf.error(
                            match,
                            f"{what()}: constructor {ctor.name_hint} has {len(ctor.inputs)} "
                            f"field(s), but the pattern has {len(pat.patterns)}",
                            step,
                        )
                    args: list[Type] = [inf.solver.fresh() for _ in data.type_vars]
                    inf.unify(TypeCall(ctor.belong_to, args), ty, match, what, step)
                    mapping: dict[TypeVar, Type] = dict(zip(data.type_vars, args, strict=True))
                    fields = [substitute(t, mapping) for t in ctor.inputs]
                    stack.extend(zip(reversed(pat.patterns), reversed(fields), strict=True))
                case PatternTuple():
                    parts: list[Type] = [inf.solver.fresh() for _ in pat.patterns]
                    inf.unify(TupleType(parts), ty, match, what, step)
                    stack.extend(zip(reversed(pat.patterns), reversed(parts), strict=True))

    def match_type(self, match: Match) -> Type:
        """The type of the right-hand sides (one type for all), after the completeness check
        of a complete match."""
        inf = self.inf
        result: Type = IncompleteType()
        for index, clause in enumerate(match.clauses):
            rhs = inf.types[clause.rhs]
            if index == 0:
                result = rhs
                continue

            def what(i: int = index) -> str:
                return (
                    f"clause {i} of {describe(match)} (every clause must have the type of the "
                    "first)"
                )

            inf.unify(result, rhs, match, what, f"clauses[{index}].rhs")
        if match.complete:
            missing = unmatched_cases(match, inf.mod)
            if missing:
                cases = "; ".join(pattern_str(p) for p in missing)
                raise inf.error(
                    match,
                    f"{describe(match)} does not handle every value: missing case(s) {cases} "
                    "(add clauses for them, or write `match?` for a partial match)",
                )
        return result
