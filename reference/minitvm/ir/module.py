"""IRModule: the unit passes transform, a map from global variables to functions, and from
global type variables to the algebraic data types they name.

A module owns its GlobalVars: within it a name denotes exactly one GlobalVar, and a type name
one type definition. Passes never mutate their input module; they build a new one (``copy``
gives a shallow copy to start from).

Type definitions: ``mod[gtv] = TypeData(gtv, ...)`` (or ``mod["List"] = ...``) adds or
replaces an ADT; ``get_global_type_var(name)``, ``get_type(name)`` (the type variable and the
constructors), ``get_constructor(tag)`` and the ``type_definitions`` map read them, as in TVM.
Adding a type makes sure its constructors' tags differ from those of the module's other
types (see ``minitvm.ir.adt``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, overload

from typing_extensions import override

from minitvm.error import TVMError
from minitvm.ir.adt import Constructor, TypeData
from minitvm.ir.attrs import DictAttrs
from minitvm.ir.expr import BaseFunc, GlobalVar
from minitvm.ir.type import GlobalTypeVar

if TYPE_CHECKING:
    from minitvm.relay.expr import Expr

__all__ = ["IRModule"]


class IRModule:
    """A collection of global functions and type definitions."""

    __slots__ = (
        "_by_name",
        "_constructors",
        "_functions",
        "_std_imports",
        "_types_by_name",
        "attrs",
        "type_definitions",
    )

    def __init__(
        self,
        functions: Mapping[GlobalVar | str, BaseFunc] | None = None,
        type_definitions: Mapping[GlobalTypeVar | str, TypeData] | None = None,
        attrs: DictAttrs | Mapping[str, object] | None = None,
    ) -> None:
        self._functions: dict[GlobalVar, BaseFunc] = {}
        self._by_name: dict[str, GlobalVar] = {}
        self.type_definitions: dict[GlobalTypeVar, TypeData] = {}
        """The ADTs, by name (TVM's ``type_definitions``). Change it through ``mod[gtv] =``."""
        self._types_by_name: dict[str, GlobalTypeVar] = {}
        self._constructors: dict[int, Constructor] = {}
        self.attrs = attrs if isinstance(attrs, DictAttrs) else DictAttrs(attrs)
        self._std_imports: set[str] = set()
        """The standard library files imported so far (each is imported once)."""
        for type_key, data in (type_definitions or {}).items():
            self.add_type(type_key, data)
        for key, func in (functions or {}).items():
            self[key] = func

    # --- construction ---------------------------------------------------------------------

    @staticmethod
    def from_expr(
        expr: Expr,
        functions: Mapping[GlobalVar | str, BaseFunc] | None = None,
        type_defs: Mapping[GlobalTypeVar | str, TypeData] | None = None,
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
        new._types_by_name = dict(self._types_by_name)
        new._constructors = dict(self._constructors)
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

    def __setitem__(self, key: GlobalVar | GlobalTypeVar | str, value: BaseFunc | TypeData) -> None:
        if isinstance(value, TypeData):
            if isinstance(key, GlobalVar):
                raise TVMError(f"@{key.name_hint} names a function; a type needs a GlobalTypeVar")
            self.add_type(key, value)
            return
        if not isinstance(value, BaseFunc):
            raise TVMError(
                f"a module holds functions and type definitions, got {type(value).__name__}"
            )
        if isinstance(key, GlobalTypeVar):
            raise TVMError(f"type {key.name_hint} cannot be bound to a function")
        gv = self._global(key, create=True)
        self._functions[gv] = value
        self._by_name[gv.name_hint] = gv

    @overload
    def __getitem__(self, key: GlobalVar | str) -> BaseFunc: ...

    @overload
    def __getitem__(self, key: GlobalTypeVar) -> TypeData: ...

    def __getitem__(self, key: GlobalVar | GlobalTypeVar | str) -> BaseFunc | TypeData:
        if isinstance(key, GlobalTypeVar):
            data = self.type_definitions.get(key)
            if data is None:
                raise TVMError(f"no type named {key.name_hint} in the module")
            return data
        gv = self._global(key, create=False)
        if gv not in self._functions:
            raise TVMError(f"no function named @{gv.name_hint} in the module")
        return self._functions[gv]

    def __contains__(self, key: object) -> bool:
        if isinstance(key, GlobalVar):
            return key in self._functions
        if isinstance(key, GlobalTypeVar):
            return key in self.type_definitions
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
        """Add ``other``'s type definitions and functions, replacing those of the same name."""
        for gtv, data in other.type_definitions.items():
            self.add_type(gtv, data)
        for gv, func in other.functions.items():
            self[gv.name_hint if gv.name_hint in self._by_name else gv] = func

    # --- type definitions -------------------------------------------------------------------

    def add_type(self, key: GlobalTypeVar | str, data: TypeData) -> None:
        """Add (or replace) the definition of an ADT; ``key`` must name ``data``'s header."""
        if not isinstance(data, TypeData):
            raise TVMError(f"a type definition must be a TypeData, got {type(data).__name__}")
        name = key.name_hint if isinstance(key, GlobalTypeVar) else key
        if not isinstance(name, str):
            raise TVMError(f"type keys are names or GlobalTypeVars, got {type(key).__name__}")
        if name != data.header.name_hint:
            raise TVMError(
                f"type {name} cannot be bound to the definition of {data.header.name_hint}"
            )
        old = self._types_by_name.get(name)
        if old is not None:
            for ctor in self.type_definitions[old].constructors:
                self._constructors.pop(ctor.tag, None)
            del self.type_definitions[old]
        self._assign_tags(data)
        self.type_definitions[data.header] = data
        self._types_by_name[name] = data.header
        for ctor in data.constructors:
            self._constructors[ctor.tag] = ctor

    def _assign_tags(self, data: TypeData) -> None:
        """Move ``data``'s tags to a free prefix if another type of the module uses theirs."""
        prefix = data.prefix
        if prefix is None:
            return
        used = {t.prefix for t in self.type_definitions.values()}
        if prefix not in used:
            return
        free = next((p for p in range(256) if p not in used), None)
        if free is None:
            raise TVMError("a module can hold at most 256 types with constructors")
        data.retag(free)

    def get_global_type_var(self, name: str) -> GlobalTypeVar:
        gtv = self._types_by_name.get(name)
        if gtv is None:
            raise TVMError(f"no type named {name} in the module")
        return gtv

    def get_global_type_vars(self) -> list[GlobalTypeVar]:
        return list(self.type_definitions)

    def get_type(self, name: str) -> tuple[GlobalTypeVar | Constructor, ...]:
        """The global type variable of the ADT ``name`` followed by its constructors, as in
        TVM (``List, Cons, Nil = mod.get_type("List")``)."""
        gtv = self.get_global_type_var(name)
        return (gtv, *self.type_definitions[gtv].constructors)

    def get_constructor(self, tag: int) -> Constructor:
        ctor = self._constructors.get(tag)
        if ctor is None:
            raise TVMError(f"no constructor with tag {tag} in the module")
        return ctor

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

    def import_from_std(self, file_to_import: str, *, type_check: bool = True) -> IRModule:
        """Add the definitions of a standard library file (``"core.rly"``) to this module,
        once, and return the module type checked (TVM's ``IRModule.import_from_std``); with
        ``type_check=False``, return this module as it is now (for a pass that type checks
        the module afterwards)."""
        from minitvm.relay.parser.std import import_from_std

        return import_from_std(self, file_to_import, self._std_imports, type_check)

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
