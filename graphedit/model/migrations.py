"""Migrations of project files from older format versions (DESIGN.md decision 8).

``MIGRATIONS[v]`` takes the JSON data of a version-``v`` file and returns the
same project as version ``v + 1``; :func:`migrate` chains them up to
:data:`VERSION`. A migration never touches the file: it works on a copy and the
editor writes the new version only when the user saves.

Version 0 (the prototype's files) had no ``format`` key, kept ``nodes`` and
``edges`` at the top level, wrote edges as ``["src.port", "dst.port"]`` and
called the learning rate ``learning_rate``. Version 1 had no ``blocks``
section. Version 2 stored ``training.channels_last`` as ``true`` or ``false``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

FORMAT = "graphedit-project"
VERSION = 3


class MigrationError(ValueError):
    """Data that a migration cannot convert; the loader adds the file name."""


def _edge_from_v0(edge: Any) -> dict[str, str]:
    if not (isinstance(edge, list) and len(edge) == 2 and all(isinstance(e, str) and "." in e for e in edge)):
        raise MigrationError(
            f'version-0 edge {edge!r} is not a pair of \'node.port\' strings such as ["dense1.y", "relu1.x"]; '
            "fix or remove it"
        )
    (src, src_port), (dst, dst_port) = (e.split(".", 1) for e in edge)
    return {"src": src, "src_port": src_port, "dst": dst, "dst_port": dst_port}


def _v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
    edges = data.get("edges", [])
    if not isinstance(edges, list):
        raise MigrationError('version-0 \'edges\' must be a list of ["node.port", "node.port"] pairs')
    for key in ("meta", "training", "dataset", "view"):
        if not isinstance(data.get(key) or {}, dict):
            raise MigrationError(f"version-0 '{key}' must be an object {{...}}, not {type(data[key]).__name__}")
    if not isinstance(data.get("nodes", []), list):
        raise MigrationError("version-0 'nodes' must be a list of node objects")
    training = dict(data.get("training") or {})
    if "learning_rate" in training:
        training.setdefault("lr", training.pop("learning_rate"))
    out: dict[str, Any] = {
        "format": FORMAT,
        "version": 1,
        "meta": data.get("meta", {}),
        "graph": {"nodes": data.get("nodes", []), "edges": [_edge_from_v0(e) for e in edges]},
        "dataset": data.get("dataset", {}),
        "training": training,
        "view": data.get("view", {}),
        "weights": data.get("weights"),
    }
    return out


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 adds the ``blocks`` section (block definitions); a version-1 file has none."""
    out = {"format": data.get("format"), "version": 2, "meta": data.get("meta", {}), "blocks": []}
    out.update({k: v for k, v in data.items() if k not in out})
    return out


def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Version 3's ``training.channels_last`` is ``auto``, ``on`` or ``off``. Version 2's ``true`` is ``on``; its
    ``false`` was the default every file was saved with, which is now ``auto`` (GraphEdit chooses)."""
    out = {**data, "version": 3}
    training = data.get("training")
    if isinstance(training, dict) and isinstance(training.get("channels_last"), bool):
        out["training"] = {**training, "channels_last": "on" if training["channels_last"] else "auto"}
    return out


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _v0_to_v1, 1: _v1_to_v2, 2: _v2_to_v3}


def data_version(data: dict[str, Any]) -> int:
    """The format version of project data; a file without ``version`` and ``format`` but with ``nodes`` is 0."""
    if "version" in data:
        version = data["version"]
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise MigrationError(f"'version' must be a whole number ≥ 0, not {version!r}")
        return version
    if "format" not in data and "nodes" in data:
        return 0
    raise MigrationError(
        f"the 'version' key is missing; a version-{VERSION} project starts with "
        f'"format": "{FORMAT}", "version": {VERSION}'
    )


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Return ``data`` brought up to :data:`VERSION` (a new dict; ``data`` is left as it is).

    Raises :class:`MigrationError` for a version newer than :data:`VERSION` or one
    with no migration path.
    """
    version = data_version(data)
    if version > VERSION:
        raise MigrationError(
            f"it was made by a newer GraphEdit (project format version {version}; this GraphEdit reads up to "
            f"{VERSION}); upgrade GraphEdit to open it"
        )
    data = copy.deepcopy(data)
    while version < VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise MigrationError(f"there is no migration from project format version {version}")
        data = step(data)
        version += 1
        data["version"] = version
    return data
