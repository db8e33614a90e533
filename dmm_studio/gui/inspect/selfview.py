"""The Self view: the network matrix ``W_t`` as a heat map.

Rows are inputs (``to_type/to_name/to_input``), columns outputs
(``from_type/from_name/from_output``), both grouped by neuron: the left and
top axes name the neurons, the right and bottom axes the ports, with light
lines between neurons. Blue is positive, red negative, white zero (absent).
Mouse wheel zooms, drag pans. A toggle marks the entries that changed in
the last step (green added, red removed, orange changed).

Clicking a cell emits ``cellSelected(to, frm)`` so the canvas can select the
wire; ``highlight(to, frm)`` outlines a cell when a wire is selected there.

``follow(running_state, design_matrix)``: the view reads the running state
(``gui/running_state.py``) where the inspector's history has nothing newer
for it: opened mid-run it draws the ``W_t`` the canvas shows, and back at
design time (Reset, another file opened) it draws the design's ``W_0`` at
t = 0 instead of keeping the last run's (or the last file's) matrix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ...history import Change, matrix_diff
from ...matrix import Port, matrix_entries
from ...vvalue import is_tensor
from .brief import number
from .views import BG, LabelAxis, status_label

CHANGE_COLORS = {"added": (0, 170, 0), "removed": (220, 0, 0), "changed": (255, 140, 0)}


def _diverging() -> pg.ColorMap:
    return pg.ColorMap([0.0, 0.5, 1.0], [(200, 30, 30), (255, 255, 255), (30, 80, 200)])


def _groups(ports: list[Port]) -> list[tuple[str, float, float]]:
    """(``type/name``, first index, last index) for runs of one neuron."""
    out: list[tuple[str, float, float]] = []
    for i, p in enumerate(ports):
        label = f"{p[0]}/{p[1]}"
        if out and out[-1][0] == label:
            out[-1] = (label, out[-1][1], i)
        else:
            out.append((label, i, i))
    return out


class SelfView(QtWidgets.QWidget):
    cellSelected = QtCore.Signal(tuple, tuple)  # (to port, from port)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[Port] = []
        self.cols: list[Port] = []
        self._row_index: dict[Port, int] = {}
        self._col_index: dict[Port, int] = {}
        self.values = np.zeros((0, 0))
        self.entries: dict[tuple[Port, Port], Any] = {}
        self.changes: list[Change] = []
        self.t: int | None = None

        self.left, self.right = LabelAxis("left"), LabelAxis("right")
        self.top, self.bottom = LabelAxis("top"), LabelAxis("bottom")
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground(BG)
        self.plot = self.glw.addPlot(
            axisItems={"left": self.left, "right": self.right, "top": self.top, "bottom": self.bottom}
        )
        for name in ("left", "right", "top", "bottom"):
            self.plot.showAxis(name)
        self.vb = self.plot.getViewBox()
        self.vb.invertY(True)
        self.vb.setAspectLocked(False)
        self.vb.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(_diverging())
        self.plot.addItem(self.image)
        self.grid = pg.PlotCurveItem(pen=pg.mkPen((150, 150, 150), width=1), connect="pairs")
        self.plot.addItem(self.grid)
        self.marks = pg.ScatterPlotItem(pxMode=False, symbol="s", size=0.86, brush=None)
        self.plot.addItem(self.marks)
        self.selected = QtWidgets.QGraphicsRectItem()
        self.selected.setPen(pg.mkPen((0, 0, 0), width=3, cosmetic=True))
        self.selected.setVisible(False)
        self.plot.addItem(self.selected)
        self.highlighted: tuple[Port, Port] | None = None

        self.mark_changes = QtWidgets.QCheckBox("Mark changes of the last step")
        self.mark_changes.setChecked(True)
        self.mark_changes.toggled.connect(lambda _: self._draw_marks())
        fit = QtWidgets.QToolButton()
        fit.setText("Fit")
        fit.clicked.connect(self.fit)
        # the header: what is shown on a row of its own (wrapped on two lines in a
        # narrow dock, never under the controls), the controls on the row below
        self.info = QtWidgets.QLabel()
        self.info.setWordWrap(True)
        self.info.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)
        self.info.setFixedHeight(2 * self.info.fontMetrics().lineSpacing() + 4)
        self.info.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter)
        self.info.setContentsMargins(4, 0, 4, 0)
        self.hover = status_label()
        controls = QtWidgets.QHBoxLayout()
        controls.setContentsMargins(4, 0, 4, 2)
        controls.addWidget(self.mark_changes)
        controls.addStretch(1)
        controls.addWidget(fit)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.info)
        lay.addLayout(controls)
        self.glw.setMinimumSize(120, 120)
        lay.addWidget(self.glw, 1)
        lay.addWidget(self.hover)

        self._zoomed = False  # the user zoomed or panned: keep the view when the axes change
        self.vb.sigRangeChangedManually.connect(lambda *_: setattr(self, "_zoomed", True))
        self.glw.scene().sigMouseClicked.connect(self._clicked)
        self.glw.scene().sigMouseMoved.connect(self._moved)

    # ------------------------------------------------------------ the running state
    _state: Any = None
    _design: Any = None

    def follow(self, state: Any, design_matrix: Any) -> None:
        """Read ``state`` (a ``RunningState``); ``design_matrix()`` gives ``W_0``."""
        self._state, self._design = state, design_matrix
        state.changed.connect(self._on_state)

    def _on_state(self) -> None:
        st = self._state
        if st.matrix is None:
            self.set_matrix(self._design(), None, 0)  # design time: W_0
        elif self.t is None or (st.t is not None and self.t < st.t and not self.isVisible()):
            self._stale = True  # drawn when shown (the inspector draws a visible view)

    _stale = False

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        st = self._state
        if st is not None and st.matrix is not None and (self._stale or self.t is None):
            self._stale = False
            if st.t is None or self.t is None or self.t < st.t:
                self.set_matrix(st.matrix, None, st.t)

    # ------------------------------------------------------------ data
    def set_matrix(
        self, w: Mapping[str, Any], prev: Mapping[str, Any] | None = None, t: int | None = None
    ) -> None:
        """Show ``w`` (``W_t``); ``prev`` (``W_{t-1}``) gives the changes to mark."""
        entries = matrix_entries(w)
        changes = matrix_diff(prev, w) if prev is not None else []
        if entries == self.entries and changes == self.changes and self.t is not None:
            # the same matrix (a network that does not rewrite itself): no re-render
            self.t = t
            self.info.setText(self._info(t, len(self.rows), len(self.cols), len(entries), self._m, changes))
            return
        keys: Iterable[tuple[Port, Port]] = list(entries) + [
            (c.to, c.frm) for c in changes if c.kind == "removed"
        ]
        rows = sorted({k[0] for k in keys})
        cols = sorted({k[1] for k in keys})
        if rows != self.rows or cols != self.cols:
            self._set_axes(rows, cols)
        vals = np.zeros((len(rows), len(cols)))
        ri, ci = self._row_index, self._col_index
        for (to, frm), x in entries.items():
            vals[ri[to], ci[frm]] = float(x.detach().abs().max()) if is_tensor(x) else x
        self.values, self.entries, self.changes, self.t = vals, entries, changes, t
        finite = np.abs(vals[np.isfinite(vals)])
        m = float(finite.max()) if finite.size else 1.0
        m = m or 1.0
        self.image.setImage(vals, levels=(-m, m), autoLevels=False)
        self.image.setRect(QtCore.QRectF(-0.5, -0.5, max(len(cols), 1), max(len(rows), 1)))
        self._draw_marks()
        self._m = m
        self.info.setText(self._info(t, len(rows), len(cols), len(entries), m, changes))
        if self.highlighted is not None:
            self.highlight(*self.highlighted)

    _m = 1.0

    @staticmethod
    def _info(t: int | None, nr: int, nc: int, nw: int, m: float, changes: list[Change]) -> str:
        counts = {k: sum(1 for c in changes if c.kind == k) for k in CHANGE_COLORS}
        step = f"W at t = {t}: " if t is not None else ""
        return (
            f"{step}{nr} x {nc}, {nw} weights, |w| <= {number(m)}; "
            f"last step +{counts['added']} -{counts['removed']} ~{counts['changed']}"
        )

    def _set_axes(self, rows: list[Port], cols: list[Port]) -> None:
        first = not self.rows and not self.cols
        self.rows, self.cols = rows, cols
        self._row_index = {p: i for i, p in enumerate(rows)}
        self._col_index = {p: i for i, p in enumerate(cols)}
        rg, cg = _groups(rows), _groups(cols)
        self.left.set_labels([((a + b) / 2, lbl) for lbl, a, b in rg])
        self.right.set_labels([(float(i), p[2]) for i, p in enumerate(rows)])
        # columns are narrow: the neuron's name only (the hover line gives the full path)
        self.top.set_labels([((a + b) / 2, lbl.partition("/")[2] or lbl) for lbl, a, b in cg])
        self.bottom.set_labels([(float(i), p[2]) for i, p in enumerate(cols)])
        nr, nc = max(len(rows), 1), max(len(cols), 1)
        xs: list[float] = []
        ys: list[float] = []
        for _, a, _b in rg[1:]:
            xs += [-0.5, nc - 0.5]
            ys += [a - 0.5, a - 0.5]
        for _, a, _b in cg[1:]:
            xs += [a - 0.5, a - 0.5]
            ys += [-0.5, nr - 0.5]
        self.grid.setData(np.array(xs, dtype=float), np.array(ys, dtype=float))
        self.vb.setLimits(xMin=-0.5 - nc, xMax=2 * nc, yMin=-0.5 - nr, yMax=2 * nr)
        if first or not self._zoomed:
            self.fit()

    def fit(self) -> None:
        self._zoomed = False
        self.vb.setRange(
            xRange=(-0.5, max(len(self.cols), 1) - 0.5),
            yRange=(-0.5, max(len(self.rows), 1) - 0.5),
            padding=0,
        )

    def _draw_marks(self) -> None:
        if not self.mark_changes.isChecked() or not self.changes:
            self.marks.setData([], [])
            return
        spots = []
        for c in self.changes:
            r, k = self._row_index.get(c.to), self._col_index.get(c.frm)
            if r is None or k is None:
                continue
            spots.append({"pos": (k, r), "pen": pg.mkPen(CHANGE_COLORS[c.kind], width=3, cosmetic=True)})
        self.marks.setData(spots)

    # ------------------------------------------------------------ cells
    def cell(self, to: Port, frm: Port) -> tuple[int, int] | None:
        r, c = self._row_index.get(tuple(to)), self._col_index.get(tuple(frm))  # type: ignore[arg-type]
        return None if r is None or c is None else (r, c)

    def value(self, to: Port, frm: Port) -> float:
        rc = self.cell(to, frm)
        return 0.0 if rc is None else float(self.values[rc])

    def cell_at(self, scene_pos: QtCore.QPointF) -> tuple[Port, Port] | None:
        if not self.vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.vb.mapSceneToView(scene_pos)
        r, c = int(round(p.y())), int(round(p.x()))
        if 0 <= r < len(self.rows) and 0 <= c < len(self.cols):
            return self.rows[r], self.cols[c]
        return None

    def select_cell(self, to: Port, frm: Port) -> None:
        """As a click on the cell: outline it and emit ``cellSelected``."""
        self.highlight(to, frm)
        self.cellSelected.emit(tuple(to), tuple(frm))

    def _clicked(self, ev: Any) -> None:
        hit = self.cell_at(ev.scenePos())
        if hit is not None:
            self.select_cell(*hit)

    def _moved(self, pos: QtCore.QPointF) -> None:
        hit = self.cell_at(pos)
        if hit is None:
            self.hover.setText(" ")
            return
        to, frm = hit
        w = self.entries.get((to, frm))
        self.hover.setText(f" {'/'.join(frm)} -> {'/'.join(to)}: {number(w) if w is not None else 'no wire'}")

    @QtCore.Slot(tuple, tuple)
    def highlight(self, to: Port, frm: Port) -> None:
        """Outline the cell of the wire ``frm -> to`` (from a wire selected on the canvas)."""
        self.highlighted = (tuple(to), tuple(frm))  # type: ignore[assignment]
        rc = self.cell(to, frm)
        if rc is None:
            self.selected.setVisible(False)
            return
        r, c = rc
        self.selected.setRect(QtCore.QRectF(c - 0.5, r - 0.5, 1, 1))
        self.selected.setVisible(True)

    def clear_highlight(self) -> None:
        self.highlighted = None
        self.selected.setVisible(False)

    def pixel_color(self, to: Port, frm: Port) -> QtGui.QColor:
        """The color drawn for a cell (for tests): grab and sample its center."""
        rc = self.cell(to, frm)
        assert rc is not None
        r, c = rc
        scene = self.vb.mapViewToScene(QtCore.QPointF(c, r))
        view_pt = self.glw.mapFromScene(scene)
        img = self.glw.grab().toImage()
        ratio = img.devicePixelRatio()
        return img.pixelColor(int(view_pt.x() * ratio), int(view_pt.y() * ratio))
