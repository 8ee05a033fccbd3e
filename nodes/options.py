"""One option schema: node parameters, dataset options and training settings (DESIGN.md decision 12).

An :class:`Option` declares one value a user sets: its kind, default, doc, range (``min``/``max``, ``log`` for a
range best swept or stepped on a log scale), choices, unit, and for a ``scope`` the options nested in it (the
training section's ``early_stopping``, a block's exposed parameters). From that one declaration come the
defaults, the validation with its messages (:meth:`Option.coerce`), the JSON Schema (:meth:`Option.json_schema`),
the editors of the Inspector and the Training panel (``graphedit.ui.option_editors``), the command-line flags and
the format doc's tables.

Why here: ``nodes`` is the lowest layer of the import-linter contract (installed as ``graphedit.nodes``), so
every layer above (model, training, ui, commands) may import it, and node types need it themselves. A separate
bottom layer would hold this one module and add a package to the wheel for nothing. Like the rest of ``nodes``
below ``spec``'s builders it needs neither Qt nor torch: only :mod:`graphedit.errors`.

The caller names its error type and where the value is (``where`` prefix or a whole ``label``), so a node's bad
parameter stays a :class:`~graphedit.errors.ParamError` and a dataset's bad option a ``DatasetError``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from typing import Any

from graphedit.errors import ParamError

INT_LIMIT = 2**31 - 1
"""The largest whole number an editor offers (Qt's spin boxes hold 32-bit ints); seeds go up to it."""

KINDS = ("int", "float", "bool", "choice", "str", "ints", "names", "overrides", "scope")
"""``ints``: a tuple of whole numbers (a shape); ``names``: a list of texts (columns, arrays); ``overrides``: a
repeated block's per-copy values; ``scope``: an object of nested options."""

SWEEPABLE = ("int", "float", "choice", "bool")
"""The kinds a sweep can vary (a list of values, or a range for a number)."""

Overrides = tuple[tuple[int, tuple[tuple[str, Any], ...]], ...]
"""Per-index parameter values of a repeated block, ``((0, (("stride", 2),)),)``: hashable, in a canonical order."""


@dataclass(frozen=True)
class Option:
    """One declared value. See the module doc; the fields after ``options`` serve the training settings only.

    ``allow`` lists extra words an ``int`` accepts (``padding``: a number or ``"same"``/``"valid"``); ``length``
    fixes the length of ``ints``. ``min_open`` makes ``min`` exclusive (a learning rate is > 0). ``open`` makes a
    ``choice`` accept any other non-empty name when checked with ``strict=False`` (a project saved by a newer
    GraphEdit with another optimizer still opens; the run refuses it). ``title`` labels the editor, ``group``
    places it in the Training panel (empty: not shown), ``flag`` gives it a ``graphedit train --flag``, and
    ``stored`` writes it into every saved project (otherwise only when set).
    """

    name: str
    kind: str
    default: Any
    doc: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] = ()
    allow: tuple[str, ...] = ()
    unit: str = ""
    length: int | None = None
    log: bool = False
    options: tuple[Option, ...] = ()
    min_open: bool = False
    open: bool = False
    title: str = ""
    group: str = ""
    flag: bool = False
    stored: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"option {self.name!r}: unknown kind {self.kind!r}; use one of {', '.join(KINDS)}")
        positive = self.min is not None and (self.min > 0 or (self.min == 0 and self.min_open))
        if self.log and (self.kind not in ("int", "float") or not positive):
            raise ValueError(f"option {self.name!r}: a log scale needs a number with a minimum above 0")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"option {self.name!r}: a choice needs its choices")

    # ------------------------------------------------------------------ values
    @property
    def label(self) -> str:
        """The editor's label: ``title``, or the name with spaces (``batch_size`` → ``Batch size``)."""
        return self.title or self.name.replace("_", " ").capitalize()

    def option(self, name: str) -> Option:
        """The nested option ``name`` of a scope."""
        for o in self.options:
            if o.name == name:
                return o
        raise KeyError(name)

    def defaults(self) -> Any:
        """The default; a scope's is the dict of its options' defaults (a fresh copy each call)."""
        if self.kind == "scope":
            return {o.name: o.defaults() for o in self.options}
        return list(self.default) if isinstance(self.default, list) else self.default

    def renamed(self, name: str, default: Any = None, doc: str = "") -> Option:
        """This option under another name (a block's exposed parameter takes its inner parameter's type)."""
        return replace(self, name=name, default=self.default if default is None else default, doc=doc or self.doc)

    def coerce(
        self,
        value: Any,
        where: str = "",
        error: type[Exception] = ParamError,
        label: str | None = None,
        strict: bool = True,
    ) -> Any:
        """``value`` in canonical form, or ``error`` naming ``label`` (default ``{where}parameter 'name'``)."""
        label = label or f"{where}parameter '{self.name}'"
        kind = self.kind
        if kind == "int" and isinstance(value, str) and value in self.allow:
            return value
        if kind == "bool":
            if isinstance(value, bool):
                return value
            raise error(f"{label} must be true or false, not {value!r}.")
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise error(f"{label} must be a number (whole numbers only){self._allow_text()}, not {value!r}.")
            if isinstance(value, float) and not value.is_integer():
                raise error(f"{label} must be a whole number, not {value!r}.")
            return self._in_range(int(value), label, error)
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise error(f"{label} must be a finite number, not {value!r}.")
            return self._in_range(float(value), label, error)
        if kind == "choice":
            if value in self.choices:
                return value
            if self.open and not strict and isinstance(value, str) and value.strip():
                return value
            raise error(f"{label} must be one of {', '.join(map(str, self.choices))}; got {value!r}.")
        if kind == "str":
            if not isinstance(value, str):
                raise error(f"{label} must be text, not {value!r}.")
            return value
        if kind == "names":  # an editor may give them as comma-separated text
            if isinstance(value, str):
                value = [part.strip() for part in value.split(",") if part.strip()]
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise error(f'{label} must be a list of names such as ["a", "b"], not {value!r}.')
            return list(value)
        if kind == "ints":
            return self._ints(value, label, error)
        if kind == "overrides":
            return _coerce_overrides(value, label, error)
        return self._scope(value, label, error, strict)

    def _allow_text(self) -> str:
        return f" or one of {', '.join(self.allow)}" if self.allow else ""

    def _in_range(self, value: float, label: str, error: type[Exception]) -> Any:
        low, high = self.min, self.max
        if low is not None and self.min_open and value <= low:
            raise error(f"{label} is {value}; it must be above {low:g}. Fix: use a value > {low:g}.")
        if low is not None and value < low:
            raise error(f"{label} is {value}, below its minimum {low:g}. Fix: use a value ≥ {low:g}.")
        if high is not None and value > high:
            raise error(f"{label} is {value}, above its maximum {high:g}. Fix: use a value ≤ {high:g}.")
        return value

    def _ints(self, value: Any, label: str, error: type[Exception]) -> tuple[int, ...]:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, (list, tuple)) or not value:
            raise error(f"{label} must be a list of whole numbers such as [1, 28, 28], not {value!r}.")
        if self.length is not None and len(value) != self.length:
            raise error(f"{label} needs {self.length} numbers, got {len(value)}.")
        out = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, (int, float)) or float(item) != int(item):
                raise error(f"{label} must hold whole numbers only; {item!r} is not one.")
            out.append(self._in_range(int(item), label, error))
        return tuple(out)

    def _scope(self, value: Any, label: str, error: type[Exception], strict: bool) -> dict[str, Any]:
        """Each nested option coerced (missing ones take their default); names it does not declare are kept."""
        if not isinstance(value, dict):
            example = ", ".join(f'"{o.name}": {_json_text(o.defaults())}' for o in self.options[:2])
            raise error(f"{label} must be an object such as {{{example}}}, not {value!r}.")
        out = dict(value)
        for o in self.options:
            given = value.get(o.name, o.defaults())
            out[o.name] = o.coerce(given, label=f"{label}.{o.name}", error=error, strict=strict)
        return out

    def to_json_value(self, value: Any) -> Any:
        """``value`` as the project file stores it (tuples become lists)."""
        if self.kind == "overrides":
            return {str(i): {k: list(v) if isinstance(v, tuple) else v for k, v in items} for i, items in value}
        return list(value) if isinstance(value, tuple) else value

    # ------------------------------------------------------------- described
    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of a stored value (draft 2020-12), with the doc as its description."""
        out: dict[str, Any] = {"description": self.doc} if self.doc else {}
        bounds = {}
        if self.min is not None:
            bounds["exclusiveMinimum" if self.min_open else "minimum"] = _number(self.min)
        if self.max is not None:
            bounds["maximum"] = _number(self.max)
        kind = self.kind
        if kind in ("int", "float"):
            body: dict[str, Any] = {"type": "integer" if kind == "int" else "number", **bounds}
            if self.allow:
                body = {"anyOf": [body, {"enum": list(self.allow)}]}
        elif kind == "bool":
            body = {"type": "boolean"}
        elif kind == "choice":
            body = {"type": "string", "minLength": 1} if self.open else {"enum": list(self.choices)}
        elif kind == "str":
            body = {"type": "string"}
        elif kind in ("ints", "names"):
            items = {"type": "integer", **bounds} if kind == "ints" else {"type": "string"}
            body = {"type": "array", "items": items}
            if kind == "ints":
                body["minItems"] = self.length or 1
                if self.length:
                    body["maxItems"] = self.length
        elif kind == "overrides":
            body = {"type": "object", "additionalProperties": {"type": "object"}}
        else:
            body = {"type": "object", "properties": {o.name: o.json_schema() for o in self.options}}
        return {**out, **body}

    def range_text(self) -> str:
        """The allowed values in words, for docs and tooltips: ``0 … 1``, ``> 0, log scale``, ``adam, sgd``."""
        if self.kind == "choice":
            other = ", or another name (kept; a run refuses it)" if self.open else ""
            return ", ".join(f"`{c}`" for c in self.choices) + other
        parts = []
        if self.min is not None and self.max is not None and not self.min_open:
            parts.append(f"{self.min:g} … {self.max:g}")
        elif self.min is not None:
            parts.append(f"{'>' if self.min_open else '≥'} {self.min:g}")
        elif self.max is not None:
            parts.append(f"≤ {self.max:g}")
        if self.allow:
            parts.append(" or ".join(f"`{a}`" for a in self.allow))
        if self.log:
            parts.append("log scale")
        return ", ".join(parts)


def scope_defaults(options: tuple[Option, ...]) -> dict[str, Any]:
    """``{name: default}`` of ``options`` in their order (a scope's defaults, a section's defaults)."""
    return {o.name: o.defaults() for o in options}


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


def _json_text(value: Any) -> str:
    return json.dumps(value)


def _coerce_overrides(value: Any, label: str, error: type[Exception]) -> Overrides:
    """``{"0": {"stride": 2}}`` (or the canonical tuple form) → :data:`Overrides`; the block's check names the rest."""
    if isinstance(value, tuple):
        value = {str(i): dict(items) for i, items in value}
    if not isinstance(value, dict):
        raise error(f'{label} must be an object such as {{"0": {{"stride": 2}}}}, not {value!r}.')
    out = []
    for index, items in value.items():
        if not (isinstance(index, str) and index.isdigit() and len(index) <= 6) or not isinstance(items, dict):
            raise error(
                f'{label}: {index!r} must be a repeat index ("0", "1", ...) mapped to parameter values, '
                'such as {"0": {"stride": 2}}.'
            )
        for name, item in items.items():
            if not isinstance(name, str) or not (item is None or isinstance(item, (bool, int, float, str, list))):
                raise error(f"{label}: index {index} sets {name!r} to {item!r}; use a number, text or list.")
        entries = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in items.items()))
        if entries:
            out.append((int(index), entries))
    return tuple(sorted(out))
