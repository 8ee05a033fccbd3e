"""The layered layout and the drawn wires (no Qt): the examples, long chains, determinism, free spots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graphedit.model.document import GraphDocument
from graphedit.model.geometry import (
    drawing_faults,
    edge_ends,
    node_rects,
    polyline_hits,
    wire_points,
    wire_route,
)
from graphedit.model.layout import free_position, layered_layout
from graphedit.model.project import load_project

ROOT = Path(__file__).resolve().parents[1]
BEFORE = json.loads((ROOT / "bench" / "layout_before.json").read_text(encoding="utf-8"))


EXAMPLES = sorted(p.stem for p in (ROOT / "projects").glob("*.gproj"))


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_layout_has_no_wire_through_a_card_and_no_more_crossings_than_before(name):
    document = load_project(ROOT / "projects" / f"{name}.gproj").document
    saved = {n: document.position(n) for n in document.node_ids()}
    assert layered_layout(document) == saved  # the examples are laid out by the layout (tools/make_examples.py)
    crossings, through = drawing_faults(document)
    assert through == 0
    before = BEFORE.get(name, {})
    if set(before) == set(saved):  # the graph laid out before (an example rebuilt since, with blocks, is another)
        old_crossings, _ = drawing_faults(document, {n: tuple(p) for n, p in before.items()}, routed=False)
        assert crossings <= old_crossings


def chain(length: int) -> GraphDocument:
    doc = GraphDocument()
    last = doc.add_node("Input", {"shape": [4]}, node_id="x")
    for i in range(length):
        node = doc.add_node("Dense" if i % 2 == 0 else "ReLU", {}, node_id=f"n{i}")
        doc.connect(last, "y", node, "x")
        last = node
    return doc


def test_a_long_chain_wraps_into_rows_whose_wires_run_between_them():
    doc = chain(40)
    positions = layered_layout(doc)
    ys = sorted({y for _, y in positions.values()})
    rows = [y for before, y in zip([-1e9, *ys], ys) if y - before > 150]  # each row's top
    xs = [x for x, _ in positions.values()]
    assert len(rows) >= 3
    assert (max(xs) - min(xs)) < 4 * (max(ys) - min(ys))  # a screen's proportions, not one long line
    for n, (x, y) in positions.items():
        doc.move(n, (x, y))
    rects = list(node_rects(doc).values())
    wraps = 0
    for edge in doc.edges():
        a, b = edge_ends(doc, edge)
        if b[0] < a[0]:  # into the next row: a route along the gap, never a diagonal over the cards
            wraps += 1
            corners = wire_route(a, b, rects)
            assert corners and all(p[0] == q[0] or p[1] == q[1] for p, q in zip(corners, corners[1:]))
            track = max(zip(corners, corners[1:]), key=lambda s: abs(s[1][0] - s[0][0]))[0][1]
            assert a[1] < track < b[1]
        assert not polyline_hits(wire_points(a, b, rects), [(r[0] + 2, r[1] + 2, r[2] - 2, r[3] - 2) for r in rects])
    assert wraps == len(rows) - 1
    assert drawing_faults(doc) == (0, 0)


def test_layout_is_deterministic_and_keeps_parts_apart():
    doc = chain(12)
    doc.add_node("Input", {"shape": [2]}, node_id="lonely")
    first = layered_layout(doc)
    again = layered_layout(GraphDocument.from_json(doc.to_json()))
    assert first == again
    rects = node_rects(doc, first)
    lonely = rects.pop("lonely")
    above, below = all(lonely[3] <= r[1] for r in rects.values()), all(lonely[1] >= r[3] for r in rects.values())
    assert above or below  # parts are stacked, not mixed


def test_wire_route_is_empty_when_the_plain_curve_is_clear():
    assert wire_route((0, 0), (300, 100), [(-188, -20, 0, 80), (300, 80, 488, 180)]) == []
    blocked = [(100, -100, 250, 200)]
    corners = wire_route((0, 0), (400, 0), blocked)
    assert corners and not polyline_hits(corners, blocked)


def test_free_position_keeps_a_free_spot_and_moves_off_a_covered_one():
    cards = [(0, 0, 188, 100), (220, 0, 408, 100)]
    assert free_position(cards, (0, 300), (188, 100)) == (0, 300)
    x, y = free_position(cards, (10, 10), (188, 100))
    assert not any(x < r[2] and r[0] < x + 188 and y < r[3] and r[1] < y + 100 for r in cards)
    assert abs(y - 10) + abs(x - 10) < 300
