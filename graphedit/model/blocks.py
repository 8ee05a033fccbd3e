"""Block definitions: named subgraphs that block nodes instantiate (issue 13).

A :class:`BlockDefinition` is a graph document of its own whose ``BlockInput``
and ``BlockOutput`` nodes are its ports (named by their node ids, in the
order they were added), plus *exposed parameters*: names bound to inner node
parameters (``"conv1.filters"``) or to whether an inner node is present
(``"downsample.enabled"``: a disabled node passes its input through and has no
weights, which is how torchvision's optional downsample branch is written).

A :class:`BlockLibrary` is a project's registry: the built-in node types plus
one :class:`NodeType` per definition, so a block node is a node like any
other: its ports are the definition's ports and its parameters the exposed
ones plus ``repeat``, ``shared`` and ``overrides`` (per-index values of a
repeat: ResNet's first block in a stage has stride 2). The compiler builds
instances (``graphedit.compiler.blocks``); this module holds the data and its
rules: names, bindings, and no definition containing itself.

Editing a definition's document replaces its node type (and the types of the
definitions that contain it) and tells the attached documents, so shape
inference recomputes every instance.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphedit.errors import GraphError
from graphedit.model.document import GraphDocument
from graphedit.model.events import Event, NodeMoved
from graphedit.nodes.registry import Registry, UnknownNodeType, default_registry
from graphedit.nodes.spec import NodeType, Param, Port, Shape

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
INSTANCE_PARAMS = ("repeat", "shared", "overrides")
ENABLED = "enabled"
MAX_REPEAT = 1000
REPEAT_DOC = "How many copies in a chain: each copy's outputs feed the next one's inputs (keys name.0, name.1, ...)."
SHARED_DOC = (
    "One set of weights for every copy and for every shared instance of this block (a Siamese network, weight "
    "tying); off: each has its own."
)
OVERRIDES_DOC = 'Values for single copies, such as {"0": {"stride": 2}}: the first block of a ResNet stage differs.'


@dataclass(frozen=True)
class Exposed:
    """An exposed parameter: ``binds`` are ``"node.param"`` or ``"node.enabled"`` inside the definition."""

    name: str
    binds: tuple[str, ...]
    doc: str = ""


class BlockDefinition:
    """A named subgraph with ports and exposed parameters. See the module doc."""

    def __init__(self, name: str, document: GraphDocument, exposed: list[Exposed], doc: str = "") -> None:
        self.name = name
        self.document = document
        self.exposed = list(exposed)
        self.doc = doc
        self._order: list[str] | None = None

    def order(self) -> list[str]:
        """The inner nodes in run order (kept until the definition changes)."""
        if self._order is None:
            self._order = self.document.topological_order()
        return self._order

    def _ids(self, role: str) -> list[str]:
        return [n for n in self.document.node_ids() if self.document.node_type(n).role == role]

    def inputs(self) -> list[str]:
        return self._ids("block_input")

    def outputs(self) -> list[str]:
        return self._ids("block_output")

    def uses(self) -> set[str]:
        """The block types its nodes are instances of (directly)."""
        doc = self.document
        return {doc.node_type(n).type_id for n in doc.node_ids() if doc.node_type(n).block is not None}

    def bind_target(self, bind: str) -> tuple[str, str]:
        """``"conv1.filters"`` → ``("conv1", "filters")``; raises :class:`GraphError` naming what is missing."""
        node, _, param = bind.partition(".")
        where = f"block '{self.name}': exposed parameter bound to '{bind}'"
        if not param or node not in self.document:
            raise GraphError(f"{where}: there is no inner node '{node}'; bind it to 'node.parameter' of a node inside")
        if param != ENABLED:
            names = [p.name for p in self.document.node_type(node).params]
            if param not in names:
                raise GraphError(
                    f"{where}: node '{node}' has no parameter '{param}'; its parameters are "
                    f"{', '.join(names) or 'none'} (or '{ENABLED}' to make the node optional)"
                )
        return node, param

    def param_spec(self, exposed: Exposed) -> Param:
        """The exposed parameter's type, range and default, taken from the first inner parameter it binds."""
        node, param = self.bind_target(exposed.binds[0])
        if param == ENABLED:
            return Param(exposed.name, "bool", True, doc=exposed.doc or f"Whether '{node}' is present.")
        inner = self.document.node_type(node).param(param)
        default = self.document.params(node)[param]
        return inner.renamed(exposed.name, default, exposed.doc)

    def bound_params(self, values: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], set[str]]:
        """Each inner node's parameters with the exposed ``values`` applied, and the disabled nodes."""
        doc = self.document
        params = {n: doc.params(n) for n in doc.node_ids()}
        disabled: set[str] = set()
        for exposed in self.exposed:
            if exposed.name not in values:
                continue
            value = values[exposed.name]
            for bind in exposed.binds:
                node, param = self.bind_target(bind)
                if param == ENABLED:
                    if not value:
                        disabled.add(node)
                else:
                    params[node][param] = value
        for node, p in params.items():
            params[node] = doc.node_type(node).validate_params(p, where=f"block '{self.name}', node '{node}': ")
        return params, disabled


def instance_values(node_type: NodeType, params: dict[str, Any], index: int) -> dict[str, Any]:
    """The exposed parameter values of repeat ``index`` of a block node: its own, then that index's overrides."""
    values = {k: v for k, v in params.items() if k not in INSTANCE_PARAMS}
    for i, items in params.get("overrides", ()):
        if i == index:
            values.update(items)
    return node_type.validate_params(
        {**values, **{k: params[k] for k in INSTANCE_PARAMS if k in params}}, where=f"repeat {index}: "
    )


def copy_path(path: str, copy: int) -> str:
    """How probes name copy ``copy`` of the block node at ``path``: ``layer1`` (the first), ``layer1[1]``, ..."""
    return path if copy == 0 else f"{path}[{copy}]"


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def block_type(definition: BlockDefinition) -> NodeType:
    """The node type whose nodes instantiate ``definition``."""
    exposed = [definition.param_spec(e) for e in definition.exposed]
    names = [p.name for p in exposed]
    copy_scope = Param("overrides", "scope", None, options=tuple(exposed))  # one copy's values: its exposed options

    def check(params: dict[str, Any], shapes: list[Shape | None]) -> None:
        repeat = params["repeat"]
        for index, items in params.get("overrides", ()):
            if index >= repeat:
                raise GraphError(f"'overrides' sets repeat {index}, but the block repeats {repeat} times")
            unknown = [k for k, _ in items if k not in names]
            if unknown:
                raise GraphError(
                    f"'overrides' sets {', '.join(unknown)}, which the block does not expose; "
                    f"its parameters are {', '.join(names) or 'none'}"
                )
            given = dict(items)  # each value checked as its exposed parameter declares
            copy_scope.coerce(
                {**copy_scope.defaults(), **given}, error=GraphError, label=f"'overrides' of repeat {index}"
            )

    return NodeType(
        definition.name,
        definition.name,
        "blocks",
        definition.doc or f"An instance of the block '{definition.name}': double-click to see and edit its inside.",
        build=None,
        inputs=tuple(Port(n) for n in definition.inputs()),
        outputs=tuple(Port(n) for n in definition.outputs()),
        params=(
            *exposed,
            Param("repeat", "int", 1, doc=REPEAT_DOC, min=1, max=MAX_REPEAT),
            Param("shared", "bool", False, doc=SHARED_DOC),
            Param("overrides", "overrides", (), doc=OVERRIDES_DOC),
        ),
        formula=f"y = {definition.name}(x)",
        check=check,
        id_prefix=_snake(definition.name),
        block=definition,
    )


class BlockLibrary(Registry):
    """A project's node types: the base registry's plus one per block definition. See the module doc."""

    def __init__(self, base: Registry | None = None) -> None:
        super().__init__()
        self.base = base or default_registry()
        self.pack_errors = self.base.pack_errors
        self.definitions: dict[str, BlockDefinition] = {}
        self._attached: list[GraphDocument] = []
        self._listeners: dict[str, Callable[[Event], None]] = {}

    # ---------------------------------------------------------- the registry
    def get(self, type_id: str) -> NodeType:
        if type_id in self._types:
            return self._types[type_id]
        return self.base.get(type_id)

    def __contains__(self, type_id: str) -> bool:
        return type_id in self._types or type_id in self.base

    def types(self) -> list[NodeType]:
        return [*self.base.types(), *self._types.values()]

    def families(self) -> dict[str, list[NodeType]]:
        out = self.base.families()
        for t in self._types.values():
            out.setdefault(t.category, []).append(t)
        return out

    # ------------------------------------------------------------ queries
    def attach(self, document: GraphDocument) -> None:
        """Instances in ``document`` follow definition changes (the project's top-level graph)."""
        if document not in self._attached:
            self._attached.append(document)

    def new_document(self) -> GraphDocument:
        """An empty document for a definition's inside, using this library."""
        return GraphDocument(self, index_ids=True)

    def contains(self, outer: str) -> set[str]:
        """Every definition ``outer`` contains, directly or not."""
        seen: set[str] = set()
        stack = [outer]
        while stack:
            current = stack.pop()
            for used in self.definitions[current].uses() if current in self.definitions else ():
                if used not in seen:
                    seen.add(used)
                    stack.append(used)
        return seen

    def containing(self, inner: str) -> set[str]:
        """Every definition that contains ``inner``, directly or not."""
        return {name for name in self.definitions if inner in self.contains(name)}

    def instances(self, name: str) -> list[str]:
        """Where ``name`` is used: top-level node ids, and ``Definition/node`` inside other definitions."""
        found = [n for doc in self._attached for n in doc.node_ids() if doc.node_type(n).type_id == name]
        for other, definition in self.definitions.items():
            doc = definition.document
            found += [f"{other}/{n}" for n in doc.node_ids() if doc.node_type(n).type_id == name]
        return found

    def _refusal(self, outer: str, type_id: str) -> str | None:
        if type_id == outer or (type_id in self.definitions and outer in self.contains(type_id)):
            return (
                f"block '{outer}' cannot contain an instance of '{type_id}': "
                f"{'it would contain itself' if type_id == outer else f'{type_id} already contains {outer}'}; "
                "a block cannot contain itself, directly or not"
            )
        return None

    # ------------------------------------------------------------ changes
    def check_name(self, name: str) -> None:
        if not isinstance(name, str) or not NAME_PATTERN.match(name) or keyword.iskeyword(name):
            raise GraphError(
                f"'{name}' is not a valid block name: use letters, digits and _ (not first), e.g. BasicBlock"
            )
        if name in self.definitions:
            raise GraphError(f"a block named '{name}' already exists; choose another name")
        if name in self.base:
            raise GraphError(f"'{name}' is the name of a built-in node type; choose another block name")

    def define(self, name: str, document: GraphDocument, exposed: list[Exposed], doc: str = "") -> BlockDefinition:
        """Add a definition; raises :class:`GraphError` for a bad name, binding or a definition inside itself."""
        self.check_name(name)
        if document.registry is not self:
            raise GraphError(f"block '{name}': its graph must be made with this project's library")
        definition = BlockDefinition(name, document, exposed, doc)
        for node in document.node_ids():
            refused = self._refusal(name, document.node_type(node).type_id)
            if refused:
                raise GraphError(refused)
        seen: set[str] = set()
        for e in exposed:
            if e.name in seen or e.name in INSTANCE_PARAMS or not NAME_PATTERN.match(e.name):
                raise GraphError(
                    f"block '{name}': exposed parameter name '{e.name}' is taken or invalid "
                    f"(repeat, shared and overrides are every block's own); rename it"
                )
            if not e.binds:
                raise GraphError(f"block '{name}': exposed parameter '{e.name}' binds nothing; bind it to node.param")
            seen.add(e.name)
            kinds = {definition.bind_target(b)[1] == ENABLED for b in e.binds}
            if len(kinds) > 1:
                raise GraphError(f"block '{name}': '{e.name}' binds both a presence ('enabled') and a value")
        self.definitions[name] = definition
        document.index_ids = True
        document.type_guard = lambda type_id: self._refusal(name, type_id)
        try:
            self.register(block_type(definition))
        except Exception:
            del self.definitions[name]
            raise
        listener = self._make_listener(name)
        self._listeners[name] = listener
        document.subscribe(listener)
        return definition

    def remove(self, name: str) -> BlockDefinition:
        """Remove an unused definition; one in use is refused with its instances named."""
        used = self.instances(name)
        if used:
            raise GraphError(
                f"block '{name}' is still used by {', '.join(used)}; delete or ungroup those instances first"
            )
        definition = self.definitions.pop(name)
        definition.document.unsubscribe(self._listeners.pop(name))
        definition.document.type_guard = None
        self.unregister(name)
        return definition

    def set_exposed(self, name: str, exposed: list[Exposed]) -> None:
        """Replace a definition's exposed parameters (checked like :meth:`define`)."""
        definition = self.definitions[name]
        old = definition.exposed
        definition.exposed = list(exposed)
        try:
            for e in exposed:
                definition.param_spec(e)
            self.refresh(name)
        except Exception:
            definition.exposed = old
            raise

    def _make_listener(self, name: str) -> Callable[[Event], None]:
        def changed(event: Event) -> None:
            if not isinstance(event, NodeMoved):
                self.refresh(name)

        return changed

    def refresh(self, name: str) -> None:
        """Rebuild the node types of ``name`` and of what contains it, and tell the attached documents."""
        changed = {name, *self.containing(name)}
        for type_id in changed:
            definition = self.definitions[type_id]
            definition._order = None
            try:
                new_type = block_type(definition)
            except GraphError:  # an edit removed a bound node: keep the old type until it is fixed
                continue
            self.register(new_type, replace=True)
        for doc in [*self._attached, *(d.document for d in self.definitions.values())]:
            doc.types_changed(changed)

    def ordered(self) -> list[str]:
        """Definition names, each after the ones it contains (the order a file must list them in)."""
        done: list[str] = []

        def visit(n: str) -> None:
            if n in done:
                return
            for used in sorted(self.definitions[n].uses()):
                if used in self.definitions:
                    visit(used)
            done.append(n)

        for n in self.definitions:
            visit(n)
        return done


def unknown_type_hint(library: BlockLibrary, type_id: str) -> str:
    """The fix for a node of an unknown type inside a project that has blocks."""
    names = ", ".join(library.definitions) or "none"
    try:
        library.get(type_id)
    except UnknownNodeType:
        return f"there is no node type or block definition '{type_id}' (this project's blocks: {names})"
    return ""
