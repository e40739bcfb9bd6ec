"""``tvm.transform``: the pass infrastructure (defined in ``minitvm.ir.transform``)."""

from minitvm.ir.transform import (
    ModulePass,
    Pass,
    PassContext,
    PassInfo,
    PrintIR,
    Sequential,
    get_pass,
    list_configs,
    module_pass,
    register_config,
    register_pass,
    registered_passes,
)

__all__ = [
    "ModulePass",
    "Pass",
    "PassContext",
    "PassInfo",
    "PrintIR",
    "Sequential",
    "get_pass",
    "list_configs",
    "module_pass",
    "register_config",
    "register_pass",
    "registered_passes",
]
