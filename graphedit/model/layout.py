"""Where nodes go on the canvas, with no Qt: the one layout module (the editor, the importers and the
example builder in ``tools/`` use it).

:func:`layered_layout` is the auto-layout, left to right (Sugiyama-style, kept small). Layers come from
``networkx.topological_generations`` (longest path from a source); a source such as a Target is pulled
next to the node it feeds, so labels do not start the whole graph. Within a layer nodes are ordered by
the mean position of their neighbours (a few down and up sweeps), then stacked.

:func:`band_positions` places nodes whose author chose a column and a lane for each (the example
projects), wrapping long chains into bands below each other.
"""

from __future__ import annotations

import networkx as nx

from graphedit.model.document import GraphDocument

H_GAP = 110.0
V_GAP = 40.0


def _layers(graph: nx.MultiDiGraph) -> dict[str, int]:
    layer = {}
    for i, generation in enumerate(nx.topological_generations(graph)):
        for node in generation:
            layer[node] = i
    for node in graph.nodes:
        succ = list(graph.successors(node))
        if graph.in_degree(node) == 0 and succ:
            layer[node] = max(0, min(layer[s] for s in succ) - 1)
    return layer


def _order(graph: nx.MultiDiGraph, layers: list[list[str]], sweeps: int = 4) -> None:
    rank = {n: i for layer in layers for i, n in enumerate(layer)}
    for sweep in range(sweeps):
        down = sweep % 2 == 0
        for layer in layers[1:] if down else layers[-2::-1]:

            def key(n: str, down: bool = down) -> float:
                near = list(graph.predecessors(n) if down else graph.successors(n))
                return sum(rank[m] for m in near) / len(near) if near else rank[n]

            layer.sort(key=key)
            for i, n in enumerate(layer):
                rank[n] = i


def layered_layout(
    document: GraphDocument, sizes: dict[str, tuple[float, float]] | None = None, origin: tuple[float, float] = (0, 0)
) -> dict[str, tuple[float, float]]:
    """New top-left positions for every node; weakly connected parts are stacked top to bottom."""
    sizes = sizes or {}
    graph = document.graph
    out: dict[str, tuple[float, float]] = {}
    top = float(origin[1])
    order = document.topological_order()
    index = {n: i for i, n in enumerate(order)}
    parts = sorted(nx.weakly_connected_components(graph), key=lambda c: min(index[n] for n in c))
    for part in parts:
        sub = graph.subgraph(part)
        layer_of = _layers(sub)
        count = max(layer_of.values()) + 1
        layers: list[list[str]] = [[] for _ in range(count)]
        for node in order:
            if node in layer_of:
                layers[layer_of[node]].append(node)
        _order(sub, layers)
        x = float(origin[0])
        heights = []
        columns = []
        for layer in layers:
            width = max((sizes.get(n, (180.0, 100.0))[0] for n in layer), default=0.0)
            column = []
            y = 0.0
            for n in layer:
                column.append((n, x, y))
                y += sizes.get(n, (180.0, 100.0))[1] + V_GAP
            heights.append(y - V_GAP)
            columns.append(column)
            x += width + H_GAP
        tallest = max(heights, default=0.0)
        for column, height in zip(columns, heights):
            shift = (tallest - height) / 2
            for n, cx, cy in column:
                out[n] = (round(cx / 20) * 20, round((top + shift + cy) / 20) * 20)
        top += tallest + 2 * V_GAP
    return out


def band_positions(
    grid: dict[str, tuple[int, float]],
    band_of: dict[str, int],
    x_step: float = 250.0,
    y_step: float = 150.0,
    band_gap: float = 100.0,
) -> dict[str, tuple[float, float]]:
    """Positions for nodes at (column, lane) in bands stacked top to bottom, each starting at x = 0 and as tall
    as the lanes it uses."""
    lanes: dict[int, list[float]] = {}
    first: dict[int, int] = {}
    for node_id, (col, lane) in grid.items():
        lanes.setdefault(band_of[node_id], []).append(lane)
        first[band_of[node_id]] = min(col, first.get(band_of[node_id], col))
    tops, top = {}, 0.0
    for band in sorted(lanes):
        tops[band] = top - min(lanes[band]) * y_step
        top += (max(lanes[band]) - min(lanes[band]) + 1) * y_step + band_gap
    out = {}
    for node_id, (col, lane) in grid.items():
        band = band_of[node_id]
        out[node_id] = ((col - first[band]) * x_step, round(tops[band] + lane * y_step, 1))
    return out
