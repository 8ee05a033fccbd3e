"""The JSON text of project files: a diff-friendly writer and a reader that explains what is wrong.

The reader refuses what :func:`json.loads` lets through silently (a key given
twice, ``NaN``) and tells a file cut off in mid-write from one that is simply
not JSON. Messages leave out the file name; the caller puts it in front.
"""

from __future__ import annotations

import json
import math
from typing import Any

INLINE_WIDTH = 100
"""Lists and objects of plain values whose one-line form (plus indent) fits stay on one line."""

RESTORE = "restore it from a backup or the recovery copy"


class JsonTextError(ValueError):
    """Text that is not the JSON of a project file."""


def encode(value: Any) -> str:
    """JSON indented by 2, UTF-8 characters kept as they are, trailing newline.

    A list or object at most two levels deep that fits on one short line is
    written on one line (positions, shapes, parameters, edges), so a diff shows
    one changed line per edited thing (a parameter, a move, a wire).
    """
    return _encode(value, "") + "\n"


def _depth(value: Any) -> int:
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
    return 0 if items is None else 1 + max((_depth(v) for v in items), default=0)


def _encode(value: Any, indent: str) -> str:
    one_line = json.dumps(value, ensure_ascii=False, allow_nan=False)
    if not isinstance(value, (dict, list)) or not value:
        return one_line
    if _depth(value) <= 2 and len(one_line) + len(indent) <= INLINE_WIDTH:
        return one_line
    inner = indent + "  "
    if isinstance(value, dict):
        parts = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {_encode(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(parts) + "\n" + indent + "}"
    return "[\n" + ",\n".join(f"{inner}{_encode(v, inner)}" for v in value) + "\n" + indent + "]"


MAX_DEPTH = 64
"""Objects and lists nested deeper than this are refused (a project needs fewer than ten levels)."""

MAX_INT = 2**63
"""Integers at or beyond ±2**63 are refused: no count, size or seed needs them, and torch cannot hold them."""


def parse(text: str) -> Any:
    """Parse project JSON; raise :class:`JsonTextError` saying where and what is wrong.

    Beyond the JSON grammar it refuses what a project cannot hold or could not be
    saved again: ``NaN``/``Infinity`` and numbers that overflow to infinity,
    integers beyond ±2**63, nesting deeper than :data:`MAX_DEPTH`, and strings with
    lone surrogates (``"\\ud800"``), which have no UTF-8 form.
    """

    def no_constant(name: str) -> Any:
        raise JsonTextError(f"{name} is not a number JSON allows; write a finite number")

    def finite_float(literal: str) -> float:
        value = float(literal)
        if not math.isfinite(value):
            raise JsonTextError(f"the number {literal[:40]} is too large to be a finite number; write a smaller one")
        return value

    def bounded_int(literal: str) -> int:
        if len(literal) > 20 or not -MAX_INT < int(literal) < MAX_INT:
            raise JsonTextError(
                f"the whole number {literal[:24]}{'…' if len(literal) > 24 else ''} is too large "
                "(beyond ±2**63); write a smaller one"
            )
        return int(literal)

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise JsonTextError(f"the key {key!r} appears twice in one object; keep one")
            out[key] = value
        return out

    if not text.strip():
        raise JsonTextError(f"the file is empty; {RESTORE}")
    try:
        data = json.loads(
            text,
            parse_constant=no_constant,
            parse_float=finite_float,
            parse_int=bounded_int,
            object_pairs_hook=no_duplicates,
        )
    except RecursionError:
        raise JsonTextError(
            f"objects or lists are nested too deeply (more than {MAX_DEPTH} levels); {RESTORE}"
        ) from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        if looks_truncated(text):
            raise JsonTextError(
                f"the file looks truncated (cut off before its end; JSON error at {where}: {exc.msg}); {RESTORE}"
            ) from None
        raise JsonTextError(f"not valid JSON at {where}: {exc.msg}; fix the file there or open another one") from None
    check_values(data)
    return data


def check_values(data: Any) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` and strings without a UTF-8 form (walks without recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            _utf8(value)
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise JsonTextError(f"objects or lists are nested too deeply (more than {MAX_DEPTH} levels); {RESTORE}")
        if isinstance(value, dict):
            for key in value:
                _utf8(key)
            stack.extend((v, depth + 1) for v in value.values())
        else:
            stack.extend((v, depth + 1) for v in value)


def _utf8(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise JsonTextError(
            f"the text {text[max(0, exc.start - 20) : exc.start]!r}… holds a lone surrogate "
            f"(\\u{ord(text[exc.start]):04x}), which is not a character and could not be saved; "
            "remove that escape from the file"
        ) from None


def looks_truncated(text: str) -> bool:
    """Whether the text is JSON cut off before its end: a string or a bracket left open."""
    if not text.lstrip().startswith(("{", "[")):
        return False
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
    return in_string or depth > 0
