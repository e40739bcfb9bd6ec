"""``relay.prelude.Prelude``: a module with the standard library's prelude imported.

TVM: ``python/tvm/relay/prelude.py``. The constructor imports ``prelude.rly`` into the module
(a new one when none is given) and exposes its types, constructors and functions as
attributes under TVM's names: ``l``/``cons``/``nil`` (List), ``optional``/``some``/``none``
(Option), ``tree``/``rose`` (Tree), and one attribute per function (``map``, ``foldl``,
``length``, ...). TVM's tensor-array helpers (``get_name`` with a dtype naming a generated
tensor array) are not provided: ``get_global_var``, ``get_type`` and ``get_ctor`` look names
up directly, with an optional dtype suffix as TVM spells it.
"""

from __future__ import annotations

from minitvm.error import TVMError
from minitvm.ir.adt import Constructor
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.type import GlobalTypeVar

__all__ = ["PRELUDE_FUNCTIONS", "Prelude"]

PRELUDE_FUNCTIONS = (
    "id", "compose", "flip", "hd", "tl", "nth", "update", "map", "foldl", "foldr", "foldr1",
    "concat", "filter", "zip", "rev", "map_accuml", "map_accumr", "unfoldl", "unfoldr", "sum",
    "length", "tmap", "size", "iterate",
)  # fmt: skip
"""The functions of ``prelude.rly``, each an attribute of a Prelude."""


class Prelude:
    """The prelude's definitions in ``mod`` (imported once per module)."""

    # the prelude's functions, bound by load_prelude
    id: GlobalVar
    compose: GlobalVar
    flip: GlobalVar
    hd: GlobalVar
    tl: GlobalVar
    nth: GlobalVar
    update: GlobalVar
    map: GlobalVar
    foldl: GlobalVar
    foldr: GlobalVar
    foldr1: GlobalVar
    concat: GlobalVar
    filter: GlobalVar
    zip: GlobalVar
    rev: GlobalVar
    map_accuml: GlobalVar
    map_accumr: GlobalVar
    unfoldl: GlobalVar
    unfoldr: GlobalVar
    sum: GlobalVar
    length: GlobalVar
    tmap: GlobalVar
    size: GlobalVar
    iterate: GlobalVar

    def __init__(self, mod: IRModule | None = None) -> None:
        self.mod = mod if mod is not None else IRModule()
        self.load_prelude()

    def load_prelude(self) -> None:
        """Import ``prelude.rly`` and bind its types, constructors and functions."""
        self.mod.import_from_std("prelude.rly")
        self.l, (self.cons, self.nil) = self._adt("List")
        self.optional, (self.some, self.none) = self._adt("Option")
        self.tree, (self.rose,) = self._adt("Tree")
        for name in PRELUDE_FUNCTIONS:
            setattr(self, name, self.mod.get_global_var(name))

    def _adt(self, name: str) -> tuple[GlobalTypeVar, list[Constructor]]:
        gtv = self.mod.get_global_type_var(name)
        return gtv, list(self.mod[gtv].constructors)

    def get_name(self, canonical: str, dtype: str | None = None) -> str:
        """The name of a prelude definition, ``canonical`` or ``canonical_dtype``."""
        return canonical if dtype is None else f"{canonical}_{dtype}"

    def get_global_var(self, canonical: str, dtype: str | None = None) -> GlobalVar:
        return self.mod.get_global_var(self.get_name(canonical, dtype))

    def get_type(self, canonical: str, dtype: str | None = None) -> GlobalTypeVar:
        return self.mod.get_global_type_var(self.get_name(canonical, dtype))

    def get_ctor(self, ty_name: str, canonical: str, dtype: str | None = None) -> Constructor:
        """The constructor ``canonical`` of the type ``ty_name``."""
        gtv = self.get_type(ty_name, dtype)
        for ctor in self.mod[gtv].constructors:
            if ctor.name_hint == self.get_name(canonical, dtype):
                return ctor
        raise TVMError(f"type {gtv.name_hint} has no constructor {canonical}")
