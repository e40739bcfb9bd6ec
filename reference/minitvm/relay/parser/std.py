"""The Relay standard library: ``IRModule.import_from_std``.

TVM: ``IRModuleNode::ImportFromStd`` / ``Import`` in ``src/ir/module.cc`` and the files of
``python/tvm/relay/std/``. A file is read from the package's ``relay/std`` directory, parsed
with the module as its initial module (so it can use and replace the module's globals), and
its definitions are added to the module, which is changed in place as in TVM; each file is
imported at most once per module. The result is the module type checked.

minitvm ships ``core.rly`` (``extern type Storage``), ``prelude.rly`` (List, Option, Tree and
their functions), ``nat.rly`` (Peano naturals) and ``gradient.rly`` (the lazy gradient cells),
written for minitvm with TVM's names and behaviour. ``nat.rly`` uses the prelude's lists, so
importing it imports ``prelude.rly`` first (TVM leaves that to the caller).
"""

from __future__ import annotations

from pathlib import Path

from minitvm.error import DiagnosticError
from minitvm.ir.module import IRModule
from minitvm.ir.transform import get_pass
from minitvm.relay.parser.api import parse, read_module

__all__ = ["STD_DIR", "import_from_std"]

STD_DIR = Path(__file__).resolve().parent.parent / "std"
"""Where the standard library files live (``minitvm/relay/std``)."""

_REQUIRES = {"nat.rly": ("prelude.rly",)}
"""Files a standard library file builds on, imported before it."""


def import_from_std(
    mod: IRModule, file_to_import: str, imported: set[str], type_check: bool = True
) -> IRModule:
    """Import ``file_to_import`` into ``mod`` unless ``imported`` (the names ``mod`` has
    imported) holds it already; return ``mod`` type checked, or ``mod`` itself without
    ``type_check`` (TVM's C++ ``ImportFromStd``, for a pass that type checks the module
    itself later: typing a large module twice more costs more than the pass)."""
    for name in (*_REQUIRES.get(file_to_import, ()), file_to_import):
        if name not in imported:
            _import_file(mod, name, type_check)
            imported.add(name)
    return get_pass("InferType")(mod) if type_check else mod


def _import_file(mod: IRModule, file_to_import: str, type_check: bool) -> None:
    name = Path(file_to_import).name
    path = STD_DIR / name
    if name != file_to_import or not name.endswith(".rly") or not path.is_file():
        available = sorted(p.name for p in STD_DIR.glob("*.rly")) if STD_DIR.is_dir() else []
        raise DiagnosticError(
            f"no standard library file {file_to_import!r} (available: "
            f"{', '.join(available) or 'none'})"
        )
    read = parse if type_check else read_module
    parsed = read(path.read_text(encoding="utf-8"), name, init_module=mod)
    for gtv, data in parsed.type_definitions.items():
        mod[gtv] = data
    for gv, func in parsed.functions.items():
        mod[gv] = func
