"""How the canvas looks: family colours, short numbers, the run-time colour.

Shared by the NodeGraphQt subclasses (``ngqt``) and the canvas modules.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import Decimal
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


INT_DIGITS = 6  # integers up to 999999 are drawn in full, larger ones in exponent form


def format_weight(w: Any) -> str:
    """A weight as the canvas's labels draw it: compact, at most 4 significant
    digits, exponent form for large and small magnitudes, integers as integers
    (``1``, ``-0.5``, ``0.3``, ``12345``, ``1e300``, ``2.5e-07``, ``inf``, ``nan``).

    ``w``: an int, a float or anything ``float()`` takes (a 0-d tensor);
    anything else is drawn with ``str``. Every weight label on the canvas (the
    design's and the running W_t's) and the Properties text use this; editors
    use ``format_weight_exact`` so that Enter on an untouched text keeps the weight.
    """
    if isinstance(w, bool) or not isinstance(w, (int, float)):
        try:
            w = float(w)
        except (TypeError, ValueError, OverflowError):
            return str(w)
    if isinstance(w, float) and math.isfinite(w) and w.is_integer() and abs(w) < 10**INT_DIGITS:
        w = int(w)
    if isinstance(w, int):
        if abs(w) < 10**INT_DIGITS:
            return str(w)
        text = format(Decimal(w), ".4g")  # exact: an int may be past float's range
    elif not math.isfinite(w):
        return str(w)
    elif w == 0:
        return "0"
    else:
        text = f"{w:.4g}"
    mant, e, exp = text.partition("e")
    if "." in mant:
        mant = mant.rstrip("0").rstrip(".")
    if not e:
        return mant
    sign, digits = (exp[0], exp[1:]) if exp[0] in "+-" else ("+", exp)
    return f"{mant}e{digits.lstrip('0') or '0'}" if sign == "+" else f"{mant}e-{digits}"


def format_weight_exact(w: Any) -> str:
    """A weight in full, for the text an editor starts from: ints as they are,
    integral floats below 1e16 as ints, other floats as ``repr`` (``1e+300``)."""
    if isinstance(w, float) and w.is_integer() and abs(w) < 1e16:
        return str(int(w))
    return repr(w) if isinstance(w, float) else str(w)


RUNTIME_COLOR = QColor(255, 200, 90)  # what only W_t has: run-time neurons, live-only weights


# ------------------------------------------------------------------ label placement
LABEL_GAP = 9.0  # pixels between a wire and its weight label
LABEL_PERCENTS = (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78)  # where along the wire, best first


def label_spots(path: Any, w: float, h: float) -> Iterator[Any]:
    """Where a ``w`` x ``h`` weight label may sit beside a wire ``path`` (a
    ``QPainterPath``): centres (``QPointF``, in the path's coordinates), best
    first. Near the middle first (where the direction arrow is), then further
    along; off the wire: above a wire that runs across, right of one that runs
    up or down (a label above a vertical wire would cover it), then on the
    other side, then twice as far. The caller takes the first spot that covers
    no wire of its own, no other label and no node: spots are made as they are
    asked for (the first one is usually free, and a point on a path costs)."""
    from PySide6.QtCore import QPointF

    at_p: dict[float, tuple[float, float, float, float]] = {}
    for far in (1.0, 2.2):
        for p in LABEL_PERCENTS:
            if p not in at_p:
                at = path.pointAtPercent(p)
                a = math.radians(path.angleAtPercent(p))
                nx, ny = -math.sin(a), -math.cos(a)  # a normal of the path, in scene coordinates
                if abs(ny) >= 0.5:
                    if ny > 0:
                        nx, ny = -nx, -ny  # above
                elif nx < 0:
                    nx, ny = -nx, -ny  # right
                at_p[p] = (at.x(), at.y(), nx, ny)
            x, y, nx, ny = at_p[p]
            d = (abs(nx) * w / 2 + abs(ny) * h / 2 + LABEL_GAP) * far
            yield QPointF(x + nx * d, y + ny * d)
            yield QPointF(x - nx * d, y - ny * d)


def badge_y(type_label_right: float, badge_left: float, row: float = -17.0, height: float = 14.0) -> float:
    """The y of a node's cost badge: on the type name's row (above the node's
    top right corner) when the name ends before it, else a row higher, so that
    the badge never covers the type name."""
    return row if type_label_right + 3 <= badge_left else row - height - 1
