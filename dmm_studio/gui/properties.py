"""The properties panel: name, params and initial outputs of the selected
neuron (V-values as JSON, validated), its incoming wires with their weights,
or the weight of the selected wire. Every change goes through the Document."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .. import vvalue as vv
from ..fileformat import state_to_json
from ..network import SELF_ID, Connections, Port
from .canvas.look import format_weight, format_weight_exact
from .document import Document
from .typehelp import doc_text

NeuronId = tuple[str, str]


class PropertiesPanel(QWidget):
    def __init__(self, doc: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.nid: NeuronId | None = None
        self.wire: tuple[Port, Port] | None = None
        # while running: the weight of a wire in W_t (None: not running); the main window sets it
        self.running_weight: Callable[[tuple[Port, Port]], Any] | None = None
        self._running_shown: Any = None
        self._filling = False
        self._pending = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.title = QLabel("Nothing selected")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(self.title)
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.form.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.form_host)
        self.name_edit = QLineEdit()
        self.weight_edit = QLineEdit()
        self.param_edits: dict[str, QLineEdit] = {}
        lay.addWidget(QLabel("Initial outputs (y_0, JSON V-values):"))
        self.outputs_edit = QPlainTextEdit()
        self.outputs_edit.setObjectName("outputs")
        self.outputs_edit.setMaximumHeight(160)
        lay.addWidget(self.outputs_edit)
        self.apply_outputs = QPushButton("Apply outputs")
        self.apply_outputs.clicked.connect(self.commit_outputs)
        lay.addWidget(self.apply_outputs)
        self.error = QLabel("")
        self.error.setObjectName("error")
        self.error.setStyleSheet("color: #e06060")
        self.error.setWordWrap(True)
        lay.addWidget(self.error)
        lay.addWidget(QLabel("Incoming wires:"))
        self.wires = QTableWidget(0, 2)
        self.wires.setHorizontalHeaderLabels(["from -> input", "weight"])
        head = self.wires.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.wires.verticalHeader().setVisible(False)
        self.wires.setWordWrap(False)
        self.wires.setTextElideMode(Qt.TextElideMode.ElideLeft)
        self.wires.itemChanged.connect(self._wire_item_changed)
        lay.addWidget(self.wires)
        self._wire_rows: list[tuple[Port, Port]] = []
        # the model's signals: one handler each, moved to a new network on replaced
        self._model = Connections(
            {
                "weightChanged": self._refresh_later,
                "outputChanged": self._refresh_later,
                "paramChanged": self._refresh_later,
                "neuronAdded": self._refresh_later,
                "neuronRemoved": self._on_removed,
                "neuronRenamed": self._on_renamed,
                "portsChanged": self._refresh_later,
            }
        )
        self._model.bind(doc.network)
        doc.replaced.connect(self._on_replaced)
        self.show_neuron(None)

    def _on_replaced(self) -> None:
        self._model.bind(self.doc.network)
        self.show_neuron(None)

    def _on_renamed(self, type: str, old: str, new: str) -> None:
        if self.nid == (type, old):
            self.nid = (type, new)
        self._refresh_later()

    def _on_removed(self, nid: NeuronId) -> None:
        if self.nid == nid:
            self.nid = None
        self._refresh_later()

    def _refresh_later(self, *_: Any) -> None:
        if not self._pending:
            # later, not now: the widget that made the edit may be the one refreshed
            self._pending = True
            QTimer.singleShot(0, self._deferred_refresh)

    def _deferred_refresh(self) -> None:
        self._pending = False
        self.refresh()

    # ------------------------------------------------------------- showing
    def show_selection(self, ids: list[NeuronId]) -> None:
        self.show_neuron(ids[0] if len(ids) == 1 else None)

    def show_runtime(self, nid: NeuronId | None) -> None:
        """A run-time neuron (made by the network while running): what it is, nothing to edit."""
        if nid is None:
            return
        self.nid = None
        self.wire = None
        self.refresh()
        self.title.setText(
            f"{nid[0]}/{nid[1]}: a run-time neuron. The network made it while running "
            "(through Self's delta); it is not in the design, and Reset takes it away. "
            "Delete removes it from the running matrix."
        )

    def show_wire(self, key: tuple[Port, Port] | None) -> None:
        if key is None:
            if self.wire is not None and self.nid is None:
                self.wire = None
                self.refresh()
            return
        self.nid = None
        self.wire = key
        self.refresh()

    def follow_running(self) -> None:
        """After a frame: refresh a shown wire whose running weight changed (one lookup)."""
        if self.wire is None or self.nid is not None or self.running_weight is None:
            return
        if self.running_weight(self.wire) != self._running_shown:
            self.refresh()

    def show_neuron(self, nid: NeuronId | None) -> None:
        self.nid = nid
        if nid is not None:
            self.wire = None
        self.refresh()

    def refresh(self) -> None:
        self._filling = True
        try:
            self._refresh()
        finally:
            self._filling = False

    def _refresh(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)  # deletes the row's widgets
        self.param_edits = {}
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("name")
        self.name_edit.editingFinished.connect(self._commit_name)
        self.weight_edit = QLineEdit()
        self.weight_edit.setObjectName("weight")
        self.weight_edit.editingFinished.connect(self._commit_wire_weight)
        self.error.setText("")
        net = self.doc.network
        if self.wire is not None and self.nid is None:
            to, frm = self.wire
            self.title.setText(f"Wire {frm[0]}/{frm[1]}/{frm[2]} -> {to[0]}/{to[1]}/{to[2]}")
            self.weight_edit.setText(format_weight_exact(net.weight(to, frm)))
            self.form.addRow("weight", self.weight_edit)
            now = self.running_weight(self.wire) if self.running_weight is not None else None
            self._running_shown = now
            if now is not None and now != net.weight(to, frm):
                # the canvas draws W_t's weight (amber): say where it comes from
                running = QLabel(
                    f"{format_weight(now)} in the running matrix W_t (the design above: {format_weight(net.weight(to, frm))})"
                )
                running.setObjectName("running-weight")
                running.setWordWrap(True)
                self.form.addRow("running", running)
            self._set_neuron_widgets(False)
            return
        nid = self.nid
        if nid is None or not net.has_neuron(*nid):
            self.nid = None
            self.title.setText("Nothing selected (select one neuron or one wire)")
            self._set_neuron_widgets(False)
            return
        t = self.doc.ntype(nid[0])
        self.title.setText(f"{nid[0]}/{nid[1]}\n{doc_text(t)}")
        self.name_edit.setText(nid[1])
        self.name_edit.setEnabled(nid != SELF_ID)
        self.form.addRow("name", self.name_edit)
        for p, default in t.params.items():
            e = QLineEdit(json.dumps(net.param(*nid, p, default)))
            e.setObjectName(f"param:{p}")
            e.editingFinished.connect(lambda p=p, e=e: self._commit_param(p, e))
            self.param_edits[p] = e
            self.form.addRow(p, e)
        self._set_neuron_widgets(True)
        outs = (
            state_to_json({nid[0]: {nid[1]: net.outputs.get(nid[0], {}).get(nid[1], {})}})
            .get(nid[0], {})
            .get(nid[1], {})
        )
        self.outputs_edit.setPlainText(json.dumps(outs, indent=1) if outs else "{}")
        self._wire_rows = [(to, frm) for to, frm, _w in net.wires() if to[:2] == nid]
        self.wires.setRowCount(len(self._wire_rows))
        for r, (to, frm) in enumerate(self._wire_rows):
            a = QTableWidgetItem(f"{frm[0]}/{frm[1]}/{frm[2]} -> {to[2]}")
            a.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.wires.setItem(r, 0, a)
            self.wires.setItem(r, 1, QTableWidgetItem(format_weight_exact(net.weight(to, frm))))

    def _set_neuron_widgets(self, on: bool) -> None:
        for w in (self.outputs_edit, self.apply_outputs, self.wires):
            w.setEnabled(on)
        if not on:
            self.outputs_edit.setPlainText("")
            self.wires.setRowCount(0)
            self._wire_rows = []

    # ------------------------------------------------------------- committing
    def _commit_name(self) -> None:
        if self._filling or self.nid is None:
            return
        new = self.name_edit.text()
        if new != self.nid[1] and not self.doc.rename_neuron(self.nid, new):
            self.error.setText(f"cannot rename to {new!r}")
            self.name_edit.setText(self.nid[1])

    def _commit_param(self, p: str, e: QLineEdit) -> None:
        if self._filling or self.nid is None:
            return
        try:
            value = json.loads(e.text())
        except ValueError as ex:
            self.error.setText(f"param {p}: not JSON ({ex})")
            return
        self.doc.set_param(self.nid, p, value)

    def commit_outputs(self) -> bool:
        """Validate the JSON of the initial outputs and apply it (one undo step)."""
        if self.nid is None:
            return False
        try:
            data = json.loads(self.outputs_edit.toPlainText() or "{}")
        except ValueError as ex:
            self.error.setText(f"not JSON: {ex}")
            return False
        if not isinstance(data, dict):
            self.error.setText("the initial outputs are an object {output: V-value}")
            return False
        t = self.doc.ntype(self.nid[0])
        values = {}
        for o, v in data.items():
            if not t.has_output(o):
                self.error.setText(f"{self.nid[0]} has no output {o!r} (its outputs: {', '.join(t.outputs)})")
                return False
            try:
                values[o] = vv.from_json(v)
            except vv.VValueError as ex:
                self.error.setText(f"output {o}: {ex}")
                return False
        if self.nid == SELF_ID and "network_matrix" not in values:
            self.error.setText(
                "Self's network_matrix cannot be cleared here (the network would halt at once)"
            )
            return False
        ok = self.doc.set_outputs(self.nid, values)
        if ok:
            self.error.setText("")
        return ok

    def _commit_wire_weight(self) -> None:
        if self._filling or self.wire is None:
            return
        w = _parse_weight(self.weight_edit.text())
        if w is None:
            self.error.setText(f"a weight is a number, not {self.weight_edit.text()!r}")
            return
        self.doc.set_weight(*self.wire, w)

    def _wire_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != 1 or item.row() >= len(self._wire_rows):
            return
        w = _parse_weight(item.text())
        if w is None:
            self.error.setText(f"a weight is a number, not {item.text()!r}")
            return
        to, frm = self._wire_rows[item.row()]
        self.doc.set_weight(to, frm, w)


def _parse_weight(text: str) -> float | int | None:
    try:
        w = float(text)
    except ValueError:
        return None
    if w != w or w in (float("inf"), float("-inf")):
        return None
    return int(w) if w.is_integer() and "." not in text and "e" not in text.lower() else w
