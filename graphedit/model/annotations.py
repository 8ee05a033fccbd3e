"""Frames and sticky notes on the canvas, with no Qt: what the graph's ``frames`` and ``notes`` keys hold.

A frame is a titled, coloured rectangle that labels a part of the network (the encoder, a residual block);
the nodes whose cards lie inside it move with it. A note is a short text pinned at a point. Neither changes
what the network computes. Every change goes through :class:`Annotations`, which tells its listeners (the
canvas) what changed, so the undo commands only call it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, overload

FRAME_COLORS = ("#3b6fb6", "#3f8f57", "#7c52b3", "#c47a2a", "#a8507a", "#2a8a8f")
NOTE_COLOR = "#e8c547"
NOTE_WIDTH = 220.0
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


class AnnotationError(ValueError):
    """A ``frames`` or ``notes`` entry that cannot be read; the message says which and how to fix it."""


@dataclass(frozen=True)
class Frame:
    id: str
    title: str
    rect: tuple[float, float, float, float]  # left, top, width, height
    color: str = FRAME_COLORS[0]

    def moved(self, dx: float, dy: float) -> Frame:
        x, y, w, h = self.rect
        return replace(self, rect=(x + dx, y + dy, w, h))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "rect": [round(v, 2) for v in self.rect], "color": self.color}


@dataclass(frozen=True)
class Note:
    id: str
    text: str
    position: tuple[float, float]
    width: float = NOTE_WIDTH

    def moved(self, dx: float, dy: float) -> Note:
        return replace(self, position=(self.position[0] + dx, self.position[1] + dy))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "text": self.text, "position": [round(v, 2) for v in self.position]}
        if self.width != NOTE_WIDTH:
            out["width"] = self.width
        return out


Item = Frame | Note
Listener = Callable[[str, str], None]  # (kind "frame" or "note", id): that item was added, changed or removed


class Annotations:
    """The frames and notes of one graph, by id, in the order they were added."""

    def __init__(self) -> None:
        self.frames: dict[str, Frame] = {}
        self.notes: dict[str, Note] = {}
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def __len__(self) -> int:
        return len(self.frames) + len(self.notes)

    @overload
    def get(self, kind: Literal["frame"], item_id: str) -> Frame | None: ...

    @overload
    def get(self, kind: Literal["note"], item_id: str) -> Note | None: ...

    @overload
    def get(self, kind: str, item_id: str) -> Item | None: ...

    def get(self, kind: str, item_id: str) -> Item | None:
        return (self.frames if kind == "frame" else self.notes).get(item_id)

    def put(self, kind: str, item_id: str, item: Item | None) -> None:
        """Add or replace the item ``item_id`` of ``kind``, or remove it (``None``)."""
        table: dict[str, Any] = self.frames if kind == "frame" else self.notes
        if item is None:
            table.pop(item_id, None)
        else:
            table[item_id] = item
        for listener in list(self._listeners):
            listener(kind, item_id)

    def new_id(self, kind: str) -> str:
        taken = self.frames if kind == "frame" else self.notes
        i = len(taken) + 1
        while f"{kind}{i}" in taken:
            i += 1
        return f"{kind}{i}"

    # ------------------------------------------------------------ JSON
    def to_json(self) -> dict[str, list[dict[str, Any]]]:
        """``{"frames": [...], "notes": [...]}``, each key only when it has entries."""
        out = {}
        if self.frames:
            out["frames"] = [f.to_json() for f in self.frames.values()]
        if self.notes:
            out["notes"] = [n.to_json() for n in self.notes.values()]
        return out

    def load_json(self, frames: Any, notes: Any) -> None:
        """Read the graph's ``frames`` and ``notes`` lists (absent: ``None``); raises :class:`AnnotationError`."""
        for index, entry in enumerate(_list(frames, "frames")):
            frame = Frame(
                _id(entry, "frames", index, self.frames),
                _text(entry, "title", "frames", index),
                _rect(entry, index),
                _color(entry, "frames", index),
            )
            if frame.rect[2] <= 0 or frame.rect[3] <= 0:
                raise AnnotationError(f"frames[{index}] ('{frame.id}'): 'rect' needs a positive width and height")
            self.frames[frame.id] = frame
        for index, entry in enumerate(_list(notes, "notes")):
            note = Note(
                _id(entry, "notes", index, self.notes),
                _text(entry, "text", "notes", index),
                _point(entry, index),
                float(entry.get("width", NOTE_WIDTH)) if _is_number(entry.get("width", NOTE_WIDTH)) else -1.0,
            )
            if note.width <= 0:
                raise AnnotationError(f"notes[{index}] ('{note.id}'): 'width' must be a positive number")
            self.notes[note.id] = note


def _list(value: Any, key: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise AnnotationError(f"'graph.{key}' must be a list of objects; remove it or fix its entries")
    return value


def _id(entry: dict[str, Any], key: str, index: int, taken: dict[str, Any]) -> str:
    value = entry.get("id")
    if not isinstance(value, str) or not _ID.match(value):
        raise AnnotationError(f"{key}[{index}]: 'id' must be a name of letters, digits, '_' or '-'")
    if value in taken:
        raise AnnotationError(f"{key}[{index}]: the id '{value}' is used twice; give each entry its own")
    return value


def _text(entry: dict[str, Any], field: str, key: str, index: int) -> str:
    value = entry.get(field, "")
    if not isinstance(value, str):
        raise AnnotationError(f"{key}[{index}]: '{field}' must be text")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numbers(entry: dict[str, Any], field: str, count: int, key: str, index: int, form: str) -> tuple[float, ...]:
    value = entry.get(field)
    if not isinstance(value, list) or len(value) != count or not all(_is_number(v) for v in value):
        raise AnnotationError(f"{key}[{index}]: '{field}' must be {form}, numbers")
    return tuple(float(v) for v in value)


def _rect(entry: dict[str, Any], index: int) -> tuple[float, float, float, float]:
    left, top, width, height = _numbers(entry, "rect", 4, "frames", index, "[left, top, width, height]")
    return left, top, width, height


def _point(entry: dict[str, Any], index: int) -> tuple[float, float]:
    x, y = _numbers(entry, "position", 2, "notes", index, "[x, y]")
    return x, y


def _color(entry: dict[str, Any], key: str, index: int) -> str:
    value = entry.get("color", FRAME_COLORS[0])
    if not isinstance(value, str) or not _COLOR.match(value):
        raise AnnotationError(f"{key}[{index}]: 'color' must be '#rrggbb'")
    return value.lower()


def nodes_inside(frame: Frame, cards: dict[str, tuple[float, float, float, float]]) -> list[str]:
    """The nodes whose cards (left, top, right, bottom) lie inside ``frame``: those that move with it."""
    x, y, w, h = frame.rect
    return [n for n, r in cards.items() if r[0] >= x and r[1] >= y and r[2] <= x + w and r[3] <= y + h]


def frames_holding_only(
    frames: dict[str, Frame], cards: dict[str, tuple[float, float, float, float]], chosen: set[str]
) -> list[Frame]:
    """The frames that hold some of ``chosen`` and nothing else (they follow those nodes into a block)."""
    out = []
    for frame in frames.values():
        held = set(nodes_inside(frame, cards))
        if held and held <= chosen:
            out.append(frame)
    return out


def frame_around(
    cards: list[tuple[float, float, float, float]], pad: float = 30.0, title_h: float = 34.0
) -> tuple[float, float, float, float]:
    """The rect (left, top, width, height) of a frame around ``cards`` with room for its title."""
    left, top = min(r[0] for r in cards) - pad, min(r[1] for r in cards) - pad - title_h
    right, bottom = max(r[2] for r in cards) + pad, max(r[3] for r in cards) + pad
    return (left, top, right - left, bottom - top)
