"""Whole-graph builds (load, full inference, compile, the canvas) grow linearly: counted work, never time.

The cyclic collector is paused during each bulk build (graphedit/model/bulk.py): a full collection walks every object
of the process, so one that falls inside a 10,000-node load costs as much as the load. Each build also calls its
per-node steps a bounded number of times per node.
"""

import gc
from collections import Counter

import pytest
import torch
from PySide6.QtCore import QRectF
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


def far_chain(nodes: int, top: float) -> GraphDocument:
    """A chain in rows of 25 cards starting at ``top``."""
    doc = GraphDocument()
    prev = doc.add_node("Input", {"shape": [8]}, (0.0, top), node_id="input1")
    for i in range(1, nodes):
        node = doc.add_node("ReLU", None, (240.0 * (i % 25), top + 260.0 * (i // 25)))
        doc.connect(prev, "y", node, "x")
        prev = node
    return doc


def test_cards_far_from_the_origin_grow_the_scene_and_a_lookup_there_looks_at_its_neighbours(qapp, monkeypatch):
    """Cards past the scene's first extent could not be scrolled to and all fell into the index's border cells:
    finding the cards near one wire there walked every card beyond the extent (a 10,000-node chain's end)."""
    from graphedit.ui.canvas.node_item import NodeItem
    from graphedit.ui.canvas.port_item import PortItem
    from graphedit.ui.canvas.scene import SCENE_EXTENT, CanvasScene
    from graphedit.ui.controller import EditorController

    looked_at: Counter = Counter()
    for kind in (NodeItem, PortItem):
        monkeypatch.setattr(kind, "boundingRect", counting(kind.boundingRect, looked_at))
    doc = far_chain(400, top=SCENE_EXTENT + 10_000)
    controller = EditorController(doc)
    scene = CanvasScene(controller)
    last = controller.shapes.order()[-1]
    bottom = doc.position(last)[1]
    assert scene.sceneRect().contains(scene.itemsBoundingRect())
    scene.items(QRectF(0, 0, 1, 1))  # the index is built
    looked_at.clear()
    x = doc.position(last)[0]
    near = scene._cards((x - 50.0, bottom - 50.0, x + 250.0, bottom + 150.0), None)  # what a wire's route asks
    assert last in near
    assert 0 < looked_at["calls"] < 200  # the cards near there: 674 (all far out) when they lay outside the scene

    far = controller.add_node("ReLU", (0.0, 4 * SCENE_EXTENT))
    assert scene.sceneRect().contains(scene.nodes[far].sceneBoundingRect())


def counting(original, counter: Counter):
    def call(self, *args):
        counter["calls"] += 1
        return original(self, *args)

    return call


def test_an_edit_runs_inference_and_analysis_once(qapp, monkeypatch):
    from graphedit.compiler import analysis
    from graphedit.ui import controller as controller_module
    from graphedit.ui.controller import EditorController

    controller = EditorController(long_chain(50))
    runs = Counter()
    monkeypatch.setattr(controller_module, "analyze", counting_function(analysis.analyze, runs))
    dense = next(n for n in controller.shapes.order() if controller.document.node_type(n).type_id == "Dense")
    controller.set_param(dense, "units", 7, merge=False)
    assert runs["calls"] == 1
    controller.set_param(dense, "units", 9, merge=True)  # merged into the last step: no new undo index
    assert runs["calls"] == 2
    assert controller.info(dense).outputs["y"] == (2, 9)


def counting_function(original, counter: Counter):
    def call(*args, **kwargs):
        counter["calls"] += 1
        return original(*args, **kwargs)

    return call


def test_an_edit_back_and_forth_does_not_rebuild_a_problem_per_dead_node(monkeypatch):
    """A chain with no loss: every node is a dead branch. Parameter edits reuse the kept problems (and their order)
    instead of building and sorting 3,000 again, and the analysis says what a fresh one says."""
    from graphedit.compiler import analysis

    doc = long_chain(3000)
    si = ShapeInference(doc)
    si.run()
    structure = analysis.structure_of(doc, si.order())
    built = Counter()
    monkeypatch.setattr(analysis, "_wiring_problems", counting_function(analysis._wiring_problems, built))
    dense = [n for n in si.order() if doc.node_type(n).type_id == "Dense"][-1]
    seen = []
    for units in (4, 5, 4, 5, 4):
        doc.set_param(dense, "units", units)
        seen.append(analysis.analyze(doc, si, structure=structure))
    assert built["calls"] == 1  # one set of failed nodes (none) however many edits
    assert seen[0] == seen[-1] and len(seen[0]) == 3000 - 1 + 1  # dead nodes but the Input, and "no loss"
    fresh = analysis.analyze(doc, ShapeInference(doc, observe=False))
    assert seen[-1] == fresh


def test_a_shape_memo_key_holds_its_node_type_so_its_id_is_never_reused():
    """A block's node type is made anew when its definition changes; keyed by id() alone, an undone edit's new type
    could take a freed type's id and read its stale shapes (seen once in the full suite: undo left a block's shape)."""
    import dataclasses

    from graphedit.compiler.shapes import _memo_key
    from graphedit.nodes.dense import NODE_TYPES

    dense = next(t for t in NODE_TYPES if t.type_id == "Dense")
    copy = dataclasses.replace(dense)
    key, twin = _memo_key(dense, {"units": 4}, []), _memo_key(copy, {"units": 4}, [])
    assert key != twin  # equal types, different objects: different entries
    made = id(copy)
    del copy
    gc.collect()
    assert id(twin[1].obj) == made  # the key keeps the type alive: no other object can take its id


def test_compile_reads_a_blocks_inner_shapes_from_its_inference_and_runs_no_layer_again(monkeypatch):
    """Each copy of a block is built from the shapes its compile's inference found: a densenet's dense layers
    (a BatchNorm or ReLU on meta tensors takes milliseconds) used to run on meta tensors again for every build."""
    from block_nets import resnet_data

    from graphedit.compiler import layers
    from graphedit.model.project import project_from_json

    document = project_from_json(resnet_data(18, classes=10, size=32), "resnet18.gproj").document
    si = ShapeInference(document, observe=False)
    si.run()
    runs = Counter()
    original = layers.apply_layer

    def counted(layer, values):
        runs[type(layer).__name__] += 1
        return original(layer, values)

    monkeypatch.setattr(layers, "apply_layer", counted)
    compiled = compile_graph(document, shapes=si)
    assert not runs
    x = torch.randn(2, 3, 32, 32)
    assert compiled.model(x).shape == (2, 10)
