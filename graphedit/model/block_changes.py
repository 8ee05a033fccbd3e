"""Changes to a block definition from the editor: rename it, expose an inner parameter or take it back (issue 13).

Each returns what its undo needs, and its inverse restores exactly that. A rename retypes every instance (in the
project's graph and inside other definitions) and the definitions that contain it; exposing stores the inner
node's current value on every instance (each instance then owns it); un-exposing drops the instances' values.
"""

from __future__ import annotations

from typing import Any

from graphedit.errors import GraphError
from graphedit.model.blocks import ENABLED, INSTANCE_PARAMS, NAME_PATTERN, BlockLibrary, Exposed, block_type
from graphedit.model.document import GraphDocument

StoredParams = dict[tuple[int, str], dict[str, Any]]
"""Instances' parameters kept for an undo, keyed by (``id`` of their document, node id)."""


def _documents(library: BlockLibrary) -> list[GraphDocument]:
    return [*library._attached, *(d.document for d in library.definitions.values())]


def _instances(library: BlockLibrary, name: str) -> list[tuple[GraphDocument, str]]:
    return [(doc, n) for doc in _documents(library) for n in doc.node_ids() if doc.graph.nodes[n]["type"] == name]


def rename_definition(library: BlockLibrary, old: str, new: str) -> None:
    """Rename definition ``old``; a taken or invalid name is refused (nothing changes)."""
    if old not in library.definitions:
        raise GraphError(f"there is no block definition '{old}'")
    if new == old:
        return
    library.check_name(new)
    definition = library.definitions[old]
    definition.document.unsubscribe(library._listeners.pop(old))
    library.unregister(old)
    definition.name = new
    items = [(new if k == old else k, v) for k, v in library.definitions.items()]  # the same place in the list
    library.definitions.clear()
    library.definitions.update(items)
    for doc, node_id in _instances(library, old):
        doc.graph.nodes[node_id]["type"] = new
    definition.document.type_guard = lambda type_id: library._refusal(new, type_id)
    listener = library._make_listener(new)
    library._listeners[new] = listener
    definition.document.subscribe(listener)
    library.register(block_type(definition))
    library.refresh(new)
    for doc in _documents(library):
        doc.types_changed({old, new})


def free_exposed_name(exposed: list[Exposed], wanted: str) -> str:
    taken = {e.name for e in exposed} | set(INSTANCE_PARAMS)
    name, i = wanted, 2
    while name in taken:
        name, i = f"{wanted}_{i}", i + 1
    return name


def expose(library: BlockLibrary, name: str, node_id: str, param: str, exposed_name: str) -> list[Exposed]:
    """Make ``node_id.param`` of definition ``name`` a parameter of its block nodes called ``exposed_name``.

    Every instance gets the inner node's current value. Returns the exposed list before (for :func:`restore`).
    """
    definition = library.definitions[name]
    before = list(definition.exposed)
    bind = f"{node_id}.{param}"
    if any(bind in e.binds for e in before):
        raise GraphError(f"'{bind}' is already a parameter of the block '{name}'")
    taken = {e.name for e in before} | set(INSTANCE_PARAMS)
    if not NAME_PATTERN.match(exposed_name or "") or exposed_name in taken:
        raise GraphError(
            f"'{exposed_name}' cannot name a parameter of the block '{name}': "
            + ("it is taken" if exposed_name in taken else "use letters, digits and _ (not first)")
            + f"; e.g. {free_exposed_name(before, param)}"
        )
    if param == ENABLED or param not in definition.document.params(node_id):
        raise GraphError(f"node '{node_id}' has no parameter '{param}' to expose")
    value = definition.document.params(node_id)[param]
    library.set_exposed(name, [*before, Exposed(exposed_name, (bind,))])
    for doc, instance in _instances(library, name):
        doc.graph.nodes[instance]["params"] = {**doc.graph.nodes[instance]["params"], exposed_name: value}
    for doc in _documents(library):
        doc.types_changed({name})
    return before


def unexpose(library: BlockLibrary, name: str, node_id: str, param: str) -> tuple[list[Exposed], StoredParams]:
    """Take ``node_id.param`` back from the parameters of the block ``name`` (the instances' values go).

    Returns the exposed list and the instances' stored parameters before (for :func:`restore`).
    """
    definition = library.definitions[name]
    before = list(definition.exposed)
    bind = f"{node_id}.{param}"
    owner = next((e for e in before if bind in e.binds), None)
    if owner is None:
        raise GraphError(f"'{bind}' is not a parameter of the block '{name}'")
    after = [e if e is not owner else Exposed(e.name, tuple(b for b in e.binds if b != bind), e.doc) for e in before]
    after = [e for e in after if e.binds]
    gone = owner.name not in {e.name for e in after}
    instances = _instances(library, name)
    used = [n for doc, n in instances if gone and _overridden(doc.params(n), owner.name)]
    if used:
        raise GraphError(
            f"the overrides of {', '.join(used)} set '{owner.name}': remove it there before un-exposing it"
        )
    stored = {(id(doc), n): doc.graph.nodes[n]["params"] for doc, n in instances}
    library.set_exposed(name, after)
    if gone:
        for doc, instance in instances:
            params = doc.graph.nodes[instance]["params"]
            doc.graph.nodes[instance]["params"] = {k: v for k, v in params.items() if k != owner.name}
    for doc in _documents(library):
        doc.types_changed({name})
    return before, stored


def _overridden(params: dict[str, Any], name: str) -> bool:
    return any(name in dict(items) for _, items in params.get("overrides", ()))


def restore(library: BlockLibrary, name: str, exposed: list[Exposed], stored: StoredParams | None = None) -> None:
    """Put back a definition's exposed parameters and, where given, its instances' stored parameters."""
    instances = _instances(library, name)
    if stored is None:  # undo of an expose: the instances lose the new value
        names = {e.name for e in exposed}
        added = {e.name for e in library.definitions[name].exposed} - names
        for doc, n in instances:
            doc.graph.nodes[n]["params"] = {k: v for k, v in doc.graph.nodes[n]["params"].items() if k not in added}
    else:
        for doc, n in instances:
            if (id(doc), n) in stored:
                doc.graph.nodes[n]["params"] = stored[(id(doc), n)]
    library.set_exposed(name, exposed)
    for doc in _documents(library):
        doc.types_changed({name})
