"""The node reference: every node type's ports, parameters and doc, as data, text and Markdown.

``graphedit nodes`` prints it, ``docs/nodes.md`` is generated from it, and the editor's Help ▸ Node
Reference shows it, all from the one catalog.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from graphedit.nodes.registry import Registry, UnknownNodeType
from graphedit.nodes.spec import NodeType, Param

DOC_PATH = "docs/nodes.md"
REGENERATE = "graphedit nodes --markdown > docs/nodes.md"


def find_type(registry: Registry, type_id: str) -> NodeType:
    try:
        return registry.get(type_id)
    except UnknownNodeType:
        ids = [t.type_id for t in registry.types()]
        by_case = {i.lower(): i for i in ids}
        close = [by_case[type_id.lower()]] if type_id.lower() in by_case else difflib.get_close_matches(type_id, ids)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise UnknownNodeType(
            f"there is no node type {type_id!r}; {hint}`graphedit nodes` lists all {len(ids)} types"
        ) from None


# ------------------------------------------------------------------ description
def param_json(p: Param) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.name, "type": p.kind, "default": p.to_json_value(p.default)}
    if p.min is not None:
        out["min"] = p.min
    if p.max is not None:
        out["max"] = p.max
    if p.choices:
        out["choices"] = list(p.choices)
    if p.allow:
        out["also"] = list(p.allow)
    if p.length is not None:
        out["length"] = p.length
    if p.unit:
        out["unit"] = p.unit
    out["doc"] = p.doc
    return out


def _ports(node_type: NodeType, outputs: bool) -> list[dict[str, Any]]:
    counted = node_type.variadic_outputs if outputs else node_type.variadic
    if counted is not None:
        stem = "out" if outputs else "in"
        return [{"name": f"{stem}1 … {stem}N", "doc": f"one port per entry of '{counted}'", "optional": False}]
    ports = node_type.outputs if outputs else node_type.inputs
    return [{"name": p.name, "doc": p.doc, "optional": p.optional} for p in ports]


def describe(node_type: NodeType) -> dict[str, Any]:
    """Everything a user can know about a node type, as JSON-ready data."""
    return {
        "type": node_type.type_id,
        "title": node_type.title,
        "category": node_type.category,
        "role": node_type.role,
        "doc": node_type.doc,
        "formula": node_type.formula,
        "inputs": _ports(node_type, outputs=False),
        "outputs": _ports(node_type, outputs=True),
        "params": [param_json(p) for p in node_type.params],
        "train_only": node_type.train_only,
        "legacy_ids": list(node_type.legacy_ids),
    }


def _range(p: dict[str, Any]) -> str:
    if "choices" in p:
        return " / ".join(map(str, p["choices"]))
    low, high = p.get("min"), p.get("max")
    text = "" if low is None and high is None else f"{_num(low) if low is not None else '−∞'} … "
    text += "" if low is None and high is None else (_num(high) if high is not None else "∞")
    if "also" in p:
        text += (" or " if text else "") + " / ".join(p["also"])
    if "length" in p:
        text += f" ({p['length']} numbers)"
    return text


def _num(x: float) -> str:
    return f"{x:g}"


def _value(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False)


# ------------------------------------------------------------------ text
def text_list(types: list[NodeType]) -> str:
    lines = []
    for category, members in _families(types).items():
        lines.append(f"{category}:")
        for t in members:
            lines.append(f"  {t.type_id:<20} {_first_sentence(t.doc)}")
    lines.append(f"{len(types)} node types; `graphedit nodes TYPE` shows one in full")
    return "\n".join(lines)


def text_detail(t: NodeType) -> str:
    d = describe(t)
    lines = [f"{t.type_id} ({t.category}, {t.role})", t.doc, f"formula: {t.formula}"]
    for key in ("inputs", "outputs"):
        ports = ", ".join(p["name"] + (" (optional)" if p["optional"] else "") for p in d[key]) or "none"
        lines.append(f"{key}: {ports}")
    lines.append("parameters:" if d["params"] else "parameters: none")
    for p in d["params"]:
        extra = _range(p)
        unit = f" {p['unit']}" if "unit" in p else ""
        lines.append(
            f"  {p['name']} ({p['type']}, default {_value(p['default'])}{unit}"
            f"{', ' + extra if extra else ''}): {p['doc']}"
        )
    return "\n".join(lines)


def _first_sentence(doc: str, width: int = 90) -> str:
    head = re.split(r"(?<!e\.g)(?<!i\.e)[.:;] ", doc, maxsplit=1)[0].rstrip(".")
    return head if len(head) <= width else head[: width - 1].rstrip() + "…"


def _families(types: list[NodeType]) -> dict[str, list[NodeType]]:
    out: dict[str, list[NodeType]] = {}
    for t in types:
        out.setdefault(t.category, []).append(t)
    return out


# ------------------------------------------------------------------ markdown
def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(types: list[NodeType]) -> str:
    """The node reference as Markdown; ``docs/nodes.md`` holds exactly this for the built-in catalog."""
    families = _families(types)
    lines = [
        "# Node reference",
        "",
        f"Generated from the catalog by `{REGENERATE}`; do not edit by hand.",
        "Shapes are written with the batch dimension first as N. Axes count from the batch (axis 0).",
        "",
    ]
    for category, members in families.items():
        lines.append(f"- **{category}**: " + ", ".join(f"[{t.type_id}](#{t.type_id.lower()})" for t in members))
    for category, members in families.items():
        lines += ["", f"## {category}"]
        for t in members:
            d = describe(t)
            lines += ["", f"### {t.type_id}", "", _cell(t.doc), "", f"Formula: `{t.formula}`", ""]
            if t.train_only:
                lines += ["Training only: the identity in evaluation and left out of exports.", ""]
            if t.legacy_ids:
                lines += [f"Older name: {', '.join(t.legacy_ids)}.", ""]
            for key in ("inputs", "outputs"):
                ports = [f"`{p['name']}`" + (" (optional)" if p["optional"] else "") for p in d[key]]
                lines.append(f"- {key.capitalize()}: {', '.join(ports) or 'none'}")
            if d["params"]:
                lines += ["", "| Parameter | Type | Default | Range | Unit | Meaning |", "|---|---|---|---|---|---|"]
                for p in d["params"]:
                    row = [f"`{p['name']}`", p["type"], f"`{_value(p['default'])}`", _range(p), p.get("unit", "")]
                    lines.append("| " + " | ".join(_cell(c) for c in [*row, p["doc"]]) + " |")
    return "\n".join(lines) + "\n"
