"""Probe views: one widget per kind of stream, and the probe widget that picks one.

* scalars: a scrolling plot over fixed ring buffers (``setData`` with
  clip-to-view and peak downsampling);
* sparse V-values / vectors: a bar chart of the top-k coordinates, labelled
  by their paths (a word-count vector reads as words);
* 2-D tensors (and H x W x 3/4): a live image;
* other tensors: a heat map (1-D as one row, N-D folded to 2-D);
* anything: an expandable tree with values.

Views are refreshed by the inspector at frame rate, and only when the probe
has new data (``ProbeBuffer.version``) or the shown step changed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ...recorder import ProbeBuffer, ProbeSpec, is_scalar_stream
from ...vvalue import is_tensor, leaf_values
from .brief import brief, leaf_brief, leaf_counts, number, path_text, top_coordinates
from .fastviews import FastBars, FastImage, FastPlot
from .scaling import display_levels

VIEW_KINDS = ("auto", "plot", "bars", "image", "heatmap", "tree")
BG = "w"
FG = (40, 40, 40)


def classify(v: Any) -> str:
    """The view that suits a stream value: plot, bars, image, heatmap or tree."""
    if is_scalar_stream(v):
        return "plot"
    items = list(leaf_values(v)) if isinstance(v, dict) else [v]  # no paths: any depth, one walk
    tensors = [x for x in items if is_tensor(x)]
    if not tensors:
        return "bars"
    if len(items) == 1:
        t = tensors[0]
        if t.dim() == 2 or (t.dim() == 3 and t.shape[-1] in (3, 4)):
            return "image"
        return "heatmap"
    return "tree"


def tensor_leaf(v: Any) -> Any:
    """The first tensor leaf of a value (None if it holds none)."""
    if is_tensor(v):
        return v
    if isinstance(v, dict):
        for x in leaf_values(v):
            if is_tensor(x):
                return x
    return None


def to_numpy(t: Any) -> np.ndarray:
    return t.detach().to("cpu").float().numpy()


def as_2d(a: np.ndarray) -> np.ndarray:
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(1, -1)
    if a.ndim == 2:
        return a
    return a.reshape(a.shape[0], -1)


finite_levels = display_levels  # (the name the views used)


def stack_vertically(parent: QtWidgets.QWidget, *widgets: QtWidgets.QWidget) -> None:
    """Lay ``widgets`` out top to bottom in ``parent`` with no margins or gaps."""
    lay = QtWidgets.QVBoxLayout(parent)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(0)
    for w in widgets:
        lay.addWidget(w)


def status_label() -> QtWidgets.QLabel:
    """A one-line label whose text changes every frame without re-laying out
    its window (its size does not follow its text)."""
    label = QtWidgets.QLabel()
    label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)
    label.setFixedHeight(label.fontMetrics().height() + 4)
    return label


def nice_bounds(lo: float, hi: float) -> tuple[float, float]:
    """A range around [lo, hi] with round ends and some room, so that it
    changes (and axes redraw) only now and then as the data moves."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return (-1.0, 1.0)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    span = hi - lo
    step = 10 ** math.floor(math.log10(span))
    for m in (1, 2, 5, 10):
        if span / (m * step) <= 5:
            step *= m
            break
    return (math.floor(lo / step) * step, math.ceil(hi / step) * step)


class StableRange:
    """Keeps a range while the data stays inside it and does not shrink
    below a quarter of it; else moves to new nice bounds."""

    def __init__(self) -> None:
        self.range: tuple[float, float] | None = None

    def update(self, lo: float, hi: float) -> tuple[float, float] | None:
        """The new range when it must change, else None."""
        r = self.range
        if r is not None and r[0] <= lo and hi <= r[1] and (hi - lo) >= 0.25 * (r[1] - r[0]):
            return None
        self.range = nice_bounds(lo, hi)
        return self.range


def _plot_widget() -> pg.PlotWidget:
    w = pg.PlotWidget(background=BG)
    for name in ("left", "bottom"):
        ax = w.getAxis(name)
        ax.setPen(pg.mkPen(FG))
        ax.setTextPen(pg.mkPen(FG))
    return w


class LabelAxis(pg.AxisItem):
    """An axis that shows text labels at given positions, leaving out the ones
    that would overlap at the current zoom (so labels stay readable)."""

    def __init__(self, orientation: str, **kw: Any) -> None:
        super().__init__(orientation, **kw)
        self._labels: list[tuple[float, str]] = []
        self._text: dict[float, str] = {}
        self._widths: dict[str, int] = {}
        self.setPen(pg.mkPen(FG))
        self.setTextPen(pg.mkPen(FG))
        fm = QtGui.QFontMetrics(self.font())
        self._char_w = max(5, fm.averageCharWidth())
        self._line_h = fm.height()

    def set_labels(self, labels: Sequence[tuple[float, str]]) -> None:
        self._labels = sorted(labels)
        self._text = {round(p, 3): s for p, s in self._labels}
        fm = QtGui.QFontMetrics(self.font())
        self._widths = {s: fm.horizontalAdvance(s) + 3 for _, s in self._labels}
        if self.orientation in ("left", "right"):
            fm = QtGui.QFontMetrics(self.font())
            widest = max((fm.horizontalAdvance(s) for _, s in self._labels), default=20)
            self.setWidth(min(300, 16 + widest))
        self.picture = None
        self.update()

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        minVal, maxVal = sorted((minVal, maxVal))
        if not self._labels or maxVal <= minVal or size <= 0:
            return []
        px = size / (maxVal - minVal)
        vertical = self.orientation in ("left", "right")
        kept: list[float] = []
        last_end = -math.inf
        for p, s in self._labels:
            if p < minVal or p > maxVal:
                continue
            extent = self._line_h if vertical else self._widths.get(s, self._char_w * (len(s) + 1))
            start = p * px - extent / 2
            if start >= last_end:
                kept.append(p)
                last_end = start + extent
        return [(1.0, kept)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [self._text.get(round(v, 3), "") for v in values]


class ScalarPlotView(QtWidgets.QWidget):
    """A scalar stream over the last steps. The t axis moves by pages and the
    value axis by round steps, so that axes redraw now and then, not every
    frame; only the curve does."""

    PAGE = 500  # steps shown at least; the page moves by a quarter

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = _plot_widget()
        self.plot.setClipToView(True)
        self.plot.setDownsampling(auto=True, mode="peak")
        self.plot.disableAutoRange()
        self.plot.setMenuEnabled(False)
        self.curve = self.plot.plot(pen=pg.mkPen((31, 119, 180), width=1.5))
        self.cursor = pg.InfiniteLine(
            angle=90, pen=pg.mkPen((200, 60, 60), style=QtCore.Qt.PenStyle.DashLine)
        )
        self.cursor.setVisible(False)
        self.plot.addItem(self.cursor)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot)
        self._x: tuple[float, float] | None = None
        self._y = StableRange()
        self.plot.getViewBox().sigRangeChangedManually.connect(self._manual)
        self.follow = True  # the user panned or zoomed: stop moving the view

    def _manual(self, *_: Any) -> None:
        self.follow = False

    def show_series(self, t: np.ndarray, y: np.ndarray, at: int | None = None) -> None:
        self.curve.setData(t, y)
        self.cursor.setVisible(at is not None)
        if at is not None:
            self.cursor.setValue(at)
        if not self.follow or not len(t):
            return
        first, last = float(t[0]), float(t[-1])
        width = max(self.PAGE, last - first)
        if self._x is None or last > self._x[1] or first < self._x[0] - width:
            quarter = width / 4
            end = math.ceil((last + 1) / quarter) * quarter
            self._x = (max(first, end - width), end)
            self.plot.setXRange(*self._x, padding=0)
        finite = y[np.isfinite(y)]
        if finite.size:
            yr = self._y.update(float(finite.min()), float(finite.max()))
            if yr is not None:
                self.plot.setYRange(*yr, padding=0.02)

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.curve.getData()
        return (np.asarray(x if x is not None else []), np.asarray(y if y is not None else []))


class BarsView(QtWidgets.QWidget):
    """The top-k coordinates of a sparse V-value, largest magnitude first,
    as horizontal bars labelled by path."""

    def __init__(self, k: int = 20, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.k = k
        self.axis = LabelAxis("left")
        self.plot = pg.PlotWidget(background=BG, axisItems={"left": self.axis})
        self.plot.getAxis("bottom").setPen(pg.mkPen(FG))
        self.plot.getAxis("bottom").setTextPen(pg.mkPen(FG))
        self.plot.showGrid(x=True, alpha=0.2)
        self.plot.getViewBox().invertY(True)
        self.plot.setMouseEnabled(x=True, y=False)
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brush=(31, 119, 180))
        self.plot.addItem(self.bars)
        self.plot.disableAutoRange()
        self.plot.setMenuEnabled(False)
        self.note = status_label()
        self._labels: list[tuple[float, str]] = []
        self._n = -1
        self._x = StableRange()
        stack_vertically(self, self.plot, self.note)
        self.shown: list[tuple[str, float]] = []

    def show_value(self, v: Any) -> None:
        fit = int(max(self.plot.height() - 40, 0) / (self.axis._line_h + 3))
        total, top = top_coordinates(v, max(3, min(self.k, fit)))
        self.shown = top
        n = len(top)
        ys = np.arange(n, dtype=float)
        ws = np.array([c[1] for c in top], dtype=float)
        brushes = [_POS if w >= 0 else _NEG for w in ws]
        self.bars.setOpts(x0=np.zeros(n), y=ys, width=ws, height=0.7, brushes=brushes)
        labels = [(float(i), c[0]) for i, c in enumerate(top)]
        if labels != self._labels:
            self._labels = labels
            self.axis.set_labels(labels)
        if n != self._n:
            self._n = n
            self.plot.setYRange(-0.6, max(n, 1) - 0.4, padding=0)
        if n:
            xr = self._x.update(min(0.0, float(np.nanmin(ws))), max(0.0, float(np.nanmax(ws))))
            if xr is not None:
                self.plot.setXRange(*xr, padding=0.02)
        self.note.setText(f"top {n} of {total} coordinates by |value|")


_POS = pg.mkBrush((31, 119, 180))
_NEG = pg.mkBrush((214, 39, 40))


class ImageView(QtWidgets.QWidget):
    """A 2-D tensor (or H x W x 3/4) as a live image, aspect kept, row 0 on top."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground(BG)
        self.vb = self.glw.addViewBox(lockAspect=True, invertY=True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.vb.addItem(self.image)
        self.note = status_label()
        stack_vertically(self, self.glw, self.note)
        self._shape: tuple[int, ...] | None = None
        self.array: np.ndarray | None = None

    def show_tensor(self, t: Any) -> None:
        a = to_numpy(t)
        if a.ndim != 2 and not (a.ndim == 3 and a.shape[-1] in (3, 4)):
            a = as_2d(a)
        self.array = a
        if a.size == 0:  # a shape with a 0: nothing to draw, and said so
            self.image.clear()
            self.note.setText(f"an empty tensor [{', '.join(str(n) for n in t.shape)}]")
            return
        lo, hi = finite_levels(a)
        self.image.setImage(a, levels=(lo, hi), autoLevels=False)
        if a.shape != self._shape:
            self._shape = a.shape
            self.vb.autoRange(padding=0.02)
        self.note.setText(f"{a.shape[1]} x {a.shape[0]} pixels, levels {number(lo)}..{number(hi)}")


class HeatMapView(QtWidgets.QWidget):
    """Any tensor as a heat map (1-D as one row, N-D folded to rows x rest)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = _plot_widget()
        self.plot.getViewBox().invertY(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.plot.addItem(self.image)
        self.note = status_label()
        stack_vertically(self, self.plot, self.note)
        self._shape: tuple[int, ...] | None = None
        self.array: np.ndarray | None = None

    def show_tensor(self, t: Any) -> None:
        a = as_2d(to_numpy(t))
        self.array = a
        if a.size == 0:  # a shape with a 0: nothing to draw, and said so
            self.image.clear()
            self.note.setText(f"an empty tensor [{', '.join(str(n) for n in t.shape)}]")
            return
        lo, hi = finite_levels(a)
        self.image.setImage(a, levels=(lo, hi), autoLevels=False)
        if a.shape != self._shape:
            self._shape = a.shape
            self.plot.getViewBox().autoRange(padding=0.02)
        self.note.setText(f"{leaf_brief(t)} shown as {a.shape[0]} x {a.shape[1]}")


class TreeView(QtWidgets.QTreeWidget):
    """Any V-value as an expandable tree (label, value); items are kept and
    updated in place so the expanded state survives refreshes."""

    MAX_ITEMS = 3000

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(2)
        self.setHeaderLabels(["label", "value"])
        self.setUniformRowHeights(True)
        self.header().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self._items: dict[tuple[str, ...], QtWidgets.QTreeWidgetItem] = {}
        self._count = 0

    def show_value(self, v: Any) -> None:
        self._count = 0
        seen: set[tuple[str, ...]] = set()
        self.setUpdatesEnabled(False)
        try:
            root = self.invisibleRootItem()
            if not isinstance(v, dict):
                v = {"·": v}
            self._counts = leaf_counts(v)  # each node's leaves, for its brief: one walk
            self._fill(root, (), v, seen)
            for path in [p for p in self._items if p not in seen]:
                item = self._items.pop(path)
                parent = item.parent() or root
                parent.removeChild(item)
        finally:
            self.setUpdatesEnabled(True)

    def _fill(self, parent: QtWidgets.QTreeWidgetItem, path: tuple[str, ...], node: dict, seen: set) -> None:
        # depth first with a stack (a long list is thousands of levels deep)
        stack = [(parent, path, iter(node.items()))]
        while stack:
            parent, path, items = stack[-1]
            for k, x in items:
                if self._count >= self.MAX_ITEMS:
                    return
                p = path + (k,)
                seen.add(p)
                self._count += 1
                item = self._items.get(p)
                if item is None:
                    item = QtWidgets.QTreeWidgetItem(parent, [path_text((k,)), ""])
                    self._items[p] = item
                    if len(path) < 2:
                        item.setExpanded(True)
                text = brief(x, 60, count=self._counts.get(id(x))) if isinstance(x, dict) else leaf_brief(x)
                if item.text(1) != text:
                    item.setText(1, text)
                if isinstance(x, dict):
                    stack.append((item, p, iter(x.items())))
                    break
            else:
                stack.pop()

    def value_text(self, path: Sequence[str]) -> str | None:
        item = self._items.get(tuple(path))
        return item.text(1) if item is not None else None


class ProbeWidget(QtWidgets.QWidget):
    """One probe: a header (what it probes, the view, the value in brief) and
    the view that suits its stream (or the one the user picked)."""

    exportRequested = QtCore.Signal(str, str)  # probe key, format
    closeRequested = QtCore.Signal(str)
    viewChanged = QtCore.Signal(str, str)  # probe key, view kind

    def __init__(self, buf: ProbeBuffer, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.buf = buf
        self.spec: ProbeSpec = buf.spec
        self.mode = buf.spec.view
        self.views: dict[str, QtWidgets.QWidget] = {}
        self.stack = QtWidgets.QStackedWidget()
        self.title = QtWidgets.QLabel(f"<b>{self.spec.key}</b>")
        self.value = status_label()
        self.value.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.combo = QtWidgets.QComboBox()
        self.combo.addItems(VIEW_KINDS)
        self.combo.setCurrentText(self.mode)
        self.combo.currentTextChanged.connect(self._mode_changed)
        self.zoom = QtWidgets.QCheckBox("zoom")
        self.zoom.setToolTip("pyqtgraph view: pan, zoom and axes (costs more to draw)")
        self.zoom.setChecked(buf.spec.zoom)
        self.zoom.toggled.connect(lambda _on: self._mode_changed(self.mode))
        export = QtWidgets.QToolButton()
        export.setText("Export")
        export.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QtWidgets.QMenu(export)
        for fmt in ("csv", "npy", "gif", "mp4", "png"):
            menu.addAction(fmt.upper(), lambda f=fmt: self.exportRequested.emit(self.spec.key, f))
        export.setMenu(menu)
        close = QtWidgets.QToolButton()
        close.setText("✕")
        close.setToolTip("Remove this probe")
        close.clicked.connect(lambda: self.closeRequested.emit(self.spec.key))
        head = QtWidgets.QHBoxLayout()
        head.setContentsMargins(4, 2, 4, 2)
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.zoom)
        head.addWidget(self.combo)
        head.addWidget(export)
        head.addWidget(close)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(head)
        lay.addWidget(self.value)
        lay.addWidget(self.stack, 1)
        self.kind = ""
        self._drawn: tuple[int, int | None, str, bool] | None = None
        self.frames = 0

    def showEvent(self, ev: QtGui.QShowEvent) -> None:
        super().showEvent(ev)
        self._drawn = None
        self.refresh(self._at)

    def _mode_changed(self, mode: str) -> None:
        self.mode = mode
        self._drawn = None
        self.viewChanged.emit(self.spec.key, mode)
        self.refresh(self._at)

    _at: int | None = None

    def view(self, kind: str) -> QtWidgets.QWidget:
        zoom = self.zoom.isChecked()
        key = f"{kind}:zoom" if zoom and kind != "tree" else kind
        w = self.views.get(key)
        if w is None:
            if zoom:
                cls: dict[str, Any] = {
                    "plot": ScalarPlotView,
                    "bars": BarsView,
                    "image": ImageView,
                    "heatmap": HeatMapView,
                    "tree": TreeView,
                }
                w = cls[kind]()
            else:
                w = {
                    "plot": FastPlot,
                    "bars": FastBars,
                    "image": FastImage,
                    "heatmap": lambda: FastImage(heatmap=True),
                    "tree": TreeView,
                }[kind]()
            self.views[key] = w
            self.stack.addWidget(w)
        return w

    def refresh(self, at: int | None = None) -> bool:
        """Draw the probe's latest value (or the value at step ``at`` when
        scrubbing); returns whether anything was drawn. Never raises: a value
        this probe cannot show (or record) is a short note in its header
        (``problem``), and every other probe goes on drawing."""
        self._at = at
        key = (self.buf.version, at, self.mode, self.zoom.isChecked())
        if key == self._drawn:
            return False
        self._drawn = key
        t: int | None = at
        try:
            if at is None:
                latest = self.buf.latest()
                if latest is None:
                    if self.buf.error:
                        self._note(None, f"cannot record: {self.buf.error}")
                    return False
                t, v = latest
            else:
                try:
                    v = self.buf.value_at(at)
                except KeyError:
                    self.value.setText(f"t = {at}: not kept by this probe")
                    return False
            self._draw(t, v, at)
        except Exception as e:  # this probe only: said in its place, the others go on
            self._note(t, f"cannot show this value: {type(e).__name__}: {e}")
            return False
        if self.buf.error:
            self._note(t, f"cannot record: {self.buf.error}")
        else:
            self.problem = None
        self.frames += 1
        return True

    problem: str | None = None  # why this probe shows no value, when it cannot

    def _note(self, t: int | None, text: str) -> None:
        text = " ".join(text.split())
        if len(text) > 160:
            text = text[:159] + "…"
        self.problem = text
        self.value.setText(f" t = {t}: {text}" if t is not None else f" {text}")

    def _draw(self, t: int, v: Any, at: int | None) -> None:
        if self.mode != "auto":
            kind = self.mode
        elif not v and self.kind:
            kind = self.kind  # zero fits any view: a token stream that is {} now and then keeps its bars
        else:
            kind = classify(v)
        if kind in ("image", "heatmap") and tensor_leaf(v) is None:
            kind = "bars"
        w = self.view(kind)
        if kind == "plot":
            ts, ys = self.buf.scalars()
            w.show_series(ts, ys, at)  # type: ignore[attr-defined]
        elif kind == "bars":
            w.show_value(v)  # type: ignore[attr-defined]
        elif kind in ("image", "heatmap"):
            w.show_tensor(tensor_leaf(v))  # type: ignore[attr-defined]
        else:
            w.show_value(v)  # type: ignore[attr-defined]
        self.stack.setCurrentWidget(w)
        self.kind = kind
        # tensors' ranges are in their view's own note: the header spares the reductions
        self.value.setText(f" t = {t}: {brief(v, 100, values=kind not in ('image', 'heatmap'))}")

    def current_view(self) -> QtWidgets.QWidget:
        return self.stack.currentWidget()
