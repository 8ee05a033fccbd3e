"""Work around PySide6 6.12's abi3 build dropping a reference to ``None`` on every void call under Python 3.11.

Each call of a Qt method that returns nothing (``QPainter.drawEllipse``,
``QColor.setRed``, ...) decrements ``None``'s reference count without the
matching increment. Python ≥ 3.12 has an immortal ``None``, so there it is
harmless; on 3.11 the count reaches zero after some ten thousand calls (a few
frames of a 500-node canvas) and the interpreter aborts with "none_dealloc:
deallocating None". Giving ``None`` a huge count makes it immortal in effect,
as it is on 3.12.
"""

from __future__ import annotations

import ctypes
import sys

_PINNED = False


def pin_none() -> None:
    """Make ``None`` effectively immortal on Python < 3.12 (idempotent)."""
    global _PINNED
    if _PINNED or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 48  # ob_refcnt is the first field of PyObject
    _PINNED = True
