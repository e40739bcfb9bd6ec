"""``minitvm check`` and ``minitvm opt``: the parser on the command line.

``check FILE.rly`` parses and type checks a module and prints it typed; ``opt FILE.rly
--passes A,B [--opt-level N]`` also runs the named passes, in order, under a ``PassContext``
of that optimization level, and prints the result. As compilers do, they exit with 0 on
success, 1 when the program has errors (the diagnostics go to stderr, each as
``file:line:column: message``), and 2 for a usage error (bad arguments, an unreadable file,
an unknown pass). A pass named with ``--passes`` runs whatever its own optimization level,
as a pass called directly does; ``--opt-level`` is what the passes read from the context.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from minitvm.error import DiagnosticError, TVMError
from minitvm.ir.module import IRModule
from minitvm.ir.transform import Pass, PassContext, get_pass
from minitvm.relay.parser.api import parse

__all__ = ["main_check", "main_opt"]


class _UsageError(Exception):
    pass


def _arguments(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    try:
        return parser.parse_args(argv)
    except SystemExit as stop:
        # argparse has printed the usage (or the help, for which it exits with 0).
        raise _UsageError(stop.code) from None


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except (OSError, UnicodeDecodeError) as err:
        raise _UsageError(f"cannot read {path}: {err}") from None


def _run(argv: Sequence[str] | None, with_passes: bool) -> int:
    prog = "minitvm opt" if with_passes else "minitvm check"
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run passes on a Relay module."
        if with_passes
        else "Parse and type check a Relay module.",
    )
    parser.add_argument("file", help='a Relay text file (#[version = "0.0.5"] and definitions)')
    if with_passes:
        parser.add_argument(
            "--passes", required=True, help="comma-separated pass names, run in order"
        )
        parser.add_argument("--opt-level", type=int, default=2, help="the PassContext opt_level")
    try:
        args = _arguments(parser, argv)
        passes: list[Pass] = []
        if with_passes:
            for name in (n.strip() for n in args.passes.split(",")):
                try:
                    passes.append(get_pass(name))
                except TVMError as err:
                    raise _UsageError(f"{prog}: {err}") from None
        text = _read(args.file)
    except _UsageError as err:
        code = err.args[0]
        if isinstance(code, int) or code is None:
            return code or 0
        print(code, file=sys.stderr)
        return 2
    try:
        mod: IRModule = parse(text, args.file)
        with PassContext(opt_level=args.opt_level if with_passes else 2):
            for p in passes:
                mod = p(mod)
    except DiagnosticError as err:
        print(err, file=sys.stderr)
        return 1
    print(mod.astext())
    return 0


def main_check(argv: Sequence[str] | None = None) -> int:
    """``minitvm check FILE.rly``: parse and type check, print the typed module."""
    return _run(argv, with_passes=False)


def main_opt(argv: Sequence[str] | None = None) -> int:
    """``minitvm opt FILE.rly --passes A,B [--opt-level N]``: run passes, print the result."""
    return _run(argv, with_passes=True)
