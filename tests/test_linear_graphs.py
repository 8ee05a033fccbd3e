"""Cost bounds of shape inference: counted work, never time.

Full inference visits each node once; an incremental update reads each downstream node's wires once however many
nodes are dirty; a repeated block is computed once; a recurrent layer's shape costs the same for 8 steps as for
16,384.
"""

from collections import Counter

import torch
from graphkit import build, chain
from torch.utils._python_dispatch import TorchDispatchMode

from graphedit.compiler import ShapeInference
from graphedit.model import GraphDocument


def long_chain(nodes: int) -> GraphDocument:
    """Input → Dense → ReLU → Dense → ... with a few different widths, ``nodes`` nodes in all."""
    doc = GraphDocument()
    prev = doc.add_node("Input", {"shape": [8]}, node_id="input1")
    for i in range(nodes - 1):
        node = doc.add_node("Dense", {"units": 4 + i % 5}) if i % 2 == 0 else doc.add_node("ReLU")
        doc.connect(prev, "y", node, "x")
        prev = node
    return doc


class Counting:
    """Counts calls per node of the inference's own step and of the document's and graph's adjacency reads."""

    def __init__(self, monkeypatch, si: ShapeInference) -> None:
        self.infer, self.in_edges, self.successors = Counter(), Counter(), Counter()
        for target, name, counter in (
            (si, "_infer", self.infer),
            (si.doc, "in_edges", self.in_edges),
            (si.doc.graph, "successors", self.successors),
        ):
            original = getattr(target, name)
            monkeypatch.setattr(target, name, self._counted(original, counter))

    @staticmethod
    def _counted(original, counter):
        def call(node_id, *args, **kwargs):
            counter[node_id] += 1
            return original(node_id, *args, **kwargs)

        return call


def test_full_inference_of_a_3000_node_chain_visits_each_node_once(monkeypatch):
    doc = long_chain(3000)
    si = ShapeInference(doc)
    counts = Counting(monkeypatch, si)
    si.run()
    assert len(si.infos) == 3000 and not si.errors()
    assert set(counts.infer) == set(doc.node_ids())
    assert max(counts.infer.values()) == 1
    assert max(counts.in_edges.values()) <= 3  # a one-input node: its wires, then its one port
    assert sum(counts.successors.values()) == 0  # a full run needs no search downstream
    last = si.order()[-1]
    assert si.infos[last].outputs["y"] == (2, doc.params(last)["units"])


def test_every_node_dirty_still_reruns_each_once(monkeypatch):
    doc = long_chain(3000)
    si = ShapeInference(doc)
    si.run()
    counts = Counting(monkeypatch, si)
    for node_id in doc.node_ids():  # 1,500 edits before one update: 1,500 dirty nodes with long tails
        if doc.node_type(node_id).type_id == "Dense":
            doc.set_param(node_id, "units", doc.params(node_id)["units"] + 1)
    si.update()
    dense_ids = [n for n in doc.node_ids() if doc.node_type(n).type_id == "Dense"]
    assert set(counts.infer) == set(doc.node_ids()) - {"input1"}
    assert max(counts.infer.values()) == 1
    assert max(counts.successors.values()) == 1
    assert si.infos[dense_ids[0]].outputs["y"] == (2, 5)


def test_an_edit_near_the_end_reruns_only_what_follows(monkeypatch):
    doc = long_chain(3000)
    si = ShapeInference(doc)
    si.run()
    counts = Counting(monkeypatch, si)
    target = si.order()[-5]
    doc.set_param(target, "units", 11)
    si.update()
    assert list(counts.infer) == si.order()[-5:]
    assert set(counts.successors) == set(si.order()[-5:])
    assert si.infos[target].outputs["y"] == (2, 11)


def test_a_repeated_block_is_computed_once_and_errors_name_each_node():
    ids = [f"d{i}" for i in range(6)]
    doc = build([("img", "Input", {"shape": [4]})] + [(i, "Dense", {"units": 4}) for i in ids], chain("img", *ids))
    si = ShapeInference(doc)
    si.run()
    assert si.kernel_runs == 1  # six Dense(4) on [N, 4]: one layer built and run
    assert [si.infos[i].params for i in ids] == [4 * 4 + 4] * 6
    doc.set_param("d2", "units", 3)
    si.update()
    assert si.kernel_runs == 3  # d2 (4 → 3), d3 (3 → 4); d4 and d5 are Dense(4) on [N, 4] again
    assert si.infos["d3"].params == 3 * 4 + 4

    bad = build(
        [("img", "Input", {"shape": [1, 8, 8]}), ("a", "Dense", {"units": 3}), ("b", "Dense", {"units": 3})],
        ["img -> a", "img -> b"],
    )
    errors = ShapeInference(bad).errors()
    assert [e.node_id for e in errors] == ["a", "b"]
    assert all("Flatten" in e.fix for e in errors)


class OpCount(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.ops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops += 1
        return func(*args, **(kwargs or {}))


def recurrent_ops(kind: str, steps: int, ret: str) -> tuple[int, tuple[int, ...]]:
    doc = build(
        [("seq", "Input", {"shape": [steps, 3]}), ("rnn1", kind, {"units": 5, "layers": 2, "return": ret})],
        ["seq -> rnn1"],
    )
    with OpCount() as count:
        info = ShapeInference(doc).info("rnn1")
    assert info.ok, info.error
    return count.ops, info.outputs["y"]


def test_recurrent_shapes_cost_the_same_for_8_and_16384_steps():
    for kind in ("RNN", "LSTM", "GRU"):
        short, short_shape = recurrent_ops(kind, 8, "sequence")
        long, long_shape = recurrent_ops(kind, 16_384, "sequence")
        assert short_shape == (2, 8, 5) and long_shape == (2, 16_384, 5)
        assert long == short  # no kernel call per time step
        assert recurrent_ops(kind, 16_384, "last")[1] == (2, 5)


def test_recurrent_meta_shape_matches_a_real_run():
    from graphedit.nodes.sequence import Recurrent

    torch.manual_seed(0)
    for kind in ("RNN", "LSTM", "GRU"):
        for last in (True, False):
            layer = Recurrent(kind, 3, 5, 2, last)
            real = layer(torch.randn(2, 7, 3))
            with torch.device("meta"):
                meta = Recurrent(kind, 3, 5, 2, last)(torch.empty(2, 7, 3, device="meta"))
            assert meta.shape == real.shape and meta.dtype == real.dtype


def test_cycle_refusals_agree_with_a_full_search_under_random_edits():
    """The document's kept topological order answers most cycle checks; it must agree with networkx always."""
    import random

    import networkx as nx

    rng = random.Random(7)
    for _ in range(10):
        doc = GraphDocument()
        ids = [doc.add_node("Add", {"inputs": 8}) for _ in range(30)]
        for _ in range(120):
            src, dst = rng.sample(ids, 2)
            port = f"in{rng.randint(1, 8)}"
            reason = doc.check_connect(src, "y", dst, port)
            assert (reason is not None and "cycle" in reason) == nx.has_path(doc.graph, dst, src)
            if reason is None:
                doc.connect(src, "y", dst, port)
            if rng.random() < 0.05:  # removals and renames keep the order valid too
                gone = rng.choice(ids)
                doc.remove_node(gone)
                ids[ids.index(gone)] = doc.add_node("Add", {"inputs": 8})
            if rng.random() < 0.05:
                old, new = rng.choice(ids), f"renamed{rng.randrange(10**9)}"
                doc.rename(old, new)
                ids[ids.index(old)] = new
        assert nx.is_directed_acyclic_graph(doc.graph)
