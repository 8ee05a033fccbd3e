"""Draw at most ~10 times a second however fast events arrive.

Events only update :class:`~graphedit.ui.live.state.LiveState` (cheap) and
call :meth:`Throttle.request`; the drawing runs from a timer, once per
interval, so a burst of probe events costs one frame, not one per event.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 100  # ≈ 10 frames per second


class Throttle(QObject):
    def __init__(self, callback: Callable[[], None], interval_ms: int = INTERVAL_MS, parent: QObject | None = None):
        super().__init__(parent)
        self.callback = callback
        self.interval = interval_ms / 1000.0
        self.frames = 0  # how many times the callback ran (tests check the rate)
        self._last = -1e9
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._fire)

    def request(self) -> None:
        """Ask for a frame: it comes at the next free slot, and requests before it share it."""
        if self._timer.isActive():
            return
        wait = self._last + self.interval - time.monotonic()
        self._timer.start(max(0, int(wait * 1000)))

    def flush(self) -> None:
        """Draw now if a frame is pending (end of a run, tests, a view that becomes visible)."""
        if self._timer.isActive():
            self._timer.stop()
            self._fire()

    def pending(self) -> bool:
        return self._timer.isActive()

    def _fire(self) -> None:
        self._last = time.monotonic()
        self.frames += 1
        self.callback()
