"""Which values a match does not cover: ``unmatched_cases`` (TVM's
``src/relay/analysis/match_exhaustion.cc``).

The check refines *candidate* patterns, starting from the wildcard ``_`` (every value). A
candidate is tried against the clauses in order:

* a clause whose pattern *clashes* with it (a different constructor somewhere both specify)
  is skipped;
* a clause that *matches* it (its pattern is at least as general everywhere) covers it;
* a clause that needs the candidate to be more specific (the clause names a constructor or
  a tuple where the candidate has a wildcard) splits the candidate: each wildcard the clause
  looks into becomes every constructor of its type (or a tuple of wildcards), and the
  refined candidates are tried in turn.

A candidate no clause covers or splits is a missing case. Candidates only get as specific as
the clauses' patterns, so the search ends. Patterns nest as deep as they are written; every
walk here uses an explicit stack.
"""

from __future__ import annotations

import itertools
from enum import Enum
from typing import assert_never

from minitvm.error import DiagnosticError
from minitvm.ir.adt import Constructor
from minitvm.ir.module import IRModule
from minitvm.relay.adt import (
    Match,
    Pattern,
    PatternConstructor,
    PatternTuple,
    PatternVar,
    PatternWildcard,
)

__all__ = ["unmatched_cases"]


class _Result(Enum):
    MATCH = "match"
    CLASH = "clash"
    UNSPECIFIED = "unspecified"
    """The candidate must be refined to decide."""


def _same_constructor(a: Constructor, b: Constructor) -> bool:
    return a is b or (a.name_hint == b.name_hint and a.belong_to == b.belong_to)


def _check(clause: Pattern, candidate: Pattern) -> _Result:
    """How ``clause`` relates to ``candidate``: a clash anywhere decides, then any place
    where the candidate is too general."""
    unspecified = False
    stack: list[tuple[Pattern, Pattern]] = [(clause, candidate)]
    while stack:
        pat, cand = stack.pop()
        match pat:
            case PatternWildcard() | PatternVar():
                pass
            case PatternConstructor():
                if not isinstance(cand, PatternConstructor):
                    unspecified = True
                elif not _same_constructor(pat.constructor, cand.constructor):
                    return _Result.CLASH
                else:
                    stack.extend(zip(pat.patterns, cand.patterns, strict=True))
            case PatternTuple():
                if not isinstance(cand, PatternTuple):
                    unspecified = True
                else:
                    stack.extend(zip(pat.patterns, cand.patterns, strict=True))
            case _:
                assert_never(pat)
    return _Result.UNSPECIFIED if unspecified else _Result.MATCH


def _wildcards(n: int) -> list[Pattern]:
    return [PatternWildcard() for _ in range(n)]


def _constructors_of(ctor: Constructor, mod: IRModule) -> tuple[Constructor, ...]:
    data = mod.type_definitions.get(ctor.belong_to)
    if data is None:
        raise DiagnosticError(
            f"match: constructor {ctor.name_hint} belongs to type {ctor.belong_to.name_hint}, "
            "which the module does not define"
        )
    return data.constructors


def _expand(clause: Pattern, candidate: Pattern, mod: IRModule) -> list[Pattern]:
    """The refinements of ``candidate`` that ``clause`` asks for: every wildcard of the
    candidate where the clause has a constructor or tuple is expanded once."""
    results: list[list[Pattern]] = []
    stack: list[tuple[Pattern, Pattern, bool]] = [(clause, candidate, False)]
    while stack:
        pat, cand, done = stack.pop()
        if isinstance(pat, PatternConstructor) and isinstance(cand, PatternWildcard):
            results.append(
                [
                    PatternConstructor(c, _wildcards(len(c.inputs)))
                    for c in _constructors_of(pat.constructor, mod)
                ]
            )
        elif isinstance(pat, PatternTuple) and isinstance(cand, PatternWildcard):
            results.append([PatternTuple(_wildcards(len(pat.patterns)))])
        elif isinstance(pat, PatternConstructor | PatternTuple) and isinstance(
            cand, PatternConstructor | PatternTuple
        ):
            if not done:
                stack.append((pat, cand, True))
                pairs = zip(reversed(pat.patterns), reversed(cand.patterns), strict=True)
                stack.extend((p, c, False) for p, c in pairs)
                continue
            n = len(cand.patterns)
            fields = results[len(results) - n :]
            del results[len(results) - n :]
            if isinstance(cand, PatternConstructor):
                ctor = cand.constructor
                results.append([PatternConstructor(ctor, f) for f in itertools.product(*fields)])
            else:
                results.append([PatternTuple(f) for f in itertools.product(*fields)])
        else:
            results.append([cand])
    return results[0]


def unmatched_cases(match: Match, mod: IRModule | None = None) -> list[Pattern]:
    """Patterns describing the values no clause of ``match`` handles (empty when the match is
    complete). ``mod`` defines the ADTs whose constructors the patterns name."""
    module = mod if mod is not None else IRModule()
    candidates: list[Pattern] = [PatternWildcard()]
    missing: list[Pattern] = []
    while candidates:
        candidate = candidates.pop()
        for clause in match.clauses:
            result = _check(clause.lhs, candidate)
            if result is _Result.CLASH:
                continue
            if result is _Result.UNSPECIFIED:
                candidates.extend(_expand(clause.lhs, candidate, module))
            break
        else:
            missing.append(candidate)
    return missing
