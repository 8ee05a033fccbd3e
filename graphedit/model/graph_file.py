"""The graph part of a project file: nodes, edges and block definitions, checked as they load.

Every problem is a :class:`FileDataError` with one line naming the node, edge
or block; the project loader adds the file name. Nodes and edges go through
the document's own checks (types, parameters, ports, cycles), so a file can
only make graphs the editor could have made.
"""

from __future__ import annotations

import json
from typing import Any

from graphedit.errors import GraphEditError
from graphedit.model.annotations import AnnotationError
from graphedit.model.blocks import BlockDefinition, BlockLibrary, Exposed
from graphedit.model.document import GraphDocument
from graphedit.nodes.registry import UnknownNodeType
from graphedit.nodes.spec import NodeType

NODE_KEYS = {"id", "type", "params", "position", "muted", "frozen", "lr_scale", "type_version"}
EDGE_KEYS = ("src", "src_port", "dst", "dst_port")
BLOCK_KEYS = {"name", "doc", "params", "graph"}


class FileDataError(Exception):
    """A problem in the file's data, without the file name yet."""


def check_graph(graph: Any, label: str) -> dict[str, Any]:
    if not isinstance(graph, dict) or not isinstance(graph.get("nodes", []), list):
        raise FileDataError(f'{label} must be an object {{"nodes": [...], "edges": [...]}}')
    if not isinstance(graph.get("edges", []), list) or set(graph) - {"nodes", "edges", "frames", "notes"}:
        raise FileDataError(f'{label} must hold only "nodes" and "edges" (lists), and optionally "frames" and "notes"')
    return graph


def load_annotations(document: GraphDocument, graph: dict[str, Any], label: str) -> None:
    """The graph's frames and notes (labels on the canvas, no part of the network)."""
    try:
        document.annotations.load_json(graph.get("frames"), graph.get("notes"))
    except AnnotationError as exc:
        raise FileDataError(f"{label}.{exc}") from None


def blocks_to_json(library: BlockLibrary | None) -> list[dict[str, Any]]:
    """The block definitions, each after the ones it contains."""
    if library is None:
        return []
    return [definition_to_json(library.definitions[name]) for name in library.ordered()]


def definition_to_json(definition: BlockDefinition) -> dict[str, Any]:
    """One entry of the ``blocks`` section (also the body of a block file)."""
    entry: dict[str, Any] = {"name": definition.name}
    if definition.doc:
        entry["doc"] = definition.doc
    entry["params"] = [
        {"name": e.name, "binds": list(e.binds), **({"doc": e.doc} if e.doc else {})} for e in definition.exposed
    ]
    entry["graph"] = {**definition.document.to_json(), **definition.document.annotations.to_json()}
    return entry


def _named(node: dict[str, Any]) -> bool:
    return isinstance(node.get("type"), str)  # a type that is no string is reported by the graph's own check


def load_blocks(library: BlockLibrary, blocks: Any) -> None:
    """Add the file's definitions to ``library``, each after the ones it uses; refuses cycles and unknown types."""
    if not isinstance(blocks, list):
        raise FileDataError("'blocks' must be a list of block definitions")
    entries: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(blocks):
        name = entry.get("name") if isinstance(entry, dict) else None
        label = f"block '{name}'" if isinstance(name, str) else f"block #{i + 1}"
        if not isinstance(name, str) or set(entry) - BLOCK_KEYS:
            raise FileDataError(f"{label} must be an object with 'name', 'params' and 'graph' (and optionally 'doc')")
        if name in entries:
            raise FileDataError(f"two blocks are named '{name}'; block names must be unique: rename one of them")
        check_graph(entry.get("graph", {}), f"{label}: 'graph'")
        entries[name] = entry
    uses = {
        name: {n["type"] for n in e.get("graph", {}).get("nodes", []) if isinstance(n, dict) and _named(n)}
        & set(entries)
        for name, e in entries.items()
    }
    done: list[str] = []
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            cycle = " → ".join([*visiting[visiting.index(name) :], name])
            raise FileDataError(f"blocks contain each other ({cycle}); a block cannot contain itself, directly or not")
        visiting.append(name)
        for used in sorted(uses[name]):
            visit(used)
        visiting.pop()
        done.append(name)

    for name in entries:
        visit(name)
    for name in done:
        _load_block(library, entries[name])


def _load_block(library: BlockLibrary, entry: dict[str, Any]) -> None:
    name = entry["name"]
    try:
        library.check_name(name)
        document = library.new_document()
        graph = entry.get("graph", {})
        add_nodes(document, graph.get("nodes", []))
        add_edges(document, graph.get("edges", []))
        load_annotations(document, graph, "graph")
        params = entry.get("params", [])
        if not isinstance(params, list) or not all(
            isinstance(p, dict)
            and isinstance(p.get("name"), str)
            and isinstance(p.get("binds"), list)
            and all(isinstance(b, str) for b in p["binds"])
            and isinstance(p.get("doc", ""), str)
            and not set(p) - {"name", "binds", "doc"}
            for p in params
        ):
            raise FileDataError('\'params\' must be a list of {"name": ..., "binds": ["node.param", ...]} objects')
        exposed = [Exposed(p["name"], tuple(p["binds"]), p.get("doc", "")) for p in params]
        doc = entry.get("doc", "")
        if not isinstance(doc, str):
            raise FileDataError("'doc' must be text")
        library.define(name, document, exposed, doc)
    except (FileDataError, GraphEditError) as exc:
        text = str(exc)
        raise FileDataError(text if text.startswith(f"block '{name}'") else f"block '{name}': {text}") from None


def _node_label(node: Any, index: int) -> str:
    if isinstance(node, dict) and isinstance(node.get("id"), str):
        return f"node '{node['id']}'"
    return f"node #{index + 1}"


def add_nodes(document: GraphDocument, nodes: list[Any]) -> None:
    seen: set[str] = set()
    for i, node in enumerate(nodes):
        label = _node_label(node, i)
        if not isinstance(node, dict):
            raise FileDataError(f"{label} must be an object with 'id', 'type', 'params' and 'position'")
        extra = sorted(set(node) - NODE_KEYS)
        if extra:
            raise FileDataError(
                f"{label} has unknown key {', '.join(map(repr, extra))}; a node has {', '.join(sorted(NODE_KEYS))}"
            )
        if not isinstance(node.get("id"), str) or not isinstance(node.get("type"), str):
            raise FileDataError(f"{label} needs an 'id' and a 'type', both text")
        if node["id"] in seen:
            raise FileDataError(f"two nodes have the id '{node['id']}'; node ids must be unique: rename one of them")
        seen.add(node["id"])
    for node in nodes:
        node_id, type_id = node["id"], node["type"]
        try:
            node_type = document.registry.get(type_id)
        except UnknownNodeType:
            raise FileDataError(
                f"node '{node_id}' has unknown type '{type_id}'; install the node pack that provides it, "
                "or replace the node with a built-in type"
            ) from None
        params = node.get("params", {})
        if not isinstance(params, dict):
            raise FileDataError(f"node '{node_id}': 'params' must be an object of parameter values, not {params!r}")
        params = _migrate_node(node, node_type, params)
        position = node.get("position", [0.0, 0.0])
        if not (
            isinstance(position, list)
            and len(position) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in position)
        ):
            raise FileDataError(f"node '{node_id}': 'position' must be two numbers [x, y], not {position!r}")
        muted = node.get("muted", False)
        if not isinstance(muted, bool):
            raise FileDataError(f"node '{node_id}': 'muted' must be true or false, not {muted!r}")
        frozen = node.get("frozen", False)
        if not isinstance(frozen, bool):
            raise FileDataError(f"node '{node_id}': 'frozen' must be true or false, not {frozen!r}")
        lr_scale = node.get("lr_scale", 1.0)  # checked by add_node: a number in (0, 100]
        document.add_node(
            type_id, params, (position[0], position[1]), node_id=node_id, muted=muted, frozen=frozen, lr_scale=lr_scale
        )


def _migrate_node(node: dict[str, Any], node_type: NodeType, params: dict[str, Any]) -> dict[str, Any]:
    """Bring the parameters of a node saved by an older version of its type up to date."""
    saved = node.get("type_version", 1)
    node_id = node["id"]
    if isinstance(saved, bool) or not isinstance(saved, int) or saved < 1:
        raise FileDataError(f"node '{node_id}': 'type_version' must be a whole number ≥ 1, not {saved!r}")
    if saved > node_type.version:
        raise FileDataError(
            f"node '{node_id}' was saved by a newer version ({saved}) of node type '{node_type.type_id}' "
            f"than the one installed ({node_type.version}); upgrade GraphEdit or the node pack"
        )
    if saved == node_type.version or node_type.migrate is None:
        return params
    try:
        return node_type.migrate(saved, dict(params))
    except Exception as exc:  # a node pack's migration may fail in any way
        raise FileDataError(
            f"node '{node_id}': migrating '{node_type.type_id}' from version {saved} to {node_type.version} "
            f"failed: {exc}"
        ) from None


def add_edges(document: GraphDocument, edges: list[Any]) -> None:
    into: dict[tuple[str, str], str] = {}
    parsed = []
    for i, edge in enumerate(edges):
        if not (
            isinstance(edge, dict) and set(edge) == set(EDGE_KEYS) and all(isinstance(edge[k], str) for k in EDGE_KEYS)
        ):
            raise FileDataError(
                f"edge #{i + 1} {json.dumps(edge, ensure_ascii=False)} must be an object "
                '{"src": ..., "src_port": ..., "dst": ..., "dst_port": ...} of text'
            )
        text = f"{edge['src']}.{edge['src_port']} → {edge['dst']}.{edge['dst_port']}"
        slot = (edge["dst"], edge["dst_port"])
        if slot in into:
            raise FileDataError(
                f"edge {text}: input port {slot[0]}.{slot[1]} already has an edge ({into[slot]}); "
                "an input takes one edge: remove one of them, or merge them with an Add or Concat node"
            )
        into[slot] = text
        parsed.append((edge, text))
    for edge, text in parsed:
        reason = document.check_connect(edge["src"], edge["src_port"], edge["dst"], edge["dst_port"])
        if reason:
            fix = "" if "cycle" in reason else " Fix the edge in the file or remove it."
            raise FileDataError(f"edge {text}: {reason}{fix}")
        document.connect(edge["src"], edge["src_port"], edge["dst"], edge["dst_port"])
