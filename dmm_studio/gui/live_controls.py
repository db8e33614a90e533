"""The Live panel: the controls of the live sources (mute and bypass are
``modes_look``; ``install`` adds both, as the studio does).

* **The Live panel** (View -> Live): a control for every live source of the
  design (``dmm_studio_nodes.live``): a slider (``live.slider``), a button
  (``live.button``), an XY pad (``live.xy``) and a text box
  (``live.text``). What a control sets for good is a param, an undoable
  edit (one per gesture: ``commands.LiveParams`` merges a drag), which the
  studio sends to the running machine like any param edit; what happens
  once (a press, a click, the tokens of a text) is a param for one step
  (``Runner.set_param_once``), not an edit.
"""

from __future__ import annotations

import itertools
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ..network import Connections
from . import commands as cmd
from . import modes_look

NeuronId = tuple[str, str]
LIVE_TYPES = ("live.slider", "live.button", "live.xy", "live.text")

_gestures = itertools.count(1)


# ------------------------------------------------------------------ the Live panel


def _num(v: Any, default: float) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else default


def _clean(x: float) -> float:
    """A value as a file shows it: 4 decimals (a slider's steps are finer than that)."""
    return round(float(x), 4)


class XYPad(QWidget):
    """A square pad: drag to set (x, y) in 0..1 (y up), click for a click.

    Signals: ``moved(x, y, gesture)`` while dragging (one gesture from press
    to release), ``clicked(x, y)`` at each press."""

    moved = Signal(float, float, int)
    clicked = Signal(float, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(150, 150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.xy = (0.5, 0.5)
        self.clicks: list[tuple[float, float]] = []
        self._gesture = 0
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("drag: the pad's position (pos); click: a point for one step (click)")

    def heightForWidth(self, w: int) -> int:  # noqa: N802 (Qt's name)
        return w

    def _square(self) -> QRectF:
        side = min(self.width(), self.height()) - 2
        return QRectF((self.width() - side) / 2, 1, side, side)

    def _at(self, pos: QPointF) -> tuple[float, float]:
        sq = self._square()
        x = min(1.0, max(0.0, (pos.x() - sq.left()) / sq.width()))
        y = min(1.0, max(0.0, 1.0 - (pos.y() - sq.top()) / sq.height()))
        return _clean(x), _clean(y)

    def _to_screen(self, x: float, y: float) -> QPointF:
        sq = self._square()
        return QPointF(sq.left() + x * sq.width(), sq.top() + (1 - y) * sq.height())

    def set_xy(self, x: float, y: float) -> None:
        self.xy = (x, y)
        self.update()

    def mousePressEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        if event.button() != Qt.MouseButton.LeftButton:
            return
        self._gesture = next(_gestures)
        x, y = self._at(event.position())
        self.clicks = (self.clicks + [(x, y)])[-20:]
        self.set_xy(x, y)
        self.clicked.emit(x, y)
        self.moved.emit(x, y, self._gesture)

    def mouseMoveEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        if not (event.buttons() & Qt.MouseButton.LeftButton):
            return
        x, y = self._at(event.position())
        if (x, y) != self.xy:
            self.set_xy(x, y)
            self.moved.emit(x, y, self._gesture)

    def paintEvent(self, _event: Any) -> None:  # noqa: N802 (Qt's name)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        sq = self._square()
        p.fillRect(sq, QColor(32, 34, 40))
        p.setPen(QPen(QColor(70, 74, 84), 1))
        for k in range(1, 4):
            p.drawLine(
                QPointF(sq.left() + sq.width() * k / 4, sq.top()),
                QPointF(sq.left() + sq.width() * k / 4, sq.bottom()),
            )
            p.drawLine(
                QPointF(sq.left(), sq.top() + sq.height() * k / 4),
                QPointF(sq.right(), sq.top() + sq.height() * k / 4),
            )
        p.setPen(QPen(QColor(110, 116, 130), 1))
        p.drawRect(sq)
        p.setPen(Qt.PenStyle.NoPen)
        for k, (cx, cy) in enumerate(self.clicks):
            p.setBrush(QColor(240, 190, 90, 60 + 190 * (k + 1) // len(self.clicks)))
            p.drawEllipse(self._to_screen(cx, cy), 3.5, 3.5)
        c = self._to_screen(*self.xy)
        p.setPen(QPen(QColor(120, 200, 255, 120), 1))
        p.drawLine(QPointF(sq.left(), c.y()), QPointF(sq.right(), c.y()))
        p.drawLine(QPointF(c.x(), sq.top()), QPointF(c.x(), sq.bottom()))
        p.setPen(QPen(QColor(255, 255, 255), 1.5))
        p.setBrush(QColor(120, 200, 255))
        p.drawEllipse(c, 6, 6)
        p.end()


class LiveControl(QWidget):
    """The control of one live source: a title and the widgets its type takes."""

    def __init__(self, panel: LivePanel, nid: NeuronId) -> None:
        super().__init__()
        self.panel, self.nid = panel, nid
        self._updating = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 8)
        title = QLabel(f"<b>{nid[1]}</b> <span style='color:#999'>{nid[0]}</span>")
        outer.addWidget(title)
        self.body = QFormLayout()
        self.body.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(self.body)
        getattr(self, "_build_" + nid[0].split(".", 1)[1])()
        self.sync()

    # -- reading the design
    def param(self, name: str) -> Any:
        t = self.panel.doc.registry.get(self.nid[0])
        return self.panel.doc.network.param(*self.nid, name, t.params.get(name))

    # -- widgets per type
    def _build_slider(self) -> None:
        row = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 1000)
        self.box = QDoubleSpinBox()
        self.box.setDecimals(4)
        self.box.setRange(-1e12, 1e12)
        self.box.setKeyboardTracking(False)
        row.addWidget(self.slider, 1)
        row.addWidget(self.box)
        self.body.addRow(row)
        self._slider_gesture = 0
        self.slider.sliderPressed.connect(self._new_gesture)
        self.slider.valueChanged.connect(self._slider_moved)
        self.box.valueChanged.connect(lambda v: self._play({"value": _clean(v)}, next(_gestures)))

    def _new_gesture(self) -> None:
        self._slider_gesture = next(_gestures)

    def _range(self) -> tuple[float, float]:
        lo, hi = _num(self.param("min"), 0.0), _num(self.param("max"), 1.0)
        return (lo, hi) if hi > lo else (lo, lo + 1.0)

    def _slider_moved(self, k: int) -> None:
        if self._updating:
            return
        lo, hi = self._range()
        if not self.slider.isSliderDown():
            self._new_gesture()  # a key or a click on the groove: one step each
        self._play({"value": _clean(lo + (hi - lo) * k / 1000)}, self._slider_gesture)

    def _build_button(self) -> None:
        self.button = QPushButton()
        self.button.setMinimumHeight(32)
        self.button.pressed.connect(lambda: self.panel.pulse(self.nid, "pulse", 1))
        self.body.addRow(self.button)

    def _build_xy(self) -> None:
        self.pad = XYPad()
        self.pad.moved.connect(lambda x, y, g: self._play({"x": x, "y": y}, g))
        self.pad.clicked.connect(lambda x, y: self.panel.pulse(self.nid, "click", {"x": x, "y": y}))
        self.body.addRow(self.pad)
        self.xy_label = QLabel()
        self.body.addRow(self.xy_label)

    def _build_text(self) -> None:
        self.line = QLineEdit()
        self.line.setPlaceholderText("type, then Enter: one token a step")
        self.unit = QComboBox()
        self.unit.addItems(["word", "char"])
        self.send = QPushButton("Send")
        row = QHBoxLayout()
        row.addWidget(self.line, 1)
        row.addWidget(self.unit)
        row.addWidget(self.send)
        self.body.addRow(row)
        self.line.editingFinished.connect(self._text_edited)
        self.line.returnPressed.connect(self._send_text)
        self.send.clicked.connect(self._send_text)
        self.unit.currentTextChanged.connect(
            lambda u: None if self._updating else self._play({"unit": u}, next(_gestures))
        )

    def _text_edited(self) -> None:
        if not self._updating and self.line.text() != self.param("text"):
            self._play({"text": self.line.text()}, next(_gestures))

    def _send_text(self) -> None:
        from dmm_studio_nodes.live import tokens  # the pack is there: its type is on the canvas

        self._text_edited()
        for tok in tokens(self.line.text(), self.unit.currentText()):
            self.panel.pulse(self.nid, "token", tok)

    # -- both ways
    def _play(self, values: dict[str, Any], gesture: int) -> None:
        if self._updating:
            return
        self.panel.play(self.nid, values, gesture)

    def sync(self) -> None:
        """Show the design's params."""
        self._updating = True
        try:
            kind = self.nid[0]
            if kind == "live.slider":
                lo, hi = self._range()
                v = _num(self.param("value"), 0.0)
                self.slider.setValue(round(1000 * min(1.0, max(0.0, (v - lo) / (hi - lo)))))
                self.box.setValue(v)
                self.slider.setToolTip(f"value in {lo:g}..{hi:g} (the params min and max)")
            elif kind == "live.button":
                self.button.setText(str(self.param("label")))
            elif kind == "live.xy":
                x, y = _num(self.param("x"), 0.5), _num(self.param("y"), 0.5)
                self.pad.set_xy(x, y)
                self.xy_label.setText(f"x = {x:.3f}   y = {y:.3f}")
            elif kind == "live.text":
                if not self.line.hasFocus():
                    self.line.setText(str(self.param("text")))
                self.unit.setCurrentText(str(self.param("unit")))
        finally:
            self._updating = False


class LivePanel(QScrollArea):
    """The Live dock: a control for every live source of the design."""

    def __init__(self, window: Any) -> None:
        super().__init__()
        self.window = window
        self.doc = window.doc
        self.controls: dict[NeuronId, LiveControl] = {}
        self.pending: list[tuple[NeuronId, str, Any]] = []  # pulses before the first step
        self.setWidgetResizable(True)
        self.inner = QWidget()
        self.column = QVBoxLayout(self.inner)
        self.column.setContentsMargins(4, 4, 4, 4)
        self.empty = QLabel(
            "No live sources in this network.\nAdd live.slider, live.button, live.xy or live.text\n"
            "from the Neurons panel and wire them in."
        )
        self.empty.setStyleSheet("color: #999")
        self.column.addWidget(self.empty)
        self.column.addStretch(1)
        self.setWidget(self.inner)
        self._model = Connections(
            {
                "neuronAdded": lambda _nid: self.rebuild(),
                "neuronRemoved": lambda _nid: self.rebuild(),
                "neuronRenamed": lambda *_a: self.rebuild(),
                "paramChanged": self._on_param,
            }
        )
        self.doc.replaced.connect(self.rebuild)
        self.rebuild()

    def live_neurons(self) -> list[NeuronId]:
        return sorted(nid for nid in self.doc.network.neurons() if nid[0] in LIVE_TYPES)

    def rebuild(self) -> None:
        if self._model.network is not self.doc.network:
            self.pending.clear()  # another design
        self._model.bind(self.doc.network)
        want = self.live_neurons()
        if want == list(self.controls):
            for c in self.controls.values():
                c.sync()
            return
        for c in self.controls.values():
            c.setParent(None)
            c.deleteLater()
        self.controls = {}
        for k, nid in enumerate(want):
            c = LiveControl(self, nid)
            self.controls[nid] = c
            self.column.insertWidget(k, c)
        self.empty.setVisible(not want)

    def _on_param(self, nid: Any, _param: str, _old: Any, _new: Any) -> None:
        c = self.controls.get(tuple(nid))  # type: ignore[arg-type]
        if c is not None:
            c.sync()

    # -- what controls do
    def play(self, nid: NeuronId, values: dict[str, Any], gesture: int) -> None:
        """Set params of a live source: an undoable edit (a gesture's moves merge);
        while running the studio sends it to the machine like any param edit."""
        net = self.doc.network
        t = self.doc.registry.get(nid[0])
        changed = {p: v for p, v in values.items() if net.param(*nid, p, t.params.get(p)) != v}
        if changed:
            self.doc.undo_stack.push(cmd.LiveParams(self.doc, nid, changed, gesture))

    def pulse(self, nid: NeuronId, param: str, value: Any) -> None:
        """A param for one step of the running machine (a press, a click, a token):
        not an edit of the design. Before the first step (or after Reset) it
        waits here for the machine that step loads (``flush``)."""
        if self.window.live:
            self.window.runner.set_param_once(tuple(nid), param, value)
        else:
            self.pending.append((tuple(nid), param, value))

    def flush(self) -> None:
        """Send the values that wait for the first step (the machine is loaded)."""
        pending, self.pending = self.pending, []
        for nid, param, value in pending:
            self.window.runner.set_param_once(nid, param, value)


# ------------------------------------------------------------------ installing


def install(window: Any) -> LivePanel:
    """Mute and bypass (``modes_look.install``) and the Live dock."""
    doc = window.doc
    modes_look.install(window)
    panel = LivePanel(window)
    window.live_panel = panel
    # pulses played before the first step go in once that step has loaded its machine
    # (the window's own method, wrapped on this instance: step and run call it first)
    load = window._ensure_loaded

    def ensure_loaded() -> None:
        load()
        panel.flush()

    window._ensure_loaded = ensure_loaded
    dock = window.add_dock("Live", panel, Qt.DockWidgetArea.RightDockWidgetArea)
    panel.dock = dock  # type: ignore[attr-defined]
    if not panel.controls:
        dock.hide()
    doc.replaced.connect(lambda: dock.setVisible(bool(panel.controls)) if panel.controls else None)
    return panel
