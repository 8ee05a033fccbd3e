"""A topological order of the document's graph, kept current under edits (Pearce & Kelly, 2006).

A wire that runs forward in the order cannot close a cycle, so the cycle test of most new wires costs O(1)
instead of a search of the graph; a wire that runs backward reorders only the nodes ranked between its ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import networkx as nx


class TopologicalOrder:
    """A rank per node such that every wire runs from a lower rank to a higher one."""

    def __init__(self) -> None:
        self._rank: dict[str, int] = {}
        self._next_rank = 0

    def add(self, node_id: str) -> None:
        """A new node ranks last: it has no wires yet."""
        self._rank[node_id] = self._next_rank
        self._next_rank += 1

    def remove(self, node_id: str) -> None:
        del self._rank[node_id]

    def rename(self, old_id: str, new_id: str) -> None:
        self._rank[new_id] = self._rank.pop(old_id)

    def closes_cycle(self, graph: nx.MultiDiGraph, src: str, dst: str) -> bool:
        """Whether a wire ``src → dst`` would close a cycle in ``graph``: searched only when it runs backward."""
        return src == dst or (self._rank[src] > self._rank[dst] and nx.has_path(graph, dst, src))

    def connected(self, graph: nx.MultiDiGraph, src: str, dst: str) -> None:
        """Keep the order after ``src → dst`` was added to ``graph``."""
        if self._rank[src] > self._rank[dst]:
            self._reorder(graph, src, dst)

    def _reorder(self, graph: nx.MultiDiGraph, src: str, dst: str) -> None:
        """Repair the ranks after adding ``src → dst`` where ``src`` ranked after ``dst``.

        Only the nodes ranked between the two move: those reachable from ``dst`` and those reaching ``src``.
        """
        low, high = self._rank[dst], self._rank[src]
        after = self._reach(dst, graph.successors, lambda r: r < high)
        before = self._reach(src, graph.predecessors, lambda r: r > low)
        moved = sorted(before, key=self._rank.__getitem__) + sorted(after, key=self._rank.__getitem__)
        for node, rank in zip(moved, sorted(self._rank[n] for n in moved)):
            self._rank[node] = rank

    def _reach(self, start: str, step: Callable[[str], Iterable[str]], inside: Callable[[int], bool]) -> set[str]:
        seen = {start}
        stack = [start]
        while stack:
            for nxt in step(stack.pop()):
                if nxt not in seen and inside(self._rank[nxt]):
                    seen.add(nxt)
                    stack.append(nxt)
        return seen
