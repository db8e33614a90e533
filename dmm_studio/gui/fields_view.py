"""Modulating fields in the studio: a heat map over the canvas and an editor.

``install(window)`` adds a "Fields" dock (the editor) and a heat map drawn
behind the nodes of the canvas. The heat map shows ``strength * value`` of
the enabled fields (or of the selected one only, when "only the selected
field" is checked), summed, at the time of the last frame the runner sent, so it moves
as the network runs: red where the gain is above 1, blue where it is below.

The editor lists the network's fields; Add / Remove, and a form for the
selected one (name, source kind and its keys as JSON, strength, targets,
covered types, enabled). Apply validates the whole list with
``dmm_studio.fields.validate_fields`` and shows the error, naming the field,
when it is wrong; a valid list replaces the design's fields through the
undo stack and goes to the running machine at once.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QAction, QImage, QPixmap, QTransform, QUndoCommand
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGraphicsPixmapItem,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from .. import fields as fl

MARGIN = 300.0
GRID = 96  # cells across the heat map


# ------------------------------------------------------------------ heat map


def heat_values(
    fields: list[dict[str, Any]],
    layout: dict[str, Any],
    t: float,
    rect: QRectF,
    state: dict[str, Any] | None = None,
    cols: int = GRID,
) -> np.ndarray:
    """``sum(strength * value)`` of the enabled fields on a grid over ``rect``
    (rows x cols, row 0 at the top)."""
    rows = max(4, int(round(cols * rect.height() / max(rect.width(), 1.0))))
    xs = rect.left() + (np.arange(cols) + 0.5) * rect.width() / cols
    ys = rect.top() + (np.arange(rows) + 0.5) * rect.height() / rows
    gx, gy = np.meshgrid(xs, ys)
    pts = np.stack([gx.ravel(), gy.ravel()], axis=1)
    positions = fl.positions_of(layout)

    def read_output(f: str, n: str, o: str) -> Any:
        v = ((state or {}).get(f, {}).get(n, {}) or {}).get(o)
        return v if v else {}

    total = np.zeros(len(pts))
    for entry in fields:
        if not entry.get("enabled", True):
            continue
        total += float(entry.get("strength", 1.0)) * fl.field_value(entry, pts, t, positions, read_output)
    return total.reshape(rows, cols)


def heat_image(values: np.ndarray, scale: float | None = None) -> QImage:
    """A diverging colour map: red above 0, blue below, transparent at 0; full
    colour at ``scale`` (default: 1, or the largest value when it is larger),
    so a gain of 1 +- 0.5 shows at half strength."""
    s = scale or max(1.0, float(np.abs(values).max()))
    v = np.clip(values / s, -1.0, 1.0)
    rgba = np.zeros(values.shape + (4,), dtype=np.uint8)
    pos = v > 0
    rgba[..., 0] = np.where(pos, 230, 40)
    rgba[..., 1] = np.where(pos, 70, 110)
    rgba[..., 2] = np.where(pos, 50, 235)
    rgba[..., 3] = (np.abs(v) * 150).astype(np.uint8)
    rgba = np.ascontiguousarray(rgba)
    h, w = values.shape
    return QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()


class FieldHeatMap(QGraphicsPixmapItem):
    """The fields as a heat map behind the canvas' nodes."""

    def __init__(self) -> None:
        super().__init__()
        self.setZValue(-1000)
        self.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.values: np.ndarray | None = None
        self.t = 0.0

    def render(
        self, fields: list[dict[str, Any]], layout: dict[str, Any], t: float, state: dict[str, Any] | None
    ) -> None:
        self.t = t
        fields = [f for f in fields if f.get("enabled", True)]
        pts = list(fl.positions_of(layout).values())
        if not fields or not pts:
            self.values = None
            self.setPixmap(QPixmap())
            return
        a = np.array(pts)
        rect = QRectF(
            a[:, 0].min() - MARGIN,
            a[:, 1].min() - MARGIN,
            np.ptp(a[:, 0]) + 2 * MARGIN,
            np.ptp(a[:, 1]) + 2 * MARGIN,
        )
        self.values = heat_values(fields, layout, t, rect, state)
        rows, cols = self.values.shape
        self.setPixmap(QPixmap.fromImage(heat_image(self.values)))
        self.setPos(rect.topLeft())
        self.setTransform(QTransform.fromScale(rect.width() / cols, rect.height() / rows))


# ------------------------------------------------------------------ editor


class SetFields(QUndoCommand):
    """Replace the design's fields list (undoable)."""

    def __init__(self, panel: FieldsPanel, old: list[Any], new: list[Any], text: str) -> None:
        super().__init__(text)
        self.panel, self.old, self.new = panel, copy.deepcopy(old), copy.deepcopy(new)

    def redo(self) -> None:
        self.panel.set_fields(self.new)

    def undo(self) -> None:
        self.panel.set_fields(self.old)


class FieldsPanel(QWidget):
    """The list of fields and a form for the selected one."""

    def __init__(self, window: Any) -> None:
        super().__init__()
        self.window_ = window
        self.heat = FieldHeatMap()
        self.state: dict[str, Any] | None = None
        self.t = 0.0

        self.list = QListWidget()
        self.add_button = QPushButton("Add")
        self.remove_button = QPushButton("Remove")
        self.name = QLineEdit()
        self.kind = QComboBox()
        self.kind.addItems(list(fl.SOURCE_KINDS))
        self.source = QPlainTextEdit()
        self.source.setMinimumHeight(90)
        self.strength = QDoubleSpinBox()
        self.strength.setRange(-100.0, 100.0)
        self.strength.setDecimals(3)
        self.strength.setSingleStep(0.1)
        self.targets = {k: QCheckBox(k) for k in fl.PLAIN_TARGETS}
        self.params = QLineEdit()
        self.params.setPlaceholderText("params, e.g. a, b")
        self.types = QLineEdit()
        self.types.setPlaceholderText("types covered (empty: all)")
        self.enabled = QCheckBox("enabled")
        self.apply_button = QPushButton("Apply")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d33")
        self.show_heat = QCheckBox("show heat map")
        self.show_heat.setChecked(True)
        self.only_selected = QCheckBox("only the selected field")

        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        targets = QHBoxLayout()
        for box in self.targets.values():
            targets.addWidget(box)
        form = QFormLayout()
        form.addRow("name", self.name)
        form.addRow("kind", self.kind)
        form.addRow("source", self.source)
        form.addRow("strength", self.strength)
        form.addRow("targets", targets)
        form.addRow("", self.params)
        form.addRow("covers", self.types)
        form.addRow("", self.enabled)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        layout.addLayout(form)
        layout.addWidget(self.apply_button)
        layout.addWidget(self.error)
        layout.addWidget(self.show_heat)
        layout.addWidget(self.only_selected)

        self.list.currentRowChanged.connect(self._show_row)
        self.add_button.clicked.connect(self.add_field)
        self.remove_button.clicked.connect(self.remove_field)
        self.apply_button.clicked.connect(self.apply)
        self.kind.activated.connect(self._kind_chosen)
        self.show_heat.toggled.connect(self.heat.setVisible)
        self.only_selected.toggled.connect(lambda _on: self.redraw())
        self.refresh()

    # -- the model
    @property
    def fields(self) -> list[dict[str, Any]]:
        return self.window_.doc.network.fields  # type: ignore[no-any-return]

    def set_fields(self, fields: list[Any]) -> None:
        """Put a (valid) list into the design and the running machine."""
        new = copy.deepcopy(fields)
        self.window_.doc.network.fields = new
        runner = getattr(self.window_, "runner", None)
        if runner is not None:
            runner.set_fields(new)
        if hasattr(self.window_, "dirty"):
            self.window_.dirty = True
        row = self.list.currentRow()
        self.refresh(row)

    def push(self, new: list[Any], text: str) -> None:
        self.window_.doc.undo_stack.push(SetFields(self, self.fields, new, text))

    # -- the view
    def refresh(self, row: int | None = None) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for f in self.fields:
            on = "" if f.get("enabled", True) else " (off)"
            self.list.addItem(f"{f.get('name', '?')}: {f.get('source', {}).get('kind', '?')}{on}")
        self.list.blockSignals(False)
        if self.fields:
            self.list.setCurrentRow(min(row if row is not None and row >= 0 else 0, len(self.fields) - 1))
            self._show_row(self.list.currentRow())
        else:
            self._show_row(-1)
        self.redraw()

    def _show_row(self, row: int) -> None:
        has = 0 <= row < len(self.fields)
        for w in (self.name, self.kind, self.source, self.strength, self.params, self.types, self.enabled):
            w.setEnabled(has)
        self.apply_button.setEnabled(has)
        self.remove_button.setEnabled(has)
        self.error.clear()
        if not has:
            # no field (another file opened, the last one removed): an empty form,
            # not the text of a field that is gone
            self.name.clear()
            self.source.clear()
            self.strength.setValue(0.0)
            for box in self.targets.values():
                box.setChecked(False)
            self.params.clear()
            self.types.clear()
            self.enabled.setChecked(False)
            return
        f = self.fields[row]
        self.name.setText(str(f.get("name", "")))
        src = f.get("source", {})
        self.kind.setCurrentText(str(src.get("kind", "constant")))
        self.source.setPlainText(json.dumps({k: v for k, v in src.items() if k != "kind"}))
        self.strength.setValue(float(f.get("strength", 1.0)))
        targets = f.get("targets", [])
        for k, box in self.targets.items():
            box.setChecked(k in targets)
        self.params.setText(", ".join(t[len("param:") :] for t in targets if t.startswith("param:")))
        self.types.setText(", ".join((f.get("covers") or {}).get("types", [])))
        self.enabled.setChecked(bool(f.get("enabled", True)))
        self.redraw()

    def _kind_chosen(self, _index: int) -> None:
        src = fl.source_defaults(self.kind.currentText())
        self.source.setPlainText(json.dumps({k: v for k, v in src.items() if k != "kind"}))

    def selected(self) -> int:
        return self.list.currentRow()

    # -- editing
    def form_entry(self) -> dict[str, Any]:
        """The selected field as the form shows it (raises ValueError on bad JSON)."""
        row = self.selected()
        old = self.fields[row] if 0 <= row < len(self.fields) else {}
        entry: dict[str, Any] = {"name": self.name.text().strip()}
        text = self.source.toPlainText().strip() or "{}"
        try:
            keys = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"field {entry['name']!r}: the source is not JSON ({e.msg})") from None
        if not isinstance(keys, dict):
            raise ValueError(f"field {entry['name']!r}: the source must be a JSON object")
        entry["source"] = {"kind": self.kind.currentText(), **{k: v for k, v in keys.items() if k != "kind"}}
        entry["strength"] = self.strength.value()
        targets = [k for k, box in self.targets.items() if box.isChecked()]
        targets += [f"param:{p.strip()}" for p in self.params.text().split(",") if p.strip()]
        entry["targets"] = targets
        covers = dict(old.get("covers") or {})
        types = [s.strip() for s in self.types.text().split(",") if s.strip()]
        if types:
            covers["types"] = types
        else:
            covers.pop("types", None)
        if covers:
            entry["covers"] = covers
        if not self.enabled.isChecked():
            entry["enabled"] = False
        return entry

    def apply(self) -> bool:
        row = self.selected()
        if not 0 <= row < len(self.fields):
            return False
        try:
            entry = self.form_entry()
            new = copy.deepcopy(self.fields)
            new[row] = entry
            fl.validate_fields(new)
        except ValueError as e:
            self.error.setText(str(e))
            return False
        self.error.clear()
        self.push(new, f"edit field {entry['name']}")
        return True

    def add_field(self) -> None:
        names = {f.get("name") for f in self.fields}
        i = len(self.fields) + 1
        while f"field {i}" in names:
            i += 1
        entry = {
            "name": f"field {i}",
            "source": fl.source_defaults("radial"),
            "strength": 0.5,
            "targets": ["outputs"],
        }
        entry["source"]["speed"] = 10.0
        self.push([*copy.deepcopy(self.fields), entry], f"add field {entry['name']}")
        self.list.setCurrentRow(len(self.fields) - 1)

    def remove_field(self) -> None:
        row = self.selected()
        if 0 <= row < len(self.fields):
            new = copy.deepcopy(self.fields)
            gone = new.pop(row)
            self.push(new, f"remove field {gone.get('name')}")

    # -- drawing
    def on_frame(self, frame: Any) -> None:
        self.t, self.state = float(frame.t), frame.state
        self.redraw()

    def redraw(self) -> None:
        row = self.selected()
        fields = self.fields
        shown = [fields[row]] if 0 <= row < len(fields) and self.only_selected.isChecked() else fields
        try:
            self.heat.render(shown, self.window_.doc.network.layout, self.t, self.state)
        except (ValueError, KeyError, TypeError) as e:  # a field that is not valid yet
            self.error.setText(str(e))

    def on_replaced(self) -> None:
        self.t, self.state = 0.0, None
        self.refresh()


def install(window: Any) -> FieldsPanel:
    """Add the Fields dock and the heat map to the main window."""
    panel = FieldsPanel(window)
    window.fields_panel = panel
    window.canvas.viewer.scene().addItem(panel.heat)
    # in a scroll area: the editor's ~500 px of rows would otherwise be the right
    # side's minimum height, and a window restored at 720 px grew past it
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(panel)
    dock = window.add_dock("Fields", scroll, Qt.DockWidgetArea.RightDockWidgetArea)
    panel.dock = dock  # type: ignore[attr-defined]
    window.runner.stepped.connect(panel.on_frame)
    window.doc.replaced.connect(panel.on_replaced)
    menu = getattr(window, "menus", {}).get("View")
    if menu is not None:
        act = QAction("Field &Heat Map", window)
        act.setCheckable(True)
        act.setChecked(True)
        act.toggled.connect(panel.show_heat.setChecked)
        panel.show_heat.toggled.connect(act.setChecked)
        menu.addAction(act)
        panel.heat_action = act  # type: ignore[attr-defined]
    return panel
