"""Steady plot ranges: a live plot's axes move only when its data leaves them or shrinks well inside them.

pyqtgraph's auto-range refits every axis to the data on every update, and an axis whose range changed rebuilds
its ticks, their labels and its grid on the editor's thread: in a live view that was most of each update's cost
(an epoch's new point moved the x range, a lower loss the y range). A steady range leaves headroom, so it moves a
few times in a run instead of at every update, and watching it is calmer too.

A user who pans or zooms a plot takes its range over; its "A" button (auto-range) hands it back.
"""

from __future__ import annotations

import math
from typing import Any

Extent = tuple[float, float]

FILL = 0.3  # a range is refitted when the data fills less than this part of it
MARGIN = 0.05  # room on each side of the data, as a part of its extent
HEADROOM = 0.5  # a range that the data leaves grows this much past it, so a growing series moves it rarely


def settled(current: Extent | None, lo: float, hi: float) -> Extent | None:
    """The range to show ``[lo, hi]`` in, or None when ``current`` still shows it well (all of it, filling at least
    ``FILL`` of it). Refitted: the data plus ``MARGIN`` on each side, plus ``HEADROOM`` past a side it left by
    (``current`` None: a fresh fit, no headroom)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    a, b = current if current is not None else (lo, hi)
    span = hi - lo
    if current is not None and a <= lo and hi <= b and span >= FILL * (b - a) and b > a:
        return None
    span = span or max(abs(hi) * 0.1, 1e-9)
    low = lo - span * (MARGIN + (HEADROOM if lo < a else 0.0))
    high = hi + span * (MARGIN + (HEADROOM if hi > b else 0.0))
    return low, high


class SteadyRange:
    """Keeps one plot's x and y ranges steady (the axes not kept steady are the caller's: linked, or set when what
    they show changes). Call :meth:`update` after setting the plot's data."""

    def __init__(self, plot: Any, *, x: bool = True, y: bool = True) -> None:
        self.vb = plot.getViewBox()
        self.axes = (x, y)
        self.user = False  # the user panned or zoomed: the range is theirs
        self.pin_x: Extent | None = None  # an x range shown exactly (a run's planned epochs), widened to items past it
        self.vb.disableAutoRange()
        self.vb.sigRangeChangedManually.connect(self._taken)
        self.vb.sigStateChanged.connect(self._state)

    def _taken(self, *_: Any) -> None:
        self.user = True

    def _state(self, *_: Any) -> None:
        """The plot's "A" button (or its menu) turned auto-range on: the steady range takes the axis back."""
        enabled = self.vb.autoRangeEnabled()
        if any(enabled[i] for i in (0, 1) if self.axes[i]):
            self.user = False
            self.vb.disableAutoRange()
            self.update(force=True)

    def update(self, x: Extent | None = None, y: Extent | None = None, *, force: bool = False) -> bool:
        """Move the range if the data needs it, and return whether it moved.

        ``x``, ``y``: the data's extent on that axis (default: the extent of the plot's items); ``force``: refit now
        (the axis has new units, or the user handed it back)."""
        if self.user:
            return False
        pin_x = self.pin_x
        given = (pin_x or x, y)
        bounds = self.vb.childrenBounds() if pin_x is not None or None in given else given
        current = self.vb.viewRange()
        ranges: dict[str, Extent] = {}
        for i, name in enumerate(("xRange", "yRange")):
            extent = given[i] or bounds[i]
            if not self.axes[i] or extent is None or None in extent:
                continue
            lo, hi = float(extent[0]), float(extent[1])
            if i == 0 and pin_x is not None:  # shown as it is, or to the data's end past it
                if bounds[0] is not None and None not in bounds[0]:
                    lo, hi = min(lo, float(bounds[0][0])), max(hi, float(bounds[0][1]))
                # kept while it shows all of that and little more (an epoch's marker drawn past the last epoch widened
                # it at a run's end; narrowed again at the next run's start, both plots' axes were drawn again)
                a, b = current[i]
                kept = a <= lo and hi <= b and (b - a) <= (hi - lo) * (1 + MARGIN)
                fitted: Extent | None = None if kept and not force else (lo, hi)
            else:
                fitted = settled(None if force else (current[i][0], current[i][1]), lo, hi)
            if fitted is not None:
                ranges[name] = fitted
        if ranges:
            self.vb.setRange(padding=0, **ranges)
        return bool(ranges)
