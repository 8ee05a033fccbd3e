"""Project files (``.gproj``): one UTF-8 JSON file per project (DESIGN.md decision 8).

The file holds ``format``, ``version``, ``meta``, ``graph``, ``dataset``,
``training``, ``view`` and ``weights``, in that order, so diffs read well; the
format is documented in ``docs/project-format.md`` and described by
``project.schema.json`` beside this module. Loading validates everything,
migrates older versions and never writes to the file; every problem is a
one-line :class:`ProjectFileError` naming the file (and node or edge).
Saving is atomic: a temp file in the same folder, fsync, then rename.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphedit.errors import GraphEditError, ProjectFileError
from graphedit.model.blocks import BlockDefinition, BlockLibrary, Exposed
from graphedit.model.document import GraphDocument
from graphedit.model.jsontext import JsonTextError, encode, parse
from graphedit.model.migrations import FORMAT, MIGRATIONS, VERSION, MigrationError, migrate
from graphedit.model.project_settings import (
    DEFAULT_DATASET,
    DEFAULT_META,
    DEFAULT_TRAINING,
    DEFAULT_VIEW,
    SettingError,
    check_dataset,
    check_meta,
    check_training,
    check_view,
    check_weights,
    merged,
)
from graphedit.nodes.registry import Registry, UnknownNodeType

__all__ = [
    "DEFAULT_DATASET",
    "DEFAULT_META",
    "DEFAULT_TRAINING",
    "DEFAULT_VIEW",
    "FORMAT",
    "MIGRATIONS",
    "SCHEMA_PATH",
    "SUFFIX",
    "VERSION",
    "Project",
    "load_project",
    "migrate",
    "new_project",
    "project_from_json",
    "project_to_json",
    "save_project",
]

SUFFIX = ".gproj"
SCHEMA_PATH = Path(__file__).with_name("project.schema.json")
TOP_KEYS = ("format", "version", "meta", "blocks", "graph", "dataset", "training", "view", "weights")
NODE_KEYS = {"id", "type", "params", "position", "muted", "type_version"}
EDGE_KEYS = ("src", "src_port", "dst", "dst_port")


@dataclass(eq=False)
class Project:
    """A graph plus everything needed to train and show it. Compare projects with :func:`project_to_json`."""

    document: GraphDocument
    dataset: dict[str, Any] = field(default_factory=lambda: merged(DEFAULT_DATASET, {}))
    training: dict[str, Any] = field(default_factory=lambda: merged(DEFAULT_TRAINING, {}))
    view: dict[str, Any] = field(default_factory=lambda: merged(DEFAULT_VIEW, {}))
    meta: dict[str, Any] = field(default_factory=lambda: merged(DEFAULT_META, {}))
    weights: dict[str, str] | None = None
    path: Path | None = None

    def weights_file(self) -> Path | None:
        """Absolute path of the weights file, or ``None`` without weights or before the first save."""
        if self.weights is None or self.path is None:
            return None
        return self.path.parent / self.weights["path"]


def new_project(registry: Registry | None = None) -> Project:
    """An empty, unsaved project with default settings."""
    return Project(document=_document(BlockLibrary(registry)))


def _document(library: BlockLibrary) -> GraphDocument:
    document = GraphDocument(library)
    library.attach(document)
    return document


def library_of(document: GraphDocument) -> BlockLibrary | None:
    """The block library behind a project's document (``None`` for a bare document)."""
    return document.registry if isinstance(document.registry, BlockLibrary) else None


# ------------------------------------------------------------------ to JSON
def project_to_json(project: Project) -> dict[str, Any]:
    """The project as JSON data, keys in the stable order of :data:`TOP_KEYS`."""
    doc = project.document
    nodes = []
    for node_id in doc.node_ids():
        node = doc.node_to_json(node_id)
        version = doc.node_type(node_id).version
        if version != 1:
            node["type_version"] = version
        nodes.append(node)
    return {
        "format": FORMAT,
        "version": VERSION,
        "meta": merged(DEFAULT_META, project.meta),
        "blocks": blocks_to_json(doc),
        "graph": {"nodes": nodes, "edges": doc.to_json()["edges"]},
        "dataset": merged(DEFAULT_DATASET, project.dataset),
        "training": merged(DEFAULT_TRAINING, project.training),
        "view": merged(DEFAULT_VIEW, project.view),
        "weights": None if project.weights is None else dict(project.weights),
    }


def dumps(project: Project) -> str:
    """The file's text: indented by 2, UTF-8 characters kept as they are, trailing newline.

    A list or object of plain values that fits on one short line is written on one
    line (positions, shapes, parameters, edges), so a diff shows one changed line
    per edited thing (a parameter, a move, a wire).
    """
    return encode(project_to_json(project))


# ---------------------------------------------------------------- from JSON
class _Bad(Exception):
    """Internal: a problem without the file name yet."""


def project_from_json(data: Any, source: str, registry: Registry | None = None) -> Project:
    """Validate and migrate project data; ``source`` (the file) starts every error message."""
    try:
        return _from_json(data, registry)
    except (_Bad, MigrationError, SettingError) as exc:
        raise ProjectFileError(f"{source}: {exc}") from None
    except GraphEditError as exc:  # from the document's own checks
        raise ProjectFileError(f"{source}: {exc}") from None


def _from_json(data: Any, registry: Registry | None) -> Project:
    if not isinstance(data, dict):
        raise _Bad(f"this is not a GraphEdit project: the file holds a JSON {type(data).__name__}, not an object")
    if "format" in data and data["format"] != FORMAT:
        raise _Bad(f"this is not a GraphEdit project: 'format' is {data['format']!r}, expected {FORMAT!r}")
    data = migrate(data)
    if data.get("format") != FORMAT:
        raise _Bad(f"this is not a GraphEdit project: the 'format' key must be {FORMAT!r}")
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise _Bad(f"unknown top-level key {', '.join(map(repr, unknown))}; the keys are {', '.join(TOP_KEYS)}")
    library = BlockLibrary(registry)
    _load_blocks(library, data.get("blocks", []))
    graph = _graph(data.get("graph"), "'graph'")
    document = _document(library)
    _add_nodes(document, graph.get("nodes", []))
    _add_edges(document, graph.get("edges", []))
    return Project(
        document=document,
        dataset=check_dataset(data.get("dataset")),
        training=check_training(data.get("training")),
        view=check_view(data.get("view")),
        meta=check_meta(data.get("meta")),
        weights=check_weights(data.get("weights")),
    )


def _graph(graph: Any, label: str) -> dict[str, Any]:
    if not isinstance(graph, dict) or not isinstance(graph.get("nodes", []), list):
        raise _Bad(f'{label} must be an object {{"nodes": [...], "edges": [...]}}')
    if not isinstance(graph.get("edges", []), list) or set(graph) - {"nodes", "edges"}:
        raise _Bad(f'{label} must hold only "nodes" (a list) and "edges" (a list)')
    return graph


def blocks_to_json(document: GraphDocument) -> list[dict[str, Any]]:
    """The block definitions, each after the ones it contains."""
    library = library_of(document)
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
    entry["graph"] = definition.document.to_json()
    return entry


def add_blocks(library: BlockLibrary, blocks: Any, source: str) -> None:
    """Check block definitions as a project's are checked and add them to ``library`` (a block file's import)."""
    try:
        _load_blocks(library, blocks)
    except (_Bad, GraphEditError) as exc:
        raise ProjectFileError(f"{source}: {exc}") from None


BLOCK_KEYS = {"name", "doc", "params", "graph"}


def _load_blocks(library: BlockLibrary, blocks: Any) -> None:
    """Add the file's definitions to ``library``, each after the ones it uses; refuses cycles and unknown types."""
    if not isinstance(blocks, list):
        raise _Bad("'blocks' must be a list of block definitions")
    entries: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(blocks):
        name = entry.get("name") if isinstance(entry, dict) else None
        label = f"block '{name}'" if isinstance(name, str) else f"block #{i + 1}"
        if not isinstance(name, str) or set(entry) - BLOCK_KEYS:
            raise _Bad(f"{label} must be an object with 'name', 'params' and 'graph' (and optionally 'doc')")
        if name in entries:
            raise _Bad(f"two blocks are named '{name}'; block names must be unique: rename one of them")
        _graph(entry.get("graph", {}), f"{label}: 'graph'")
        entries[name] = entry
    uses = {
        name: {n.get("type") for n in e.get("graph", {}).get("nodes", []) if isinstance(n, dict)} & set(entries)
        for name, e in entries.items()
    }
    done: list[str] = []
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            cycle = " → ".join([*visiting[visiting.index(name) :], name])
            raise _Bad(f"blocks contain each other ({cycle}); a block cannot contain itself, directly or not")
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
        _add_nodes(document, graph.get("nodes", []))
        _add_edges(document, graph.get("edges", []))
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
            raise _Bad('\'params\' must be a list of {"name": ..., "binds": ["node.param", ...]} objects')
        exposed = [Exposed(p["name"], tuple(p["binds"]), p.get("doc", "")) for p in params]
        doc = entry.get("doc", "")
        if not isinstance(doc, str):
            raise _Bad("'doc' must be text")
        library.define(name, document, exposed, doc)
    except (_Bad, GraphEditError) as exc:
        text = str(exc)
        raise _Bad(text if text.startswith(f"block '{name}'") else f"block '{name}': {text}") from None


def _node_label(node: Any, index: int) -> str:
    if isinstance(node, dict) and isinstance(node.get("id"), str):
        return f"node '{node['id']}'"
    return f"node #{index + 1}"


def _add_nodes(document: GraphDocument, nodes: list[Any]) -> None:
    seen: set[str] = set()
    for i, node in enumerate(nodes):
        label = _node_label(node, i)
        if not isinstance(node, dict):
            raise _Bad(f"{label} must be an object with 'id', 'type', 'params' and 'position'")
        extra = sorted(set(node) - NODE_KEYS)
        if extra:
            raise _Bad(
                f"{label} has unknown key {', '.join(map(repr, extra))}; a node has {', '.join(sorted(NODE_KEYS))}"
            )
        if not isinstance(node.get("id"), str) or not isinstance(node.get("type"), str):
            raise _Bad(f"{label} needs an 'id' and a 'type', both text")
        if node["id"] in seen:
            raise _Bad(f"two nodes have the id '{node['id']}'; node ids must be unique: rename one of them")
        seen.add(node["id"])
    for node in nodes:
        node_id, type_id = node["id"], node["type"]
        try:
            node_type = document.registry.get(type_id)
        except UnknownNodeType:
            raise _Bad(
                f"node '{node_id}' has unknown type '{type_id}'; install the node pack that provides it, "
                "or replace the node with a built-in type"
            ) from None
        params = node.get("params", {})
        if not isinstance(params, dict):
            raise _Bad(f"node '{node_id}': 'params' must be an object of parameter values, not {params!r}")
        params = _migrate_node(node, node_type, params)
        position = node.get("position", [0.0, 0.0])
        if not (
            isinstance(position, list)
            and len(position) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in position)
        ):
            raise _Bad(f"node '{node_id}': 'position' must be two numbers [x, y], not {position!r}")
        muted = node.get("muted", False)
        if not isinstance(muted, bool):
            raise _Bad(f"node '{node_id}': 'muted' must be true or false, not {muted!r}")
        document.add_node(type_id, params, (position[0], position[1]), node_id=node_id, muted=muted)


def _migrate_node(node: dict[str, Any], node_type: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Bring the parameters of a node saved by an older version of its type up to date."""
    saved = node.get("type_version", 1)
    node_id = node["id"]
    if isinstance(saved, bool) or not isinstance(saved, int) or saved < 1:
        raise _Bad(f"node '{node_id}': 'type_version' must be a whole number ≥ 1, not {saved!r}")
    if saved > node_type.version:
        raise _Bad(
            f"node '{node_id}' was saved by a newer version ({saved}) of node type '{node_type.type_id}' "
            f"than the one installed ({node_type.version}); upgrade GraphEdit or the node pack"
        )
    if saved == node_type.version or node_type.migrate is None:
        return params
    try:
        return node_type.migrate(saved, dict(params))
    except Exception as exc:  # a node pack's migration may fail in any way
        raise _Bad(
            f"node '{node_id}': migrating '{node_type.type_id}' from version {saved} to {node_type.version} "
            f"failed: {exc}"
        ) from None


def _add_edges(document: GraphDocument, edges: list[Any]) -> None:
    into: dict[tuple[str, str], str] = {}
    parsed = []
    for i, edge in enumerate(edges):
        if not (
            isinstance(edge, dict) and set(edge) == set(EDGE_KEYS) and all(isinstance(edge[k], str) for k in EDGE_KEYS)
        ):
            raise _Bad(
                f"edge #{i + 1} {json.dumps(edge, ensure_ascii=False)} must be an object "
                '{"src": ..., "src_port": ..., "dst": ..., "dst_port": ...} of text'
            )
        text = f"{edge['src']}.{edge['src_port']} → {edge['dst']}.{edge['dst_port']}"
        slot = (edge["dst"], edge["dst_port"])
        if slot in into:
            raise _Bad(
                f"edge {text}: input port {slot[0]}.{slot[1]} already has an edge ({into[slot]}); "
                "an input takes one edge: remove one of them, or merge them with an Add or Concat node"
            )
        into[slot] = text
        parsed.append((edge, text))
    for edge, text in parsed:
        reason = document.check_connect(edge["src"], edge["src_port"], edge["dst"], edge["dst_port"])
        if reason:
            fix = "" if "cycle" in reason else " Fix the edge in the file or remove it."
            raise _Bad(f"edge {text}: {reason}{fix}")
        document.connect(edge["src"], edge["src_port"], edge["dst"], edge["dst_port"])


# --------------------------------------------------------------------- I/O
def load_project(path: str | os.PathLike[str], registry: Registry | None = None) -> Project:
    """Read, validate and migrate a project file; the file itself is only read, never written."""
    path = Path(path)
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProjectFileError(f"{source}: cannot read the file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProjectFileError(
            f"{source}: the file is not UTF-8 text (bad byte at offset {exc.start}); "
            "a project file is UTF-8 JSON: re-save it as UTF-8"
        ) from None
    try:
        data = parse(text)
    except JsonTextError as exc:
        raise ProjectFileError(f"{source}: {exc}") from None
    project = project_from_json(data, source, registry)
    project.path = path
    return project


def save_project(project: Project, path: str | os.PathLike[str] | None = None) -> Path:
    """Write the project atomically (temp file in the same folder, fsync, rename); returns the path.

    On any failure the previous file is left as it was and no temp file remains.
    Sets ``project.path`` to the saved path.
    """
    if path is None and project.path is None:
        raise ProjectFileError("the project has no file yet: choose where to save it")
    target = Path(path if path is not None else project.path)  # type: ignore[arg-type]
    if target.is_symlink():
        target = target.resolve()
    data = dumps(project).encode("utf-8")
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise ProjectFileError(f"{target}: cannot save here: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ProjectFileError(
                f"{target}: saving failed ({exc.strerror or exc}); the previous file is unchanged"
            ) from None
        raise
    _fsync_dir(target.parent)
    project.path = target
    return target


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable where the OS allows it (not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
