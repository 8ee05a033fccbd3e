"""The graph document: ids, ports, one edge per input, acyclic, events, JSON round trips."""

import pytest
from graphkit import build, chain

from graphedit.errors import GraphError, ParamError
from graphedit.model import EdgeAdded, EdgeRemoved, GraphDocument, NodeAdded, NodeRemoved, NodeRenamed, ParamChanged


def small():
    return build(
        [("input1", "Input", {"shape": [4]}), ("dense1", "Dense", {"units": 3}), ("relu1", "ReLU", {})],
        chain("input1", "dense1", "relu1"),
    )


def test_ids_are_stable_and_readable():
    doc = GraphDocument()
    assert doc.add_node("Dense") == "dense1"
    assert doc.add_node("Dense") == "dense2"
    doc.remove_node("dense1")
    assert doc.add_node("Dense") == "dense1"
    assert doc.add_node("Conv2d") == "conv1"


def test_operations_emit_events_after_applying():
    doc = GraphDocument()
    seen = []
    doc.subscribe(lambda e: seen.append((e, doc.node_ids())))
    doc.add_node("Input", {"shape": [4]})
    doc.add_node("Dense")
    doc.connect("input1", "y", "dense1", "x")
    doc.set_param("dense1", "units", 7)
    doc.rename("dense1", "hidden")
    doc.remove_node("hidden")
    kinds = [type(e) for e, _ in seen]
    assert kinds == [NodeAdded, NodeAdded, EdgeAdded, ParamChanged, NodeRenamed, EdgeRemoved, NodeRemoved]
    assert "input1" in seen[0][1]  # the graph already holds the node when the event arrives
    assert seen[3][0].old == 32 and seen[3][0].new == 7


def test_cycle_refused_with_reason():
    doc = small()
    with pytest.raises(GraphError, match="cycle"):
        doc.connect("relu1", "y", "dense1", "x")
    with pytest.raises(GraphError, match="cycle"):
        doc.connect("relu1", "y", "relu1", "x")
    assert len(doc.edges()) == 2


def test_one_edge_per_input_port_replaces():
    doc = small()
    doc.add_node("Input", {"shape": [4]}, node_id="other")
    doc.connect("other", "y", "dense1", "x")
    assert doc.edge_into("dense1", "x").src == "other"
    assert len(doc.in_edges("dense1")) == 1


def test_bad_ports_and_ids():
    doc = small()
    with pytest.raises(GraphError, match="no input port 'q'"):
        doc.connect("input1", "y", "relu1", "q")
    with pytest.raises(GraphError, match="no output port"):
        doc.connect("input1", "nope", "relu1", "x")
    with pytest.raises(GraphError, match="already exists"):
        doc.add_node("ReLU", node_id="relu1")
    with pytest.raises(GraphError, match="not a valid node name"):
        doc.rename("relu1", "1bad name")


def test_parameter_validation():
    doc = small()
    with pytest.raises(ParamError, match="units"):
        doc.set_param("dense1", "units", 0)
    with pytest.raises(ParamError, match="whole number"):
        doc.set_param("dense1", "units", "many")
    with pytest.raises(ParamError, match="no parameter"):
        doc.add_node("Dense", {"neurons": 3})
    assert doc.params("dense1")["units"] == 3


def test_variadic_ports_follow_count_and_guard_connected_ports():
    doc = build(
        [("a", "Input", {"shape": [4]}), ("add1", "Add", {"inputs": 3})],
        ["a -> add1.in1", "a -> add1.in3"],
    )
    assert [p.name for p in doc.node_type("add1").input_ports(doc.params("add1"))] == ["in1", "in2", "in3"]
    with pytest.raises(GraphError, match="in3 is still connected"):
        doc.set_param("add1", "inputs", 2)


def test_rename_keeps_wires():
    doc = small()
    doc.rename("dense1", "hidden")
    assert {(e.src, e.dst) for e in doc.edges()} == {("input1", "hidden"), ("hidden", "relu1")}


def test_subgraph_json_round_trip_and_paste_gets_fresh_ids():
    doc = small()
    data = doc.to_json(["dense1", "relu1"])
    assert len(data["edges"]) == 1  # the edge from input1 is outside the selection
    mapping = doc.insert_json(data, offset=(10, 10))
    assert mapping == {"dense1": "dense2", "relu1": "relu2"}
    assert doc.edge_into("relu2", "x").src == "dense2"
    again = GraphDocument.from_json(doc.to_json())
    assert again.to_json() == doc.to_json()


def test_insert_json_is_all_or_nothing():
    doc = small()
    before = doc.to_json()
    bad = {"nodes": [{"id": "n1", "type": "ReLU"}, {"id": "n2", "type": "NoSuchType"}], "edges": []}
    with pytest.raises(Exception, match="unknown node type"):
        doc.insert_json(bad)
    assert doc.to_json() == before
