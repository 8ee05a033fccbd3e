"""Names and exposed parameters for the blocks :mod:`graphedit.importers.hierarchy` folds out of an import.

Which inner values differ between the copies of a module class (they become exposed parameters, or a
switch bound to ``node.enabled`` for a node only some copies have), and valid, unused names for
parameters, ports and node ids.
"""

from __future__ import annotations

import keyword
import re
from typing import Any

from graphedit.model.blocks import INSTANCE_PARAMS, NAME_PATTERN, BlockLibrary, Exposed
from graphedit.model.document import GraphDocument
from graphedit.model.node_names import ID_PATTERN, INDEX_ID_PATTERN, RESERVED_IDS

CALL = "@"  # ``encoder@1``: the second call of ``encoder`` in its parent's scope (torch.fx's own mark)


def exposed_params(
    library: BlockLibrary, doc: GraphDocument, locals_: list[str], views: list[dict[str, dict[str, Any]]]
) -> tuple[list[Exposed], list[dict[str, Any]]]:
    """The exposed parameters of a definition and each instance's values of them.

    Inner values that differ between instances are exposed, one parameter per set of inner parameters of
    one name equal in every instance (``conv1.filters`` and ``conv2.filters`` → ``filters``); inner nodes
    that only some instances have get a switch bound to ``node.enabled``.
    """
    missing = object()
    groups: list[tuple[str, list[str], list[Any]]] = []  # inner parameter name, binds, value per instance
    for name in locals_:
        for param in doc.node_type(name).params:
            if param.kind == "overrides":
                continue
            column = [view[name][param.name] if name in view else missing for view in views]
            present = [v for v in column if v is not missing]
            if all(v == present[0] for v in present):
                continue
            for kind, binds, merged in groups:
                agree = all(a is missing or b is missing or a == b for a, b in zip(merged, column))
                if kind == param.name and agree:
                    binds.append(f"{name}.{param.name}")
                    merged[:] = [b if a is missing else a for a, b in zip(merged, column)]
                    break
            else:
                groups.append((param.name, [f"{name}.{param.name}"], column))
    taken: set[str] = set(INSTANCE_PARAMS)
    exposed: list[Exposed] = []
    values: list[dict[str, Any]] = [{} for _ in views]
    params = [param for param, _, _ in groups]
    for param, binds, merged in groups:
        node = binds[0].partition(".")[0]
        name = param_name(param if params.count(param) == 1 else f"{node}_{param}", taken)
        exposed.append(Exposed(name, tuple(binds)))
        for value, out in zip(merged, values):
            if value is not missing:
                out[name] = value
    for node in locals_:
        if any(node not in view for view in views):
            name = param_name(node, taken)
            exposed.append(Exposed(name, (f"{node}.enabled",), f"Whether '{node}' is present."))
            for view, out in zip(views, values):
                out[name] = node in view
    return exposed, values


def param_name(wanted: str, taken: set[str]) -> str:
    name = wanted if NAME_PATTERN.match(wanted) else f"p{wanted}"
    base, i = name, 1
    while name in taken or not NAME_PATTERN.match(name):
        i += 1
        name = f"{base}_{i}"
    taken.add(name)
    return name


def port_names(stem: str, count: int, taken: set[str]) -> list[str]:
    names = [stem] if count == 1 else [f"{stem}{i + 1}" for i in range(count)]
    out = []
    for name in names:
        while name in taken:
            name = f"{name}_"
        taken.add(name)
        out.append(name)
    return out


def valid_id(name: str, inner: bool, prefix: str) -> str:
    """``name`` as a node id: inside a block ``0``, ``1`` are allowed (``nn.Sequential``'s keys)."""
    if inner and INDEX_ID_PATTERN.match(name):
        return name
    name = re.sub(r"\W+", "_", name).strip("_")[:60] or prefix
    if not ID_PATTERN.match(name):
        name = f"{prefix}_{name}"[:60]
    if name in RESERVED_IDS or keyword.iskeyword(name):
        name = f"{name}_"
    return name


def common_value(values: list[Any]) -> Any:
    """The value most copies have (a tie goes to the later copy: a stage's first block is the odd one)."""
    best, count = values[-1], 0
    for v in reversed(values):
        n = sum(1 for w in values if w == v)
        if n > count:
            best, count = v, n
    return best


def json_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
