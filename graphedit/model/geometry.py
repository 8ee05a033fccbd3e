"""The shapes on the canvas, with no Qt: a node's card size and port points, and the path of a wire.

The canvas draws from these, and so do the layout, the picture export and ``bench/layout_quality.py``, so
what they measure is what the user sees. A wire is a horizontal cubic from an output port to an input port
when that curve crosses no card; otherwise :func:`wire_route` gives an orthogonal route through the free
channels between cards (out to the right, along a free track, down or up, and into the port from the left),
so a wrapped chain's wire runs in the gap between rows instead of diagonally across the cards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphedit.model.document import GraphDocument
from graphedit.model.events import Edge
from graphedit.nodes.spec import NodeType

NODE_WIDTH = 188.0
HEADER_H = 26.0
ROW_H = 18.0
STUB = 28.0  # how far a routed wire runs straight out of a port before it turns
TRACK_GAP = 20.0  # how far a routed wire keeps from the cards it passes
CLEAR = 45.0  # a track this far from every card runs in open space (between wrapped rows), not among wires
CLOSE_COST = 300.0  # vertical travel that is worth not passing a card closely
REACH = 400.0  # a route strays at most this far above or below its ends

Point = tuple[float, float]
Rect = tuple[float, float, float, float]  # left, top, right, bottom


def card_layout(node_type: NodeType, params: dict[str, Any]) -> tuple[float, float]:
    """(height, top of the port rows) of a node's card: a header, a line of key parameters if any, a row per
    port and a footer."""
    has_key = any(params.get(name) != "" for name in node_type.key_params)
    if node_type.block is not None:  # a block node's line shows its exposed values and per-copy overrides
        has_key = len(node_type.params) > 3 or bool(params.get("overrides"))
    top = HEADER_H + (ROW_H if has_key else 4.0)
    rows = max(len(node_type.input_ports(params)), len(node_type.output_ports(params)), 1)
    return top + rows * ROW_H + ROW_H + 6.0, top


def node_size(document: GraphDocument, node_id: str) -> tuple[float, float]:
    return NODE_WIDTH, card_layout(document.node_type(node_id), document.params(node_id))[0]


def node_rects(document: GraphDocument, positions: dict[str, Point] | None = None) -> dict[str, Rect]:
    """Each card's rectangle at ``positions`` (default: every node where the document has it)."""
    out = {}
    for node_id in document.node_ids() if positions is None else positions:
        x, y = document.position(node_id) if positions is None else positions[node_id]
        out[node_id] = (x, y, x + NODE_WIDTH, y + node_size(document, node_id)[1])
    return out


def port_point(document: GraphDocument, node_id: str, port: str, is_output: bool, at: Point | None = None) -> Point:
    """Where a wire meets the port: the card's left edge for an input, its right edge for an output."""
    node_type, params = document.node_type(node_id), document.params(node_id)
    ports = node_type.output_ports(params) if is_output else node_type.input_ports(params)
    index = next((i for i, p in enumerate(ports) if p.name == port), 0)
    x, y = at or document.position(node_id)
    top = card_layout(node_type, params)[1]
    return (x + (NODE_WIDTH if is_output else 0.0), y + top + (index + 0.5) * ROW_H)


def curve_controls(a: Point, b: Point, scale: float = 1.0) -> tuple[Point, Point]:
    """The control points of the plain wire: it leaves ``a`` rightwards and enters ``b`` from the left."""
    dx = max(abs(b[0] - a[0]) * 0.5, 40.0 * scale)
    return (a[0] + dx, a[1]), (b[0] - dx, b[1])


def curve_points(a: Point, b: Point, steps: int = 24, scale: float = 1.0) -> list[Point]:
    (c1x, c1y), (c2x, c2y) = curve_controls(a, b, scale)
    out = []
    for i in range(steps + 1):
        t = i / steps
        u = 1 - t
        out.append(
            (
                u**3 * a[0] + 3 * u * u * t * c1x + 3 * u * t * t * c2x + t**3 * b[0],
                u**3 * a[1] + 3 * u * u * t * c1y + 3 * u * t * t * c2y + t**3 * b[1],
            )
        )
    return out


def segment_hits_rect(p: Point, q: Point, rect: Rect, margin: float = 0.0) -> bool:
    """Whether segment ``p``–``q`` passes through the inside of ``rect`` grown by ``margin`` (Liang–Barsky)."""
    left, top, right, bottom = rect[0] - margin, rect[1] - margin, rect[2] + margin, rect[3] + margin
    t0, t1 = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for d, lo, hi, start in ((dx, left, right, p[0]), (dy, top, bottom, p[1])):
        if abs(d) < 1e-9:
            if not lo < start < hi:
                return False
            continue
        a, b = (lo - start) / d, (hi - start) / d
        if a > b:
            a, b = b, a
        t0, t1 = max(t0, a), min(t1, b)
        if t1 - t0 <= 1e-9:
            return False
    return True


def polyline_hits(points: list[Point], rects: list[Rect], margin: float = 0.0) -> bool:
    if not points:
        return False
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    box = (min(xs) - margin, min(ys) - margin, max(xs) + margin, max(ys) + margin)
    near = [r for r in rects if r[0] < box[2] and box[0] < r[2] and r[1] < box[3] and box[1] < r[3]]
    return any(segment_hits_rect(p, q, r, margin) for p, q in zip(points, points[1:]) for r in near)


def reach(a: Point, b: Point) -> Rect:
    """Where the cards a wire from ``a`` to ``b`` may have to go around lie (a route goes no further)."""
    return (min(a[0], b[0]) - 2 * STUB, min(a[1], b[1]) - REACH, max(a[0], b[0]) + 2 * STUB, max(a[1], b[1]) + REACH)


def wire_route(a: Point, b: Point, obstacles: list[Rect], scale: float = 1.0) -> list[Point]:
    """The corners of an orthogonal wire from output ``a`` to input ``b`` around ``obstacles`` (card rectangles,
    its own two included), or ``[]`` when the plain curve crosses none of them or no free track exists.

    The route leaves ``a`` rightwards to ``x1``, runs along a free horizontal track to ``x2`` left of ``b`` and
    enters ``b`` from the left; of the free tracks it takes the one with the least vertical travel, keeping
    clear of cards (their wires). ``scale`` shrinks every distance, for cards drawn smaller (a thumbnail).
    """
    stub, gap, clear, shrink = STUB * scale, TRACK_GAP * scale, CLEAR * scale, 2 * scale
    inner = [(r[0] + shrink, r[1] + shrink, r[2] - shrink, r[3] - shrink) for r in obstacles]
    if b[0] - a[0] >= 2 * stub and not polyline_hits(curve_points(a, b, scale=scale), inner):
        return []
    x1, x2 = a[0] + stub, b[0] - stub
    lo, hi = min(x1, x2), max(x1, x2)
    near = [r for r in obstacles if r[2] > lo and r[0] < hi]
    tracks = {a[1], b[1], (a[1] + b[1]) / 2}
    for r in near:
        tracks.update((r[1] - gap, r[3] + gap, r[1] - clear, r[3] + clear))

    def cost(y: float) -> tuple[float, float]:  # travel, and a price for each card passed closely (its wires)
        close = sum(r[1] - clear < y < r[3] + clear for r in near)
        return abs(y - a[1]) + abs(y - b[1]) + CLOSE_COST * scale * close, y

    for y in sorted(tracks, key=cost):
        points = [a, (x1, a[1]), (x1, y), (x2, y), (x2, b[1]), b]
        stubs = [points[:2], points[-2:]]  # these touch the wire's own cards, so they keep no margin
        if not polyline_hits(points[1:-1], inner, gap / 2 - shrink / 2) and not any(
            polyline_hits(s, inner) for s in stubs
        ):
            return _tidy(points)
    return []


def _tidy(points: list[Point]) -> list[Point]:
    """Drop repeated and collinear corners."""
    out = [points[0]]
    for p in points[1:]:
        if p == out[-1]:
            continue
        if len(out) >= 2:
            (ax, ay), (bx, by) = out[-2], out[-1]
            if (ax == bx == p[0]) or (ay == by == p[1]):
                out[-1] = p
                continue
        out.append(p)
    return out


def wire_points(a: Point, b: Point, obstacles: list[Rect], scale: float = 1.0) -> list[Point]:
    """The drawn wire as a polyline: its route, or the curve sampled."""
    return wire_route(a, b, obstacles, scale) or curve_points(a, b, scale=scale)


def edge_ends(document: GraphDocument, edge: Edge, positions: dict[str, Point] | None = None) -> tuple[Point, Point]:
    at = positions or {}
    return (
        port_point(document, edge.src, edge.src_port, True, at.get(edge.src)),
        port_point(document, edge.dst, edge.dst_port, False, at.get(edge.dst)),
    )


def wire_polylines(
    document: GraphDocument, positions: dict[str, Point] | None = None, routed: bool = True
) -> dict[Edge, list[Point]]:
    """Every edge's drawn wire as a polyline at ``positions`` (only the nodes it names, when given);
    ``routed=False`` draws every wire as the plain curve (how the canvas drew them before routing)."""
    rects = list(node_rects(document, positions).values())
    out: dict[Edge, list[Point]] = {}
    for edge in document.edges():
        if positions is not None and (edge.src not in positions or edge.dst not in positions):
            continue
        a, b = edge_ends(document, edge, positions)
        near = [r for r in rects if _overlap(r, reach(a, b))]
        out[edge] = wire_points(a, b, near) if routed else curve_points(a, b)
    return out


def _box(points: list[Point]) -> Rect:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _overlap(r: Rect, s: Rect) -> bool:
    return r[0] <= s[2] and s[0] <= r[2] and r[1] <= s[3] and s[1] <= r[3]


def _cross(p: Point, q: Point, r: Point, s: Point) -> bool:
    """Whether segments p–q and r–s cross at one point inside both (touching and overlapping do not count)."""

    def side(a: Point, b: Point, c: Point) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    d1, d2, d3, d4 = side(r, s, p), side(r, s, q), side(p, q, r), side(p, q, s)
    return d1 * d2 < 0 and d3 * d4 < 0


def drawing_faults(
    document: GraphDocument, positions: dict[str, Point] | None = None, routed: bool = True
) -> tuple[int, int]:
    """(pairs of wires that cross, wires that pass through a card) of the drawing at ``positions``; wires that
    share a node are not counted as crossing each other."""
    lines = wire_polylines(document, positions, routed)
    rects = [(r[0] + 2, r[1] + 2, r[2] - 2, r[3] - 2) for r in node_rects(document, positions).values()]
    through = sum(polyline_hits(points, rects) for points in lines.values())
    # each wire's ends, box and segments (with their boxes) once: a pair of wires only compares these
    items = [
        ({edge.src, edge.dst}, _box(points), [(a, b, _box([a, b])) for a, b in zip(points, points[1:])])
        for edge, points in lines.items()
    ]
    crossings = 0
    for i, (ends, pb, ps) in enumerate(items):
        for f_ends, qb, qs in items[i + 1 :]:
            if not _overlap(pb, qb) or ends & f_ends:
                continue
            near = [(c, d, box) for c, d, box in qs if _overlap(pb, box)]
            crossings += any(
                _cross(a, b, c, d)
                for a, b, abox in ps
                if _overlap(abox, qb)
                for c, d, box in near
                if _overlap(abox, box)
            )
    return crossings, through


class CardGrid:
    """Cards bucketed in a coarse grid, to find those near each wire quickly when a whole canvas is drawn."""

    def __init__(self, cards: dict[str, Rect], cell: float = 500.0) -> None:
        self.cards, self.cell = cards, cell
        self.buckets: dict[tuple[int, int], list[str]] = {}
        for node_id, rect in cards.items():
            for key in self._keys(rect):
                self.buckets.setdefault(key, []).append(node_id)

    def _keys(self, rect: Rect) -> Iterator[tuple[int, int]]:
        c = self.cell
        for i in range(int(rect[0] // c), int(rect[2] // c) + 1):
            for j in range(int(rect[1] // c), int(rect[3] // c) + 1):
                yield i, j

    def query(self, area: Rect) -> dict[str, Rect]:
        """The cards overlapping ``area``."""
        found = {n for key in self._keys(area) for n in self.buckets.get(key, ())}
        return {n: self.cards[n] for n in sorted(found) if _overlap(self.cards[n], area)}


def shifted_copy(document: GraphDocument, data: dict[str, Any], offset: Point) -> dict[str, Any]:
    """A copied subgraph (``nodes``, ``edges``) made ready to insert into ``document``: ids taken there get fresh
    ones, wires follow them (wires to nodes that were not copied are dropped), positions move by ``offset``."""
    taken = set(document.node_ids())
    mapping: dict[str, str] = {}
    nodes = []
    for node in data.get("nodes", []):
        new = node["id"] if node["id"] not in taken else document.new_id(node["type"], taken)
        taken.add(new)
        mapping[node["id"]] = new
        x, y = node.get("position", (0.0, 0.0))
        nodes.append({**node, "id": new, "position": [x + offset[0], y + offset[1]]})
    edges = [
        {**e, "src": mapping[e["src"]], "dst": mapping[e["dst"]]}
        for e in data.get("edges", [])
        if e.get("src") in mapping and e.get("dst") in mapping
    ]
    return {"nodes": nodes, "edges": edges}
