"""IRModule: the unit passes transform, a map from global variables to functions.

A module owns its GlobalVars: within it a name denotes exactly one GlobalVar. Passes never
mutate their input module; they build a new one (``copy`` gives a shallow copy to start from).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from typing_extensions import override

from minitvm.error import TVMError
from minitvm.ir.attrs import DictAttrs
from minitvm.ir.expr import BaseFunc, GlobalVar

if TYPE_CHECKING:
    from minitvm.relay.expr import Expr

__all__ = ["IRModule"]


class IRModule:
    """A collection of global functions (and, later, type definitions)."""

    __slots__ = ("_by_name", "_functions", "_std_imports", "attrs", "type_definitions")

    def __init__(
        self,
        functions: Mapping[GlobalVar | str, BaseFunc] | None = None,
        type_definitions: Mapping[object, object] | None = None,
        attrs: DictAttrs | Mapping[str, object] | None = None,
    ) -> None:
        self._functions: dict[GlobalVar, BaseFunc] = {}
        self._by_name: dict[str, GlobalVar] = {}
        self.type_definitions: dict[object, object] = dict(type_definitions or {})
        self.attrs = attrs if isinstance(attrs, DictAttrs) else DictAttrs(attrs)
        self._std_imports: set[str] = set()
        """The standard library files imported so far (each is imported once)."""
        for key, func in (functions or {}).items():
            self[key] = func

    # --- construction ---------------------------------------------------------------------

    @staticmethod
    def from_expr(
        expr: Expr,
        functions: Mapping[GlobalVar | str, BaseFunc] | None = None,
        type_defs: Mapping[object, object] | None = None,
    ) -> IRModule:
        """Wrap ``expr`` as ``main``: a function as is, anything else abstracted over its
        free variables (in first-occurrence order)."""
        from minitvm.relay.analysis import free_vars
        from minitvm.relay.function import Function

        mod = IRModule(functions, type_defs)
        main = expr if isinstance(expr, BaseFunc) else Function(free_vars(expr), expr)
        mod["main"] = main
        return mod

    def copy(self) -> IRModule:
        """A shallow copy: the same GlobalVars and functions, a new map."""
        new = IRModule(attrs=self.attrs)
        new._functions = dict(self._functions)
        new._by_name = dict(self._by_name)
        new.type_definitions = dict(self.type_definitions)
        new._std_imports = set(self._std_imports)
        return new

    # --- access ---------------------------------------------------------------------------

    def _global(self, key: GlobalVar | str, create: bool) -> GlobalVar:
        if isinstance(key, GlobalVar):
            existing = self._by_name.get(key.name_hint)
            if existing is not None and existing is not key:
                raise TVMError(f"module already has a different GlobalVar named @{key.name_hint}")
            return key
        if not isinstance(key, str):
            raise TVMError(f"module keys are names or GlobalVars, got {type(key).__name__}")
        gv = self._by_name.get(key)
        if gv is None:
            if not create:
                raise TVMError(f"no function named @{key} in the module")
            gv = GlobalVar(name_hint=key)
        return gv

    def __setitem__(self, key: GlobalVar | str, func: BaseFunc) -> None:
        if not isinstance(func, BaseFunc):
            raise TVMError(f"a module holds functions, got {type(func).__name__}")
        gv = self._global(key, create=True)
        self._functions[gv] = func
        self._by_name[gv.name_hint] = gv

    def __getitem__(self, key: GlobalVar | str) -> BaseFunc:
        gv = self._global(key, create=False)
        if gv not in self._functions:
            raise TVMError(f"no function named @{gv.name_hint} in the module")
        return self._functions[gv]

    def __contains__(self, key: object) -> bool:
        if isinstance(key, GlobalVar):
            return key in self._functions
        return key in self._by_name

    def __iter__(self) -> Iterator[GlobalVar]:
        return iter(self._functions)

    def __len__(self) -> int:
        return len(self._functions)

    def add(self, var: GlobalVar | str, func: BaseFunc, update: bool = False) -> IRModule:
        name = var.name_hint if isinstance(var, GlobalVar) else var
        if not update and name in self._by_name:
            raise TVMError(f"module already has a function named @{name}")
        self[var] = func
        return self

    _add = add

    def update_func(self, var: GlobalVar, func: BaseFunc) -> None:
        self[var] = func

    def remove(self, var: GlobalVar | str) -> None:
        gv = self._global(var, create=False)
        del self._functions[gv]
        del self._by_name[gv.name_hint]

    def update(self, other: IRModule) -> None:
        for gv, func in other.functions.items():
            self[gv.name_hint if gv.name_hint in self._by_name else gv] = func

    @property
    def functions(self) -> dict[GlobalVar, BaseFunc]:
        """A snapshot of the function map, in insertion order."""
        return dict(self._functions)

    def get_global_var(self, name: str) -> GlobalVar:
        gv = self._by_name.get(name)
        if gv is None:
            raise TVMError(f"no GlobalVar named @{name} in the module")
        return gv

    def get_global_vars(self) -> list[GlobalVar]:
        return list(self._functions)

    def contains_global_var(self, name: str) -> bool:
        return name in self._by_name

    def with_attr(self, key: str, value: object) -> IRModule:
        new = self.copy()
        new.attrs = self.attrs.with_attr(key, value)
        return new

    def import_from_std(self, file_to_import: str) -> IRModule:
        """Add the definitions of a standard library file (``"core.rly"``) to this module,
        once, and return the module type checked (TVM's ``IRModule.import_from_std``)."""
        from minitvm.relay.parser.std import import_from_std

        return import_from_std(self, file_to_import, self._std_imports)

    def astext(
        self, show_meta_data: bool = True, annotate: Callable[[Expr], str] | None = None
    ) -> str:
        from minitvm.relay.printer import astext

        return astext(self, show_meta_data=show_meta_data, annotate=annotate)

    @override
    def __str__(self) -> str:
        from minitvm.relay.printer import astext

        return astext(self, show_meta_data=False, version_header=False)

    @override
    def __repr__(self) -> str:
        return str(self)
