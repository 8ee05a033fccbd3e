"""Block files (``.gblock``): one block definition and the definitions it contains, for the user's library.

A block file is JSON like a project: ``format`` (``"graphedit-block"``), ``version`` (the project format's),
then the definition's own ``name``, ``doc``, ``params`` and ``graph`` as in a project's ``blocks`` section, and
``blocks``: the definitions it contains, each after the ones it uses. Reading one goes through the project
loader's checks (:func:`add_blocks`) in a library of its own first, so a bad file never
touches the project. Merging into a project reuses a definition that is already there unchanged and renames one
whose name is taken by a different definition (``BasicBlock2``): nothing is overwritten. No Qt here.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

from graphedit.errors import GraphEditError, ProjectFileError
from graphedit.model.blocks import BlockLibrary
from graphedit.model.graph_file import FileDataError, definition_to_json, load_blocks
from graphedit.model.jsontext import JsonTextError, encode, parse
from graphedit.model.migrations import VERSION

BLOCK_FORMAT = "graphedit-block"
BLOCK_SUFFIX = ".gblock"
FILE_KEYS = ("format", "version", "name", "doc", "params", "graph", "blocks")


def add_blocks(library: BlockLibrary, blocks: Any, source: str) -> None:
    """Check block definitions as a project's are checked and add them to ``library``; ``source`` starts errors."""
    try:
        load_blocks(library, blocks)
    except (FileDataError, GraphEditError) as exc:
        raise ProjectFileError(f"{source}: {exc}") from None


def block_file_json(library: BlockLibrary, name: str) -> dict[str, Any]:
    """The block file of definition ``name``: the definition, and the ones it contains under ``blocks``."""
    inner = library.contains(name)
    entry = definition_to_json(library.definitions[name])
    nested = [definition_to_json(library.definitions[n]) for n in library.ordered() if n in inner]
    return {"format": BLOCK_FORMAT, "version": VERSION, **entry, "blocks": nested}


def save_block_file(library: BlockLibrary, name: str, folder: str | os.PathLike[str]) -> Path:
    """Write ``<folder>/<name>.gblock`` atomically (temp file, rename); returns its path."""
    folder = Path(folder)
    target = folder / f"{name}{BLOCK_SUFFIX}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise ProjectFileError(f"{target}: cannot save the block here: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(encode(block_file_json(library, name)).encode("utf-8"))
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise ProjectFileError(f"{target}: saving the block failed: {exc.strerror or exc}") from None
    return target


def read_block_file(path: str | os.PathLike[str], library: BlockLibrary) -> list[dict[str, Any]]:
    """The definitions of a block file, checked like a project's (against ``library``'s built-in types).

    The block's own definition comes last. Raises :class:`ProjectFileError` with one line naming the file.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
        data = parse(text)
    except OSError as exc:
        raise ProjectFileError(f"{path}: cannot read the block file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ProjectFileError(f"{path}: the block file is not UTF-8 text; re-save it as UTF-8 JSON") from None
    except JsonTextError as exc:
        raise ProjectFileError(f"{path}: {exc}") from None
    return block_entries(data, str(path), library)


def block_entries(data: Any, source: str, library: BlockLibrary) -> list[dict[str, Any]]:
    """Check block-file data (see :func:`read_block_file`); ``source`` starts every error."""
    if not isinstance(data, dict) or data.get("format") != BLOCK_FORMAT:
        raise ProjectFileError(f"{source}: this is not a GraphEdit block file ('format' must be {BLOCK_FORMAT!r})")
    unknown = sorted(set(data) - set(FILE_KEYS))
    if unknown:
        raise ProjectFileError(
            f"{source}: unknown key {', '.join(map(repr, unknown))}; the keys are {', '.join(FILE_KEYS)}"
        )
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or not 2 <= version <= VERSION:
        raise ProjectFileError(
            f"{source}: block file version {version!r} is not one this GraphEdit reads (2 to {VERSION}); "
            "upgrade GraphEdit or save the block again"
        )
    nested = data.get("blocks", [])
    if not isinstance(nested, list):
        raise ProjectFileError(f"{source}: 'blocks' must be a list of block definitions")
    own = {k: data[k] for k in ("name", "doc", "params", "graph") if k in data}
    entries = [*nested, own]
    add_blocks(BlockLibrary(library.base), entries, source)  # every check a project's blocks get, nothing kept
    return entries


def _retyped(entry: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    graph = entry.get("graph", {})
    nodes = [{**n, "type": names.get(n["type"], n["type"])} for n in graph.get("nodes", [])]
    return {**entry, "name": names.get(entry["name"], entry["name"]), "graph": {**graph, "nodes": nodes}}


def plan_merge(library: BlockLibrary, entries: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """What adding checked ``entries`` to ``library`` adds, and the name each definition gets there.

    A definition already in the library with the same content is used as it is; one whose name is taken by a
    different definition gets the first free ``Name2``, ``Name3``, ... and the entries that use it follow.
    """
    scratch = BlockLibrary(library.base)
    add_blocks(scratch, entries, "the block")
    names: dict[str, str] = {}
    added: list[dict[str, Any]] = []
    taken = set(library.definitions)
    for entry in entries:
        name = entry["name"]
        if name in library.definitions:
            ours = definition_to_json(library.definitions[name])
            if _retyped(definition_to_json(scratch.definitions[name]), names) == ours:
                names[name] = name
                continue
            i = 2
            while f"{name}{i}" in taken or f"{name}{i}" in library.base:
                i += 1
            names[name] = f"{name}{i}"
        else:
            names[name] = name
        taken.add(names[name])
        added.append(_retyped(entry, names))
    return added, names


def library_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The block files in the user's library folder, by name."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.glob(f"*{BLOCK_SUFFIX}") if p.is_file()), key=lambda p: p.name.lower())
