"""Numeric and string literals of the Relay text format: suffixes, range checks, escapes.

TVM: ``Tokenizer::ParseNumber`` in ``src/relay/parser/tokenizer.h`` and
``support::ValueToIntImm`` / ``ValueToFloatImm`` in ``src/support/scalars.cc``.

- ``42`` is int32; an unsuffixed integer beyond int32 is int64; ``42i16``, ``42i32``,
  ``42i64`` and ``42i`` (int32) name their width, and a suffixed literal that does not fit is
  an error.
- ``3f`` / ``3f32`` are float32, ``3f16`` and ``3f64`` the other widths; ``1.5f``, ``1e-1f``,
  ``1E+1f``; a finite value beyond the width's largest is an error. ``inff`` and ``nanf`` (with
  the same suffixes) are the non-finite values the printer writes.
- A decimal point or exponent without the ``f`` suffix is an error (TVM rejects it too).
- Strings use the printer's escapes: ``\\"``, ``\\\\``, ``\\t``, ``\\r``, ``\\n`` and
  ``\\xHH`` for the bytes of a UTF-8 encoding.
"""

from __future__ import annotations

import math

__all__ = ["LiteralError", "decode_string", "float_literal", "int_literal", "number_literal"]

_INT_RANGES = {16: (-(2**15), 2**15 - 1), 32: (-(2**31), 2**31 - 1), 64: (-(2**63), 2**63 - 1)}
_FLOAT_MAX = {16: 65504.0, 32: 3.4028234663852886e38, 64: 1.7976931348623157e308}
_ESCAPES = {'"': '"', "\\": "\\", "t": "\t", "r": "\r", "n": "\n"}


class LiteralError(Exception):
    """A literal is malformed or out of range; carries the diagnostic message."""


def _width(suffix: str, letter: str) -> int:
    """The bit width a suffix names: ``i``/``f`` alone is 32."""
    digits = suffix[1:]
    width = int(digits) if digits.isascii() and digits.isdigit() else 32 if not digits else 0
    allowed = (16, 32, 64)
    if width not in allowed:
        names = ", ".join(f"{letter}{w}" for w in allowed)
        raise LiteralError(f"invalid numeric suffix `{suffix}`; expected one of {names}")
    return width


def int_literal(digits: str, suffix: str, negative: bool) -> tuple[int, str]:
    """The value and dtype of an integer literal."""
    value = -int(digits) if negative else int(digits)
    text = ("-" if negative else "") + digits + suffix
    if not suffix:
        for width in (32, 64):
            low, high = _INT_RANGES[width]
            if low <= value <= high:
                return value, f"int{width}"
        raise LiteralError(f"integer `{text}` does not fit in int64")
    width = _width(suffix, "i")
    low, high = _INT_RANGES[width]
    if not low <= value <= high:
        raise LiteralError(f"integer `{text}` does not fit in int{width}")
    return value, f"int{width}"


def float_literal(mantissa: str, suffix: str, negative: bool) -> tuple[float, str]:
    """The value and dtype of a float literal; ``mantissa`` may be ``inf`` or ``nan``."""
    width = _width(suffix, "f")
    value = float(mantissa)
    text = ("-" if negative else "") + mantissa + suffix
    if math.isinf(value) and mantissa != "inf":
        raise LiteralError(f"floating-point number `{text}` does not fit in float{width}")
    if math.isfinite(value) and abs(value) > _FLOAT_MAX[width]:
        raise LiteralError(f"floating-point number `{text}` does not fit in float{width}")
    return (-value if negative else value), f"float{width}"


def number_literal(text: str, negative: bool) -> tuple[int | float, str, bool]:
    """Split ``text`` (digits, optional fraction/exponent, optional suffix) and convert it.

    Returns ``(value, dtype, is_float)``.
    """
    cut = len(text)
    for i, char in enumerate(text):
        if char in "fi":
            cut = i
            break
    mantissa, suffix = text[:cut], text[cut:]
    if suffix.startswith("f"):
        value, dtype = float_literal(mantissa, suffix, negative)
        return value, dtype, True
    if not (mantissa.isascii() and mantissa.isdigit()):
        sign = "-" if negative else ""
        raise LiteralError(
            f"`{sign}{text}` is not an integer; a floating-point literal needs a suffix, "
            f"as in `{sign}{mantissa}f`"
        )
    int_value, dtype = int_literal(mantissa, suffix, negative)
    return int_value, dtype, False


def decode_string(body: str) -> str:
    """The contents of a string literal (without its quotes), escapes decoded."""
    if "\\" not in body:
        return body
    out = bytearray()
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out += char.encode("utf-8")
            i += 1
            continue
        escape = body[i + 1 : i + 2]
        if escape == "x":
            hex_digits = body[i + 2 : i + 4]
            if len(hex_digits) != 2 or any(c not in "0123456789abcdefABCDEF" for c in hex_digits):
                raise LiteralError("`\\x` must be followed by two hexadecimal digits")
            out.append(int(hex_digits, 16))
            i += 4
        elif escape in _ESCAPES:
            out += _ESCAPES[escape].encode("utf-8")
            i += 2
        else:
            raise LiteralError(
                f"unknown escape `\\{escape}` in a string; "
                'expected one of \\" \\\\ \\t \\r \\n \\xHH'
            )
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise LiteralError("the bytes of this string are not valid UTF-8") from None
