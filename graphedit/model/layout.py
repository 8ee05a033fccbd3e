"""Where nodes go on the canvas, with no Qt: the one layout module (the editor, the importers and the
example builder in ``tools/`` use it).

:func:`layered_layout` is the auto-layout: a layered (Sugiyama) drawing by grandalf, left to right. grandalf
ranks the nodes (longest path, then sources such as a Target pulled next to the node they feed), orders each
rank to reduce crossings, with dummy nodes reserving room for long wires, and aligns chains (Brandes–Köpf).
Here the ranks become columns, and a long graph is wrapped into rows stacked top to bottom, cut where the
fewest wires cross, so the whole network keeps a screen's proportions; a wire into the next row is routed
along the gap between rows (:mod:`graphedit.model.geometry`). Parts that are not connected are stacked.

:func:`free_position` finds a place for a new node that covers no other node.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import networkx as nx
from grandalf.graphs import Edge as GEdge
from grandalf.graphs import Graph, Vertex
from grandalf.layouts import SugiyamaLayout, VertexViewer

from graphedit.model.document import GraphDocument
from graphedit.model.geometry import Point, drawing_faults, node_size


class Spacing(NamedTuple):
    column: float = 110.0  # between columns: room for the shape label on the wire
    node: float = 40.0  # between nodes of one column
    row: float = 120.0  # between wrapped rows: the track of the wires into the next row
    grid: float = 20.0  # positions are snapped to this grid (0: not snapped)


CARDS = Spacing()
ASPECT = 16 / 9  # wrapped rows aim at a screen's proportions
MIN_COLUMNS = 4
CUT_SLACK = 2  # a row may end this many ranks before or after an even share, where fewer wires cross
ORDER_ROUNDS = 8  # grandalf's up-and-down sweeps ordering each rank
CROSSING_COST = 0.6  # a drawing with one more crossing must fit a screen this much larger to be chosen
MEASURED_EDGES = 300  # up to this many wires, the ways of wrapping that fit a screen best are drawn
MEASURED = 4  # and their crossings counted, this many of them

Size = tuple[float, float]


class _Sugiyama(SugiyamaLayout):  # type: ignore[misc]  # grandalf ships no types
    """grandalf's layout with one change to its rank optimisation: only a source (a Target, a constant) moves
    next to the node it feeds; an inner node (a 1×1 branch of an Inception module) stays next to its input."""

    def _rank_optimize(self) -> None:
        for layer in reversed(self.layers):
            for v in layer:
                rank = self.grx[v].rank
                for x in v.N(-1):
                    if not x.N(-1) and all(self.grx[y].rank >= rank for y in x.N(+1)):
                        self.layers[self.grx[x].rank].remove(x)
                        self.grx[x].rank = rank - 1
                        self.layers[rank - 1].append(x)


def _sugiyama(
    graph: nx.MultiDiGraph, order: list[str], sizes: dict[str, Size], gap: Spacing
) -> tuple[dict[str, int], dict[str, float]]:
    """grandalf's rank (column) and centre across the ranks of each node of one connected part."""
    vertices = {n: Vertex(n) for n in order}
    for n, v in vertices.items():
        v.view = VertexViewer(w=sizes[n][1], h=sizes[n][0])  # grandalf lays out top to bottom: swap the axes
    pairs = sorted({(u, v) for u, v, _ in graph.edges}, key=lambda e: (order.index(e[0]), order.index(e[1])))
    part = Graph(list(vertices.values()), [GEdge(vertices[u], vertices[v]) for u, v in pairs]).C[0]
    sugiyama = _Sugiyama(part)
    sugiyama.xspace, sugiyama.yspace = gap.node, gap.column
    roots = [vertices[n] for n in order if graph.in_degree(n) == 0]
    sugiyama.init_all(roots=roots, inverted_edges=[], optimize=True)
    sugiyama.draw(ORDER_ROUNDS)
    rank = {n: sugiyama.grx[v].rank for n, v in vertices.items()}
    return rank, {n: v.view.xy[0] for n, v in vertices.items()}


def _spans(graph: nx.MultiDiGraph, rank: dict[str, int], count: int) -> list[int]:
    """How many wires a cut before each rank would cut."""
    spans = [0] * (count + 1)
    for u, v, _ in graph.edges:
        for r in range(rank[u] + 1, rank[v] + 1):
            spans[r] += 1
    return spans


def _cuts(graph: nx.MultiDiGraph, rank: dict[str, int], count: int, rows: int) -> list[int]:
    """The first rank of each row after the first: near even steps, where the fewest wires cross the cut."""
    spans = _spans(graph, rank, count)
    cuts: list[int] = []
    for i in range(1, rows):
        ideal = round(i * count / rows)
        options = [
            c
            for c in range(ideal - CUT_SLACK, ideal + CUT_SLACK + 1)
            if (cuts[-1] if cuts else 0) + 2 <= c <= count - 2
        ]
        if options:
            cuts.append(min(options, key=lambda c: (spans[c], abs(c - ideal), c)))
    return cuts


def _rows(
    rank: dict[str, int], cross: dict[str, float], sizes: dict[str, Size], cuts: list[int], gap: Spacing
) -> tuple[dict[str, Point], Size]:
    """Top-left positions with the ranks cut into rows at ``cuts``, and the (width, height) of the whole."""
    row_of = {n: sum(r >= c for c in cuts) for n, r in rank.items()}
    widths: dict[int, float] = {}
    for n, r in rank.items():
        widths[r] = max(widths.get(r, 0.0), sizes[n][0])
    out: dict[str, Point] = {}
    top, width = 0.0, 0.0
    for row in range(len(cuts) + 1):
        members = [n for n in rank if row_of[n] == row]
        if not members:
            continue
        x_of: dict[int, float] = {}
        x = 0.0
        for r in sorted({rank[n] for n in members}):
            x_of[r] = x
            x += widths[r] + gap.column
        first = min(cross[n] - sizes[n][1] / 2 for n in members)
        last = max(cross[n] + sizes[n][1] / 2 for n in members)
        for n in members:
            out[n] = (x_of[rank[n]], top + cross[n] - sizes[n][1] / 2 - first)
        top += last - first + gap.row
        width = max(width, x - gap.column)
    return out, (width, top - gap.row)


def _part(
    document: GraphDocument, members: list[str], sizes: dict[str, Size], wrap: bool, gap: Spacing, measure: bool
) -> tuple[dict[str, Point], float]:
    """One connected part laid out: in one row, or cut into as many rows as fit a screen best."""
    graph = document.graph.subgraph(members)
    rank, cross = _sugiyama(graph, members, sizes, gap)
    count = max(rank.values()) + 1
    options: list[list[int]] = [[]]
    if wrap:
        options += [_cuts(graph, rank, count, rows) for rows in range(2, count // MIN_COLUMNS + 1)]
    drawn: list[tuple[float, dict[str, Point], float, tuple[int, int]]] = []
    for cuts in options:
        placed, (w, h) = _rows(rank, cross, sizes, cuts, gap)
        drawn.append((min(ASPECT / w, 1.0 / max(h, 1.0)), placed, h, (0, 0)))  # (zoom that fits a screen, …)
    drawn.sort(key=lambda d: -d[0])
    if measure and graph.number_of_edges() <= MEASURED_EDGES:  # the best few drawn, their crossings counted
        drawn = [(zoom, placed, h, drawing_faults(document, placed)) for zoom, placed, h, _ in drawn[:MEASURED]]
    best = max(drawn, key=lambda d: (-d[3][1], d[0] * CROSSING_COST ** d[3][0]))
    return best[1], best[2]


def layered_layout(
    document: GraphDocument,
    sizes: dict[str, Size] | None = None,
    origin: tuple[float, float] = (0, 0),
    wrap: bool = True,
    spacing: Spacing = CARDS,
) -> dict[str, tuple[float, float]]:
    """New top-left positions for every node (on the grid); the same graph always gets the same positions.

    ``sizes`` defaults to the cards' sizes (other sizes, such as a thumbnail's chips, come with their
    ``spacing``, and their wrapping is chosen without drawing the cards' wires); ``wrap`` cuts a long graph
    into rows."""
    measure = sizes is None
    sizes = {n: (sizes or {}).get(n) or node_size(document, n) for n in document.node_ids()}
    graph = document.graph
    order = document.topological_order()
    index = {n: i for i, n in enumerate(order)}
    out: dict[str, tuple[float, float]] = {}
    top = float(origin[1])
    for part in sorted(nx.weakly_connected_components(graph), key=lambda c: min(index[n] for n in c)):
        members = [n for n in order if n in part]
        placed, height = _part(document, members, sizes, wrap, spacing, measure)
        for n, (x, y) in placed.items():
            out[n] = (_snap(origin[0] + x, spacing.grid), _snap(top + y, spacing.grid))
        top += height + spacing.row
    return out


def _snap(value: float, grid: float) -> float:
    return round(value / grid) * grid if grid else value


def free_position(
    rects: list[tuple[float, float, float, float]], want: tuple[float, float], size: Size, gap: float = 20.0
) -> tuple[float, float]:
    """The grid point nearest ``want`` (a top-left corner) where a card of ``size`` covers none of ``rects``
    (left, top, right, bottom) with ``gap`` to spare; ``want`` itself when it is free."""

    def free(x: float, y: float) -> bool:
        return not any(
            x < r[2] + gap and r[0] < x + size[0] + gap and y < r[3] + gap and r[1] < y + size[1] + gap for r in rects
        )

    step = 20.0
    x0, y0 = round(want[0] / step) * step, round(want[1] / step) * step
    for ring in range(200):
        spots = [(x0 + dx * step, y0 + dy * step) for dx in range(-ring, ring + 1) for dy in range(-ring, ring + 1)]
        spots = [p for p in spots if max(abs(p[0] - x0), abs(p[1] - y0)) == ring * step]
        for x, y in sorted(spots, key=lambda p: (math.hypot(p[0] - x0, p[1] - y0), p[1], p[0])):
            if free(x, y):
                return (x, y)
    return (x0, y0)
