"""Python's cyclic garbage collector paused while a whole graph is built at once (load, inference, compile, open).

A 10,000-node graph allocates a few hundred thousand long-lived containers in one go. With the collector running,
each of them is scanned by a young collection and promoted, and the promotions set off full collections, each of
which walks every object of the process (torch's alone are about a million): 200–300 ms apiece, none at 2,000 nodes
and three at 10,000, so the cost of a bulk build grew faster than the graph. Paused, the new objects are scanned once
by the next young collection after the build, and the full collections they owe come at the collector's ordinary
pace. Nothing is frozen: a graph that later becomes garbage is collected as before.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause the cyclic collector for the ``with`` block; nested or already-paused uses leave it as they found it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
