"""Whole-graph builds (load, full inference, compile, the canvas) grow linearly: counted work, never time.

The cyclic collector is paused during each bulk build (graphedit/model/bulk.py): a full collection walks every object
of the process, so one that falls inside a 10,000-node load costs as much as the load. Each build also calls its
per-node steps a bounded number of times per node.
"""

import gc
from collections import Counter

import pytest
import torch
from test_linear_graphs import long_chain

from graphedit.compiler import ShapeInference, compile_graph
from graphedit.model import GraphDocument
from graphedit.model.bulk import collection_paused
from graphedit.model.project import Project, load_project, save_project


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_load_inference_compile_and_canvas_build_each_node_with_the_collector_paused(qapp, tmp_path, collector_on):
    """Every per-node step of a bulk build runs paused, so no collection can fall inside it."""
    from graphedit.compiler import compile as compile_module
    from graphedit.model import graph_file
    from graphedit.ui.canvas.scene import CanvasScene
    from graphedit.ui.controller import EditorController

    doc = long_chain(300)
    path = save_project(Project(document=doc), tmp_path / "chain.gproj")
    running: Counter = Counter()

    def watch(owner, name):
        original = getattr(owner, name)

        def call(*args, **kwargs):
            running[name, gc.isenabled()] += 1
            return original(*args, **kwargs)

        return call

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(graph_file.GraphDocument, "add_node", watch(graph_file.GraphDocument, "add_node"))
        mp.setattr(graph_file.GraphDocument, "connect", watch(graph_file.GraphDocument, "connect"))
        mp.setattr(ShapeInference, "_infer", watch(ShapeInference, "_infer"))
        mp.setattr(compile_module._Builder, "_emit", watch(compile_module._Builder, "_emit"))
        mp.setattr(CanvasScene, "_add_node", watch(CanvasScene, "_add_node"))
        mp.setattr(CanvasScene, "_add_edge", watch(CanvasScene, "_add_edge"))
        loaded = load_project(path).document
        compiled = compile_graph(loaded, seed=0)
        scene = CanvasScene(EditorController(loaded))
    assert gc.isenabled()
    assert {key for key in running if key[1]} == set()  # nothing ran with the collector on
    assert running["add_node", False] == running["_add_node", False] == 300
    assert running["connect", False] == running["_add_edge", False] == 299
    assert running["_infer", False] == 2 * 300  # compile's inference, then the editor's
    assert len(scene.nodes) == 300 and len(compiled.order) == 300
    out = compiled.model(torch.zeros(2, 8))
    assert out.shape == (2, doc.params(compiled.order[-1])["units"])


def test_a_paused_collector_is_left_as_found_and_garbage_is_still_collected(collector_on):
    with collection_paused():
        with collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause does not resume it early
    assert gc.isenabled()
    gc.disable()
    with collection_paused():
        pass
    assert not gc.isenabled()  # paused by someone else: still paused
    gc.enable()
    with collection_paused():
        compiled = compile_graph(long_chain(50))
    compiled.model.graph.owning_module = compiled.model  # a cycle, as fx graphs have
    del compiled
    assert gc.collect() > 0  # nothing was frozen: the dropped graph is collected


def test_compile_of_a_3000_node_chain_reads_each_nodes_wires_a_bounded_number_of_times(monkeypatch):
    doc = long_chain(3000)
    si = ShapeInference(doc, observe=False)
    si.run()
    reads = Counter()
    original = GraphDocument.in_edges

    def counted(self, node_id):
        reads[node_id] += 1
        return original(self, node_id)

    monkeypatch.setattr(GraphDocument, "in_edges", counted)
    compiled = compile_graph(doc, shapes=si)
    assert set(reads) <= set(doc.node_ids())
    assert max(reads.values()) <= 3  # once per fx module (model, objective, taps) that holds the node
    nodes = sum(len(gm.graph.nodes) for gm in (compiled.model, compiled.taps))
    assert nodes <= 2 * (3000 + 1)  # one fx node per graph node and module, plus the output
