"""How the canvas looks: family colours, short numbers, the run-time colour.

Shared by the NodeGraphQt subclasses (``ngqt``) and the canvas modules.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor

from ...network import SELF_ID, Port
from ...registry import NeuronType

NeuronId = tuple[str, str]
WireKey = tuple[Port, Port]
TYPE_MIME = "application/x-dmm-neuron-type"

FAMILY_COLORS = {
    "core": (45, 90, 140),
    "self": (130, 60, 130),
}
_DEFAULT_COLOR = (70, 90, 80)


def family_color(t: NeuronType) -> tuple[int, int, int]:
    if t.id == SELF_ID[0]:
        return FAMILY_COLORS["self"]
    if t.family in FAMILY_COLORS:
        return FAMILY_COLORS[t.family]
    h = sum(map(ord, t.family)) * 47 % 360
    c = QColor.fromHsv(h, 120, 120)
    return (c.red(), c.green(), c.blue())


def format_ms(ms: float) -> str:
    """A time per step, short: ``0.42 ms``, ``35 \u00b5s``."""
    if ms >= 10:
        return f"{ms:.0f} ms"
    if ms >= 0.1:
        return f"{ms:.2f} ms"
    return f"{ms * 1000:.0f} \u00b5s"


def format_weight(w: Any) -> str:
    if isinstance(w, float) and w.is_integer():
        w = int(w)
    return f"{w:g}" if isinstance(w, float) else str(w)


RUNTIME_COLOR = QColor(255, 200, 90)  # what only W_t has: run-time neurons, live-only weights
