"""Runtime modules (TVM's ``tvm.runtime.Module``): named functions looked up by string.

A compiled library (the kernels of a build) and a graph executor are modules; ``mod[name]``
or ``mod.get_function(name)`` gives a callable. Exporting to a shared library has no meaning
for generated Python kernels and raises TVMError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from typing_extensions import override

from minitvm.error import TVMError

__all__ = ["Module"]


class Module:
    """Named functions; subclasses provide ``_functions``."""

    type_key = "module"

    def _functions(self) -> Mapping[str, Callable[..., Any]]:
        return {}

    def get_function(self, name: str, query_imports: bool = False) -> Callable[..., Any]:
        fn = self._functions().get(name)
        if fn is None:
            raise TVMError(f"module {self.type_key!r} has no function {name!r}")
        return fn

    def __getitem__(self, name: str) -> Callable[..., Any]:
        if not isinstance(name, str):
            raise TVMError(f"module functions are looked up by name, got {name!r}")
        return self.get_function(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._functions()

    @property
    def imported_modules(self) -> list[Module]:
        return []

    def get_source(self, fmt: str = "") -> str:
        return ""

    def export_library(self, *args: object, **kwargs: object) -> None:
        raise TVMError(
            "minitvm compiles to Python modules run by numba; there is no shared library to "
            "export (kernels are cached on disk, see numba.cache_dir)"
        )

    @override
    def __repr__(self) -> str:
        return f"Module({self.type_key}, {sorted(self._functions())})"
