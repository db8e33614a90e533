"""Compact probe views painted with a handful of QPainter calls each.

Why: sixteen live pyqtgraph views cost ~5 ms a frame each on the project's
machines (axes, item trees, Python paint methods; measured in
``bench/probes.py``), which is far over a 30 frames/s budget while the
engine competes for the same cores and the GIL. These views draw the same
data in well under a millisecond: a peak-downsampled polyline for scalars,
one ``drawImage`` for images and heat maps (indexed colors), bars with text
for the top-k coordinates. The probe widget's "zoom" switch swaps in the
pyqtgraph views (pan, zoom, axes) for one probe when that is wanted.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from .brief import number, top_coordinates
from .scaling import image_array, to_uint8

_BG = QtGui.QColor(255, 255, 255)
_FG = QtGui.QColor(40, 40, 40)
_GRID = QtGui.QColor(225, 225, 225)
_LINE = QtGui.QColor(31, 119, 180)
_POS = QtGui.QColor(31, 119, 180)
_NEG = QtGui.QColor(214, 39, 40)
_CURSOR = QtGui.QColor(200, 60, 60)


def _lut(name: str) -> list[int]:
    cmap = pg.colormap.get(name)
    colors = cmap.getLookupTable(0.0, 1.0, 256, alpha=False)
    return [QtGui.qRgb(int(r), int(g), int(b)) for r, g, b in colors]


_GRAY = [QtGui.qRgb(i, i, i) for i in range(256)]
_VIRIDIS: list[int] | None = None


def viridis() -> list[int]:
    global _VIRIDIS
    if _VIRIDIS is None:
        _VIRIDIS = _lut("viridis")
    return _VIRIDIS


def tensor_numpy(t: Any) -> np.ndarray:
    """A tensor as a float32 numpy array, without copies on the usual path."""
    if t.dtype.is_floating_point and t.dtype.itemsize == 4 and t.device.type == "cpu" and not t.requires_grad:
        return t.numpy()
    return t.detach().to("cpu").float().numpy()


class TextCache:
    """Laid-out texts (QStaticText) by string: drawing one costs a quarter of
    a ``drawText`` into a rectangle, and labels repeat from frame to frame."""

    def __init__(self, font: QtGui.QFont, size: int = 2000) -> None:
        self.font = font
        self.size = size
        self._texts: dict[str, tuple[QtGui.QStaticText, float]] = {}

    def get(self, text: str) -> tuple[QtGui.QStaticText, float]:
        hit = self._texts.get(text)
        if hit is None:
            if len(self._texts) >= self.size:
                self._texts.clear()
            st = QtGui.QStaticText(text)
            st.setTextFormat(QtCore.Qt.TextFormat.PlainText)
            st.prepare(QtGui.QTransform(), self.font)
            hit = self._texts[text] = (st, st.size().width())
        return hit

    def draw(self, p: QtGui.QPainter, x: float, y: float, text: str, right: bool = False) -> float:
        """Draw ``text`` with its top-left (or top-right) corner at (x, y); returns its width."""
        st, w = self.get(text)
        p.drawStaticText(QtCore.QPointF(x - w if right else x, y), st)
        return w


class FastView(QtWidgets.QWidget):
    """Base of the compact views: ``render_now`` (when the data changes) asks
    for a repaint, and ``paintEvent`` draws the data at the widget's size with
    plain QPainter calls (no scene graph, no layout).

    Measured with 16 probes (bench/probes.py, the engine in its own process):
    drawing in ``paintEvent`` took the UI thread from ~70 % to ~50 % of a core
    and the frame from ~12 ms to ~4 ms, against the earlier way (drawing into a
    new pixmap each frame, set as the background brush, so that Qt repainted
    without Python). That way was better only with the engine in a thread of
    the studio, where each call from Qt into Python waits for the GIL.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(80, 60)
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_OpaquePaintEvent)  # draw() fills it all
        self._font = QtGui.QFont(self.font())
        self._fm = QtGui.QFontMetrics(self._font)
        self._texts = TextCache(self._font)
        self.renders = 0  # paints with data (for tests and benches)
        self._has_data = False

    def render_now(self) -> None:
        """The data changed: repaint (at the next turn of the event loop)."""
        self._has_data = True
        self.update()

    def paintEvent(self, ev: QtGui.QPaintEvent) -> None:
        p = QtGui.QPainter(self)
        p.setFont(self._font)
        self.draw(p, QtCore.QRect(0, 0, self.width(), self.height()))
        p.end()
        if self._has_data:
            self.renders += 1

    def pixmap(self) -> QtGui.QPixmap | None:
        """What is shown, drawn now (None before the first data)."""
        return self.grab() if self._has_data else None

    def draw(self, p: QtGui.QPainter, r: QtCore.QRect) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class FastPlot(FastView):
    """A scalar stream: the last steps as a peak-downsampled line, with the
    last value, the range and the steps shown as text."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.t = np.zeros(0)
        self.y = np.zeros(0)
        self.at: int | None = None

    def show_series(self, t: np.ndarray, y: np.ndarray, at: int | None = None) -> None:
        self.t, self.y, self.at = t, y, at
        self.render_now()

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        return self.t, self.y

    def draw(self, p: QtGui.QPainter, r: QtCore.QRect) -> None:
        p.fillRect(r, _BG)
        lh = self._fm.height()
        plot = QtCore.QRectF(r.left() + 4, r.top() + lh + 2, r.width() - 8, r.height() - 2 * lh - 6)
        p.setPen(_GRID)
        p.drawRect(plot)
        t, y = self.t, self.y
        p.setPen(_FG)
        if len(t) == 0 or plot.width() < 4 or plot.height() < 4:
            p.drawText(r, QtCore.Qt.AlignmentFlag.AlignCenter, "no data yet")
            return
        finite = np.isfinite(y)
        lo = float(y[finite].min()) if finite.any() else 0.0
        hi = float(y[finite].max()) if finite.any() else 1.0
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        t0, t1 = float(t[0]), float(t[-1])
        if t1 <= t0:
            t1 = t0 + 1
        xs, ys = peak_decimate(t, np.nan_to_num(y, nan=lo), max(int(plot.width()), 2))
        px = plot.left() + (xs - t0) / (t1 - t0) * plot.width()
        py = plot.bottom() - (ys - lo) / (hi - lo) * plot.height()
        poly = _polygon(px, py)
        p.setPen(QtGui.QPen(_LINE, 1))
        p.drawPolyline(poly)
        if self.at is not None and t0 <= self.at <= t1:
            x = plot.left() + (self.at - t0) / (t1 - t0) * plot.width()
            p.setPen(QtGui.QPen(_CURSOR, 1, QtCore.Qt.PenStyle.DashLine))
            p.drawLine(QtCore.QPointF(x, plot.top()), QtCore.QPointF(x, plot.bottom()))
        p.setPen(_FG)
        p.drawText(QtCore.QPointF(r.left() + 4, r.top() + self._fm.ascent()), f"max {number(hi)}")
        p.drawText(
            QtCore.QPointF(r.left() + 4, r.bottom() - self._fm.descent() - 1),
            f"min {number(lo)}    t {int(t0)}..{int(t1)}",
        )


def peak_decimate(t: np.ndarray, y: np.ndarray, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Peak downsampling to about two points per pixel column: (t, y) as they
    are when they fit in ``2 * cols`` points, else the min and max of each of
    ``cols`` runs of points, over every point (the first one and the last one
    included: the line spans the whole time range, whatever the length of
    the series). ``t``, ``y``: 1-D arrays of one length; returns float arrays."""
    n = len(y)
    if n <= 2 * cols:
        return t.astype(float), y.astype(float)
    starts = (np.arange(cols) * n) // cols  # every run holds n // cols or n // cols + 1 points
    lo, hi = np.minimum.reduceat(y, starts), np.maximum.reduceat(y, starts)
    ends = np.append(starts[1:], n) - 1
    xs = np.stack([t[starts], t[ends]], axis=1).reshape(-1).astype(float)
    ys = np.stack([lo, hi], axis=1).reshape(-1).astype(float)
    return xs, ys


def _polygon(x: np.ndarray, y: np.ndarray) -> QtGui.QPolygonF:
    """A QPolygonF filled from numpy in one copy (pyqtgraph's helpers)."""
    from pyqtgraph import functions as fn

    poly = fn.create_qpolygonf(len(x))
    a = fn.ndarray_from_qpolygonf(poly)
    a[:, 0] = x
    a[:, 1] = y
    return poly


class FastImage(FastView):
    """A 2-D tensor as an image (gray, or RGB for H x W x 3/4), or any tensor
    as a heat map (viridis), aspect kept, row 0 on top, nearest pixel (a
    pixel of the tensor stays a sharp square); one drawImage."""

    def __init__(self, heatmap: bool = False, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.heatmap = heatmap
        self.array: np.ndarray | None = None
        self._tensor: Any = None
        self._image: QtGui.QImage | None = None
        self._text = ""

    def show_tensor(self, t: Any) -> None:
        if t is self._tensor:
            return  # the same tensor as last frame (a constant stream): nothing to redo
        self._tensor = t
        a = image_array(tensor_numpy(t), rgb=not self.heatmap)
        rgb = a.ndim == 3
        self.array = a
        if a.size == 0:  # a shape with a 0: nothing to draw, and said so
            self._image = None
            self._text = f"an empty tensor [{', '.join(str(n) for n in t.shape)}]"
            self.render_now()
            return
        u8, lo, hi = to_uint8(a)
        h, w = u8.shape[:2]
        if rgb:
            u8 = np.ascontiguousarray(u8[..., :3])
            img = QtGui.QImage(u8.data, w, h, 3 * w, QtGui.QImage.Format.Format_RGB888).copy()
        else:
            img = QtGui.QImage(u8.data, w, h, w, QtGui.QImage.Format.Format_Indexed8).copy()
            img.setColorTable(viridis() if self.heatmap else _GRAY)
        self._image = img
        self._text = f"{w} x {h}, {number(lo)}..{number(hi)}"
        self.render_now()

    def draw(self, p: QtGui.QPainter, r: QtCore.QRect) -> None:
        p.fillRect(r, _BG)
        lh = self._fm.height()
        if self._image is not None:
            area = QtCore.QRectF(r.left() + 2, r.top() + 2, r.width() - 4, r.height() - lh - 6)
            iw, ih = self._image.width(), self._image.height()
            s = min(area.width() / iw, area.height() / ih) if iw and ih else 1.0
            target = QtCore.QRectF(0, 0, iw * s, ih * s)
            target.moveCenter(area.center())
            p.drawImage(target, self._image)
        p.setPen(_FG)
        p.drawText(
            QtCore.QRectF(r.left() + 4, r.bottom() - lh - 1, r.width() - 8, lh),
            QtCore.Qt.AlignmentFlag.AlignLeft,
            self._text,
        )


class FastBars(FastView):
    """The top-k coordinates of a V-value by magnitude, one row each:
    the label (its path: a word for a word-count vector), a bar, the value."""

    def __init__(self, k: int = 20, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.k = k
        self.shown: list[tuple[str, float]] = []
        self.total = 0

    def show_value(self, v: Any) -> None:
        rows = max(1, (self.height() - self._fm.height() - 4) // (self._fm.height() + 2))
        self.total, self.shown = top_coordinates(v, max(3, min(self.k, rows)))
        self.render_now()

    def draw(self, p: QtGui.QPainter, r: QtCore.QRect) -> None:
        p.fillRect(r, _BG)
        lh = self._fm.height()
        rows = self.shown
        p.setPen(_FG)
        if not rows:
            p.drawText(r, QtCore.Qt.AlignmentFlag.AlignCenter, "0 (no coordinates)")
            return
        texts = self._texts
        label_w = min(max(texts.get(s)[1] for s, _ in rows) + 8, r.width() * 0.45)
        value_w = max(texts.get(number(x))[1] for _, x in rows) + 8
        bar_left = r.left() + label_w
        bar_w = max(r.width() - label_w - value_w - 4, 10)
        m = max((abs(x) for _, x in rows if math.isfinite(x)), default=1.0) or 1.0
        neg = any(x < 0 for _, x in rows)
        zero = bar_left + (bar_w / 2 if neg else 0)
        half = bar_w / 2 if neg else bar_w
        row_h = lh + 2
        p.setClipRect(QtCore.QRectF(r.left(), r.top(), label_w - 4, r.height()))
        for i, (label, _x) in enumerate(rows):
            texts.draw(p, bar_left - 6, r.top() + 2 + i * row_h, label, right=True)
        p.setClipping(False)
        for i, (_label, x) in enumerate(rows):
            y = r.top() + 2 + i * row_h
            if math.isfinite(x):
                w = abs(x) / m * half
                left = zero if x >= 0 else zero - w
                p.fillRect(QtCore.QRectF(left, y + 2, max(w, 1), lh - 3), _POS if x >= 0 else _NEG)
            texts.draw(p, bar_left + bar_w + 4, y, number(x))
        p.setPen(_GRID)
        p.drawLine(QtCore.QPointF(zero, r.top()), QtCore.QPointF(zero, r.top() + len(rows) * row_h))
        p.setPen(_FG)
        p.drawText(
            QtCore.QPointF(r.left() + 4, r.bottom() - self._fm.descent() - 1),
            f"top {len(rows)} of {self.total} coordinates by |value|",
        )
