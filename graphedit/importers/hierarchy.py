"""Fold a flat imported graph into blocks along the source's module hierarchy (issue 13, item 5).

Both importers note, for every node they add, the *scope* it came from (the module path, such as
``("layer1", "0")``) and a name for it there (``conv1``). :func:`fold` then replaces the scopes, deepest
first, by block nodes, so torchvision's resnet18 opens as its stem, ``layer1`` … ``layer4`` and the head:

- the scopes of one kind (the same module class) at one depth are matched against the largest of them:
  those with the same inner nodes and wires become instances of one definition, whose *exposed*
  parameters are the inner values that differ between them (``filters``, ``stride``); an inner node that
  only some have (the first block's ``downsample``) is kept, with an exposed switch bound to
  ``node.enabled``, when taking it out of the others' wiring leaves the same graph;
- a container whose children ``0``, ``1``, … are instances of one definition, each feeding the next,
  becomes one block node with ``repeat`` and per-copy ``overrides`` (``nn.Sequential``'s keys
  ``layer2.0.conv1.weight`` are the ones a repeat compiles to);
- a module its parent calls several times (a Siamese ``self.encoder(a)``, ``self.encoder(b)``: the fx importer
  marks the later calls' scopes ``encoder@1``) becomes one block node per call, instances of one definition
  with ``shared`` weights: the first call's, under the module's keys (``encoder.fc1.weight``);
- a scope that cannot be cut out as one block (its values leave and come back, a data node inside)
  is left flat in its parent.

Inner nodes keep their names from the source, so the compiled model's state-dict keys are the module's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from graphedit.importers.hierarchy_names import (
    CALL,
    common_value,
    exposed_params,
    json_value,
    port_names,
    valid_id,
)
from graphedit.model.blocks import NAME_PATTERN, BlockLibrary
from graphedit.model.document import GraphDocument
from graphedit.model.layout import layered_layout

CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")
Scope = tuple[str, ...]
Wire = tuple[str, str, str, str]  # src, src_port, dst, dst_port


@dataclass
class Item:
    """A node of the graph being folded: flat nodes first, then the block nodes that replace scopes."""

    type_id: str
    params: dict[str, Any]
    scope: Scope
    local: str
    rank: int
    weights: list[tuple[str, dict[str, torch.Tensor]]] = field(default_factory=list)


@dataclass
class Region:
    """A scope's nodes, the values that enter it (``@in0``…) and leave it (``@out0``…), and its wires."""

    scope: Scope
    members: list[str]
    inputs: list[tuple[str, str]]
    outputs: list[tuple[str, str]]
    wires: set[Wire]


def _path(*parts: str) -> str:
    return ".".join(p for p in parts if p)


def _stem(name: str) -> str:
    return re.sub(r"[\d_.]+$", "", name)


def _camel(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[_\W]+", name) if p)


class Folder:
    """The state of one fold; see the module doc."""

    def __init__(self, library: BlockLibrary, kind_of: Callable[[Scope], str], collapse_single: bool) -> None:
        self.library = library
        self.kind_of = kind_of
        self.collapse_single = collapse_single
        self.items: dict[str, Item] = {}
        self.wires: list[Wire] = []
        self._next = 0

    # ------------------------------------------------------------- helpers
    def role(self, uid: str) -> str:
        return self.library.get(self.items[uid].type_id).role

    def members(self, scope: Scope) -> list[str]:
        return sorted((u for u, it in self.items.items() if it.scope == scope), key=lambda u: self.items[u].rank)

    def uniquify(self, scope: Scope) -> None:
        """Distinct, valid names inside ``scope`` (a name used twice gets ``_1``, ``_2``)."""
        taken: set[str] = set()
        for uid in self.members(scope):
            item = self.items[uid]
            base = valid_id(item.local, inner=bool(scope), prefix=self.library.get(item.type_id).prefix)
            name, i = base, 0
            while name in taken:
                i += 1
                name = f"{base}_{i}"
            item.local = name
            taken.add(name)

    def region(self, scope: Scope) -> Region:
        members = self.members(scope)
        inside = set(members)
        local = {u: self.items[u].local for u in members}
        inputs: list[tuple[str, str]] = []
        outputs: list[tuple[str, str]] = []
        wires: set[Wire] = set()
        for src, sp, dst, dp in self.wires:
            if dst in inside and src in inside:
                wires.add((local[src], sp, local[dst], dp))
            elif dst in inside:
                if (src, sp) not in inputs:
                    inputs.append((src, sp))
                wires.add((f"@in{inputs.index((src, sp))}", "y", local[dst], dp))
            elif src in inside and (src, sp) not in outputs:
                outputs.append((src, sp))
        wires |= {(local[s], sp, f"@out{j}", "x") for j, (s, sp) in enumerate(outputs)}
        return Region(scope, members, inputs, outputs, wires)

    def foldable(self, region: Region) -> bool:
        """One block can stand for it: only layers inside, values in and out, and none that leaves and returns."""
        if not region.inputs or not region.outputs or any(self.role(u) != "layer" for u in region.members):
            return False
        inside = set(region.members)
        after: dict[str, list[str]] = {}
        for src, _, dst, _ in self.wires:
            after.setdefault(src, []).append(dst)
        stack = [d for s, _, d, _ in self.wires if s in inside and d not in inside]
        seen: set[str] = set()
        while stack:
            uid = stack.pop()
            if uid in inside:
                return False
            if uid not in seen:
                seen.add(uid)
                stack.extend(after.get(uid, ()))
        return True

    def dissolve(self, scope: Scope) -> None:
        """Leave a scope flat: its nodes move to the parent, named ``<scope>_<name>``."""
        for uid in self.members(scope):
            item = self.items[uid]
            item.scope, item.local = scope[:-1], f"{scope[-1]}_{item.local}"
        self.uniquify(scope[:-1])

    def replace(self, region: Region, type_id: str, params: dict[str, Any], ins: list[str], outs: list[str]) -> str:
        """One block node instead of ``region``'s nodes; its weights keep their module paths under it."""
        region = self.region(region.scope)  # its neighbours may have become block nodes since it was read
        inside = set(region.members)
        weights = [
            (_path(self.items[u].local, sub), tensors) for u in region.members for sub, tensors in self.items[u].weights
        ]
        rank = min(self.items[u].rank for u in region.members)
        uid = f"@{self._next}"
        self._next += 1
        scope = region.scope
        params = self.library.get(type_id).validate_params(params, where=f"block '{type_id}' at {_path(*scope)}: ")
        self.items[uid] = Item(type_id, params, scope[:-1], scope[-1], rank, weights)
        wires: list[Wire] = []
        done: set[tuple[str, str]] = set()
        for src, sp, dst, dp in self.wires:
            if src in inside and dst in inside:
                continue
            if dst in inside:
                if (src, sp) not in done:
                    done.add((src, sp))
                    wires.append((src, sp, uid, ins[region.inputs.index((src, sp))]))
            elif src in inside:
                wires.append((uid, outs[region.outputs.index((src, sp))], dst, dp))
            else:
                wires.append((src, sp, dst, dp))
        self.wires = wires
        for u in region.members:
            del self.items[u]
        return uid

    # ---------------------------------------------------------------- fold
    def run(self) -> None:
        scopes = {it.scope[:i] for it in self.items.values() for i in range(1, len(it.scope) + 1)}
        for scope in {(), *scopes}:
            self.uniquify(scope)
        for depth in sorted({len(s) for s in scopes}, reverse=True):
            regions = []
            for scope in sorted((s for s in scopes if len(s) == depth), key=self._first_rank):
                members = self.members(scope)
                if not members:
                    continue
                item = self.items[members[0]]
                if self.collapse_single and len(members) == 1 and item.type_id not in self.library.definitions:
                    item.scope, item.local = scope[:-1], scope[-1]
                    self.uniquify(scope[:-1])
                    continue
                region = self.region(scope)
                if not self.foldable(region):
                    self.dissolve(scope)
                elif not self.repeat(region):
                    regions.append(region)
            groups: dict[str, list[Region]] = {}
            for region in regions:
                groups.setdefault(self.kind_of(region.scope), []).append(region)
            for kind, group in groups.items():
                self.define(kind, group)
            for scope in {s[:-1] for s in scopes if len(s) == depth}:
                self.uniquify(scope)

    def _first_rank(self, scope: Scope) -> int:
        ranks = [it.rank for it in self.items.values() if it.scope[: len(scope)] == scope]
        return min(ranks, default=0)

    # ------------------------------------------------------------- repeats
    def repeat(self, region: Region) -> bool:
        """A container of copies ``0``…``n-1`` of one block, each feeding the next → one node with repeat n."""
        items = [self.items[u] for u in region.members]
        n = len(items)
        type_id = items[0].type_id
        definition = self.library.definitions.get(type_id)
        if definition is None or n < 2 or any(it.type_id != type_id for it in items):
            return False
        if [it.local for it in items] != [str(i) for i in range(n)]:
            return False
        if any(it.params["repeat"] != 1 or it.params["overrides"] or it.params["shared"] for it in items):
            return False
        ins, outs = definition.inputs(), definition.outputs()
        if len(ins) != len(outs) or len(region.inputs) != len(ins) or len(region.outputs) != len(outs):
            return False
        chain = {(f"@in{k}", "y", "0", port) for k, port in enumerate(ins)}
        chain |= {(str(i), o, str(i + 1), p) for i in range(n - 1) for o, p in zip(outs, ins)}
        chain |= {(str(n - 1), o, f"@out{k}", "x") for k, o in enumerate(outs)}
        if region.wires != chain:
            return False
        node_type = self.library.get(type_id)
        names = [e.name for e in definition.exposed]
        values = [{k: it.params.get(k, node_type.param(k).default) for k in names} for it in items]
        base = {k: common_value([v[k] for v in values]) for k in names}
        overrides = {}
        for i, v in enumerate(values):
            differ = {k: json_value(v[k]) for k in names if v[k] != base[k]}
            if differ:
                overrides[str(i)] = differ
        params: dict[str, Any] = {**base, "repeat": n}
        if overrides:
            params["overrides"] = overrides
        self.replace(region, type_id, params, ins, outs)
        return True

    # --------------------------------------------------------- definitions
    def define(self, kind: str, regions: list[Region]) -> None:
        """Definitions for ``regions`` (scopes of one kind): one per cluster of regions that fit one template."""
        clusters: list[list[Region]] = []
        for region in sorted(regions, key=lambda r: -len(r.members)):
            for cluster in clusters:
                if self.fits(cluster[0], region):
                    cluster.append(region)
                    break
            else:
                clusters.append([region])
        clusters = [part for cluster in clusters for part in self.one_shared_group(cluster)]
        clusters.sort(key=lambda c: min(self.items[r.members[0]].rank for r in c))
        for cluster in clusters:
            self.define_cluster(self.name_for(kind, cluster), cluster)

    def calls(self, region: Region) -> tuple[Scope, str]:
        """Which module ``region`` is a call of: its parent's scope and its name there without the call mark
        (``encoder@1`` → ``encoder``): the calls of one module in one parent share that module's weights."""
        return region.scope[:-1], region.scope[-1].split(CALL)[0]

    def one_shared_group(self, cluster: list[Region]) -> list[list[Region]]:
        """A cluster split so that each holds the calls of at most one module called several times: the block
        nodes of a definition with ``shared`` on all run one module (``graphedit.compiler.layers.shared_owners``)."""
        groups: dict[tuple[Scope, str], list[Region]] = {}
        for region in cluster:
            groups.setdefault(self.calls(region), []).append(region)
        several = [g for g in groups.values() if len(g) > 1]
        if len(several) <= 1:
            return [cluster]
        first = [r for r in cluster if not any(r in g for g in several[1:])]
        return [first, *several[1:]]

    def fits(self, template: Region, region: Region) -> bool:
        """``region`` is ``template`` with some inner nodes taken out (each bypassed from its one input)."""
        if len(template.inputs) != len(region.inputs) or len(template.outputs) != len(region.outputs):
            return False
        theirs = {self.items[u].local: self.items[u] for u in template.members}
        ours = {self.items[u].local: self.items[u] for u in region.members}
        if not set(ours) <= set(theirs):
            return False
        for name, item in ours.items():
            other = theirs[name]
            if item.type_id != other.type_id:
                return False
            structural = [p.name for p in self.library.get(item.type_id).params if p.kind == "overrides"]
            if any(item.params[p] != other.params[p] for p in structural):
                return False
        wires = set(template.wires)
        for name in [n for n in theirs if n not in ours]:
            into = [w for w in wires if w[2] == name]
            if len(into) != 1:
                return False
            src, sp = into[0][0], into[0][1]
            wires = {(src, sp, d, dp) if s == name else (s, p, d, dp) for s, p, d, dp in wires if d != name}
        return wires == region.wires

    def name_for(self, kind: str, cluster: list[Region]) -> str:
        base = kind
        if kind in CONTAINERS or not NAME_PATTERN.match(kind):
            stems = {_stem(r.scope[-1].split(CALL)[0]) for r in cluster}
            stem = stems.pop() if len(stems) == 1 else ""
            base = _camel(stem) or (kind if NAME_PATTERN.match(kind) else "Block")
        if not NAME_PATTERN.match(base):
            base = f"Block{base}" if NAME_PATTERN.match(f"Block{base}") else "Block"
        if base in self.library.base:
            base = f"{base}Block"
        name, i = base, 1
        while name in self.library.definitions or name in self.library.base:
            i += 1
            name = f"{base}{i}"
        return name

    def define_cluster(self, name: str, cluster: list[Region]) -> None:
        template = cluster[0]
        locals_ = [self.items[u].local for u in template.members]
        taken = set(locals_)
        ins = port_names("x", len(template.inputs), taken)
        outs = port_names("y", len(template.outputs), taken)
        doc = self.library.new_document()
        for port in ins:
            doc.add_node("BlockInput", {}, node_id=port)
        for uid in template.members:
            item = self.items[uid]
            doc.add_node(item.type_id, item.params, node_id=item.local)
        for port in outs:
            doc.add_node("BlockOutput", {}, node_id=port)
        for src, sp, dst, dp in sorted(template.wires):
            src = ins[int(src[3:])] if src.startswith("@in") else src
            dst = outs[int(dst[4:])] if dst.startswith("@out") else dst
            doc.connect(src, sp, dst, dp)
        for node_id, position in layered_layout(doc).items():
            doc.move(node_id, position)
        views = [{self.items[u].local: self.items[u].params for u in r.members} for r in cluster]
        exposed, values = exposed_params(self.library, doc, locals_, views)
        self.library.define(name, doc, exposed)
        count: dict[tuple[Scope, str], int] = {}
        for region in cluster:
            count[self.calls(region)] = count.get(self.calls(region), 0) + 1
        owners: set[tuple[Scope, str]] = set()
        for region, params in sorted(zip(cluster, values), key=lambda rv: self._first_rank(rv[0].scope)):
            module = self.calls(region)
            shared = count[module] > 1  # a module called twice: one set of weights, the first call's
            uid = self.replace(region, name, {**params, "shared": True} if shared else params, ins, outs)
            if shared and module in owners:
                self.items[uid].weights = []
            owners.add(module)


def fold(builder: Any, kind_of: Callable[[Scope], str], collapse_single: bool = False) -> Any:
    """A new :class:`GraphBuilder` whose graph is ``builder``'s folded into blocks; see the module doc.

    ``kind_of(scope)`` names what a scope is (its module class); scopes of one kind are matched for one
    definition. ``collapse_single`` puts a scope holding one node in its parent under the scope's name
    (ONNX names a leaf module's op ``/layer1/layer1.0/conv1/Conv``).
    """
    from graphedit.importers.common import GraphBuilder

    flat = builder.doc
    library = BlockLibrary(getattr(flat.registry, "base", flat.registry))
    folder = Folder(library, kind_of, collapse_single)
    for rank, node_id in enumerate(flat.node_ids()):
        scope, local = builder.places.get(node_id, ((), node_id))
        folder.items[node_id] = Item(flat.node_type(node_id).type_id, flat.params(node_id), scope, local, rank)
    for node_id, sub, tensors in builder.weights:
        folder.items[node_id].weights.append((sub, tensors))
    folder.wires = [(e.src, e.src_port, e.dst, e.dst_port) for e in flat.edges()]
    folder.run()
    out = GraphBuilder()
    out.doc = GraphDocument(library)  # the graph of a project: its library follows its definitions
    library.attach(out.doc)
    top = sorted(folder.items.items(), key=lambda kv: kv[1].rank)
    for uid, item in top:
        out.doc.add_node(item.type_id, item.params, node_id=item.local)
        if uid in flat and uid != item.local:
            out.origin[item.local] = uid
        out.weights += [(item.local, sub, tensors) for sub, tensors in item.weights]
    for src, sp, dst, dp in folder.wires:
        out.doc.connect(folder.items[src].local, sp, folder.items[dst].local, dp)
    return out
