"""Project files (``.gproj``): one UTF-8 JSON file per project (DESIGN.md decision 8).

The file holds ``format``, ``version``, ``meta``, ``graph``, ``dataset``,
``training``, ``experiment`` (optional: a sweep), ``view`` and ``weights``, in that order, so diffs read well; the
format is documented in ``docs/project-format.md`` and described by
``project.schema.json`` beside this module. Loading validates everything,
migrates older versions and never writes to the file; every problem is a
one-line :class:`ProjectFileError` naming the file (and node or edge).
Saving is atomic: a temp file in the same folder, fsync, then rename.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphedit.errors import GraphEditError, ProjectFileError
from graphedit.model.blocks import BlockLibrary
from graphedit.model.bulk import collection_paused
from graphedit.model.document import GraphDocument
from graphedit.model.experiment import DEFAULT_EXPERIMENT, check_experiment, experiment_to_json
from graphedit.model.graph_file import FileDataError as _Bad
from graphedit.model.graph_file import (
    add_edges,
    add_nodes,
    blocks_to_json,
    check_graph,
    load_annotations,
    load_blocks,
)
from graphedit.model.jsontext import JsonTextError, encode, parse
from graphedit.model.migrations import FORMAT, MIGRATIONS, VERSION, MigrationError, migrate
from graphedit.model.project_schema import SCHEMA_PATH
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
from graphedit.nodes.registry import Registry

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
TOP_KEYS = ("format", "version", "meta", "blocks", "graph", "dataset", "training", "experiment", "view", "weights")


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
    experiment: dict[str, Any] = field(default_factory=lambda: merged(DEFAULT_EXPERIMENT, {}))  # a sweep's plan

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


def node_types_of(document: GraphDocument) -> Registry:
    """The node types a copy of this project loads with: the built-ins, without its blocks (the copy's JSON
    defines those again; loading it into the library that holds them refuses their names as taken)."""
    library = library_of(document)
    return library.base if library is not None else document.registry


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
    out = {
        "format": FORMAT,
        "version": VERSION,
        "meta": merged(DEFAULT_META, project.meta),
        "blocks": blocks_to_json(library_of(doc)),
        "graph": {"nodes": nodes, "edges": doc.to_json()["edges"], **doc.annotations.to_json()},
        "dataset": merged(DEFAULT_DATASET, project.dataset),
        "training": merged(DEFAULT_TRAINING, project.training),
    }
    experiment = experiment_to_json(project.experiment)  # optional: written only when it declares something
    if experiment is not None:
        out["experiment"] = experiment
    out["view"] = merged(DEFAULT_VIEW, project.view)
    out["weights"] = None if project.weights is None else dict(project.weights)
    return out


def dumps(project: Project) -> str:
    """The file's text: indented by 2, UTF-8 characters kept as they are, trailing newline.

    A list or object of plain values that fits on one short line is written on one
    line (positions, shapes, parameters, edges), so a diff shows one changed line
    per edited thing (a parameter, a move, a wire).
    """
    return encode(project_to_json(project))


# ---------------------------------------------------------------- from JSON
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
    load_blocks(library, data.get("blocks", []))
    graph = check_graph(data.get("graph"), "'graph'")
    document = _document(library)
    add_nodes(document, graph.get("nodes", []))
    add_edges(document, graph.get("edges", []))
    load_annotations(document, graph, "graph")
    return Project(
        document=document,
        dataset=check_dataset(data.get("dataset")),
        training=check_training(data.get("training")),
        view=check_view(data.get("view")),
        meta=check_meta(data.get("meta")),
        weights=check_weights(data.get("weights")),
        experiment=check_experiment(data.get("experiment")),
    )


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
    with collection_paused():  # one bulk build: see graphedit/model/bulk.py
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
