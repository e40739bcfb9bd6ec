"""ToBasicBlockNormalForm: bind exactly the values shared between basic blocks.

TVM's ``src/relay/transforms/to_basic_block_normal_form.cc``. A *block* is the code of one
If branch or function body (let chains included); basic block normal form asks that no
sub-expression be shared between blocks except through a variable. The pass computes scopes
as ToANormalForm does, then runs the same fill phase binding only the *lifted* expressions:
those used from more than one block, bound in the lowest common ancestor scope of their
uses. Everything else stays where it is, sharing included; existing lets are kept, except
that ``let y = x`` makes later references to ``x`` read ``y``, as in ToANormalForm.

The pass rebuilds every compound node it passes through, so the result carries no checked
types (run InferType again), and it returns a new module.
"""

from __future__ import annotations

from minitvm.error import InternalError
from minitvm.ir.module import IRModule
from minitvm.ir.transform import ModulePass, PassContext, PassInfo, register_pass
from minitvm.relay.function import Function
from minitvm.relay.transform.to_a_normal_form import Fill, check_closed_functions

__all__ = ["ToBasicBlockNormalForm"]


def _transform_module(mod: IRModule, ctx: PassContext) -> IRModule:
    check_closed_functions(mod, "ToBasicBlockNormalForm")
    result = mod.copy()
    for gv, func in mod.functions.items():
        if isinstance(func, Function) and func.attrs.get("Compiler") is None:
            rewritten = Fill.to_basic_block_normal_form(func)
            if not isinstance(rewritten, Function):
                raise InternalError("ToBasicBlockNormalForm turned a function into a non-function")
            result[gv] = rewritten
    return result


def ToBasicBlockNormalForm() -> ModulePass:  # noqa: N802  (TVM's name)
    """The module pass (opt_level 1) over every Relay function without a ``Compiler``
    attribute; PrimFuncs are left alone, and InferType is not run afterwards."""
    return ModulePass(_transform_module, PassInfo(1, "ToBasicBlockNormalForm"))


register_pass("ToBasicBlockNormalForm", ToBasicBlockNormalForm)
