"""The history scrubber, the break conditions and the per-node cost table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6 import QtCore, QtWidgets

from ...breaks import (
    NONFINITE_ON_BY_DEFAULT,
    BreakHit,
    Breaks,
    MatrixBound,
    NonFinite,
    ProbeCondition,
    TopologyChange,
)
from ...history import Change, History
from ...matrix import NeuronId


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


class HistoryView(QtWidgets.QWidget):
    """A timeline over the kept steps: drag to show an old step everywhere;
    "Live" follows the run. Below, what the shown step changed in the matrix."""

    stepChosen = QtCore.Signal(object)  # int, or None for live
    capacityChanged = QtCore.Signal(int)

    def __init__(self, history: History, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = history
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setTracking(True)
        self.slider.valueChanged.connect(self._slid)
        self.live = QtWidgets.QPushButton("Live")
        self.live.setCheckable(True)
        self.live.setChecked(True)
        self.live.toggled.connect(self._live_toggled)
        self.capacity = QtWidgets.QSpinBox()
        self.capacity.setRange(1, 1_000_000)
        self.capacity.setValue(history.capacity)
        self.capacity.setPrefix("keep ")
        self.capacity.setSuffix(" steps")
        self.capacity.editingFinished.connect(lambda: self._set_capacity(self.capacity.value()))
        self.label = QtWidgets.QLabel()
        self.changes = QtWidgets.QListWidget()
        self.changes.setAlternatingRowColors(True)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.live)
        row.addWidget(self.slider, 1)
        row.addWidget(self.capacity)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(row)
        lay.addWidget(self.label)
        lay.addWidget(self.changes, 1)
        self.shown: int | None = None  # None: live
        self._span: tuple[int | None, int | None] = (None, None)
        self._listed: int | None = None
        self._bytes_at = 0.0
        self._bytes = 0

    def _set_capacity(self, k: int) -> None:
        self.history.capacity = k
        self.capacityChanged.emit(k)
        self.refresh(force=True)

    def _live_toggled(self, on: bool) -> None:
        if on:
            self.show_step(None)

    def _slid(self, value: int) -> None:
        if self._updating:
            return
        self.show_step(value)

    _updating = False

    def show_step(self, t: int | None) -> None:
        """Show step ``t`` (None: follow the run)."""
        first, last = self.history.span()
        if t is not None and (first is None or not first <= t <= last):  # type: ignore[operator]
            return
        self.shown = t
        self._updating = True
        self.live.setChecked(t is None)
        if t is not None:
            self.slider.setValue(t)
        self._updating = False
        self.refresh(force=True)
        self.stepChosen.emit(t)

    def refresh(self, force: bool = False) -> None:
        if self.history.remote is not None:
            self._refresh_remote()
            return
        if not self.slider.isEnabled() and self.history.span()[0] is not None:
            force = True  # back from remote: the whole history is here now
        span = self.history.span()
        first, last = span
        if span != self._span or force:
            self._span = span
            self._updating = True
            self.slider.setEnabled(first is not None)
            if first is not None:
                self.slider.setRange(first, last)  # type: ignore[arg-type]
                if self.shown is None:
                    self.slider.setValue(last)  # type: ignore[arg-type]
                elif self.shown < first:
                    self.shown = first  # the shown step was dropped: show the oldest kept
                    self.slider.setValue(first)
            self._updating = False
        now = QtCore.QDateTime.currentMSecsSinceEpoch() / 1000
        if force or now - self._bytes_at > 1.0:
            self._bytes, self._bytes_at = self.history.nbytes(), now
        t = self.shown if self.shown is not None else last
        where = "live" if self.shown is None else "scrubbed"
        kept = (
            f"kept {first}..{last} ({len(self.history)} states, ~{_mb(self._bytes)})"
            if first is not None
            else "nothing kept yet"
        )
        self.label.setText(f"t = {t} ({where}); {kept}")
        if t != self._listed or force:
            self._list_changes(t)

    def _refresh_remote(self) -> None:
        """The history is kept in the engine's process while it runs: shown
        live, scrubbed once paused (then the whole of it comes here)."""
        first, last, n = self.history.remote  # type: ignore[misc]
        self._updating = True
        self.slider.setEnabled(False)
        self.slider.setRange(first, last)
        self.slider.setValue(last)
        self._updating = False
        self._span = (None, None)
        self.label.setText(
            f"t = {last} (live); kept {first}..{last} ({n} states) in the engine: pause to scrub"
        )
        if last != self._listed:
            self._list_changes(last)

    def _list_changes(self, t: int | None) -> None:
        self._listed = t
        self.changes.clear()
        if t is None:
            return
        try:
            changes: list[Change] = self.history.changes(t)
        except KeyError:
            self.changes.addItem(f"step {t}: the step before is not kept")
            return
        if not changes:
            self.changes.addItem(f"step {t}: no change in the matrix")
        for c in changes:
            self.changes.addItem(str(c))


class BreaksView(QtWidgets.QWidget):
    """Which conditions pause the run; what fired last, and the neuron at fault."""

    conditionsChanged = QtCore.Signal(object)  # Breaks
    faultSelected = QtCore.Signal(tuple)  # NeuronId

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.nan = QtWidgets.QCheckBox("NaN or Inf in any stream")
        # on by default (breaks.NONFINITE_ON_BY_DEFAULT): a run that goes NaN or
        # infinite pauses and names the neuron; the user may turn it off
        self.nan.setChecked(NONFINITE_ON_BY_DEFAULT)
        self.nan.setToolTip(
            "Pause at the first step that puts a NaN or an infinity in any stream, and name the"
            " neuron. Every stream is looked at after every step, which slows a fast engine."
        )
        self.topology = QtWidgets.QCheckBox("Topology change (a wire added or removed)")
        self.norm_on = QtWidgets.QCheckBox("Matrix max-norm >")
        self.norm = QtWidgets.QDoubleSpinBox()
        self.norm.setRange(0, 1e300)
        self.norm.setDecimals(3)
        self.norm.setValue(1e6)
        self.size_on = QtWidgets.QCheckBox("Matrix weights >")
        self.size = QtWidgets.QSpinBox()
        self.size.setRange(0, 2_000_000_000)
        self.size.setValue(100_000)
        self.probe_port = QtWidgets.QLineEdit()
        self.probe_port.setPlaceholderText("type/name/output")
        self.probe_op = QtWidgets.QComboBox()
        self.probe_op.addItems([">", ">=", "<", "<=", "==", "!="])
        self.probe_value = QtWidgets.QDoubleSpinBox()
        self.probe_value.setRange(-1e300, 1e300)
        self.probe_value.setDecimals(4)
        add = QtWidgets.QPushButton("Add")
        add.clicked.connect(self._add_probe_condition)
        self.probe_list = QtWidgets.QListWidget()
        self.probe_list.setMaximumHeight(80)
        remove = QtWidgets.QPushButton("Remove")
        remove.clicked.connect(self._remove_probe_condition)
        self.status = QtWidgets.QLabel("No break yet.")
        self.status.setWordWrap(True)
        self.fault = QtWidgets.QPushButton("Select the neuron at fault")
        self.fault.setEnabled(False)
        self.fault.clicked.connect(
            lambda: self.last_hit and self.last_hit.neuron and self.faultSelected.emit(self.last_hit.neuron)
        )
        self.log = QtWidgets.QListWidget()

        form = QtWidgets.QGridLayout()
        form.addWidget(self.nan, 0, 0, 1, 2)
        form.addWidget(self.topology, 1, 0, 1, 2)
        form.addWidget(self.norm_on, 2, 0)
        form.addWidget(self.norm, 2, 1)
        form.addWidget(self.size_on, 3, 0)
        form.addWidget(self.size, 3, 1)
        probe_row = QtWidgets.QHBoxLayout()
        probe_row.addWidget(self.probe_port, 1)
        probe_row.addWidget(self.probe_op)
        probe_row.addWidget(self.probe_value)
        probe_row.addWidget(add)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(form)
        lay.addWidget(QtWidgets.QLabel("Probe conditions (scalar outputs):"))
        lay.addLayout(probe_row)
        lay.addWidget(self.probe_list)
        lay.addWidget(remove, 0, QtCore.Qt.AlignmentFlag.AlignRight)
        lay.addWidget(self.status)
        lay.addWidget(self.fault)
        lay.addWidget(QtWidgets.QLabel("Breaks so far:"))
        lay.addWidget(self.log, 1)
        self.probe_conditions: list[ProbeCondition] = []
        self.last_hit: BreakHit | None = None
        for w in (self.nan, self.topology, self.norm_on, self.size_on):
            w.toggled.connect(self._changed)
        self.norm.valueChanged.connect(self._changed)
        self.size.valueChanged.connect(self._changed)

    def breaks(self) -> Breaks:
        conds: list[Any] = [
            NonFinite(enabled=self.nan.isChecked()),
            TopologyChange(enabled=self.topology.isChecked()),
        ]
        if self.norm_on.isChecked() or self.size_on.isChecked():
            conds.append(
                MatrixBound(
                    max_norm=self.norm.value() if self.norm_on.isChecked() else None,
                    max_size=self.size.value() if self.size_on.isChecked() else None,
                )
            )
        conds.extend(self.probe_conditions)
        return Breaks(conds)

    def _changed(self, *_: Any) -> None:
        self.conditionsChanged.emit(self.breaks())

    def add_probe_condition(self, port: tuple[str, str, str], op: str, value: float) -> ProbeCondition:
        c = ProbeCondition(port, op, value)
        self.probe_conditions.append(c)
        self.probe_list.addItem(c.describe())
        self._changed()
        return c

    def _add_probe_condition(self) -> None:
        parts = self.probe_port.text().strip().split("/")
        if len(parts) != 3 or not all(parts):
            self.status.setText("A probe condition needs an output as type/name/output.")
            return
        self.add_probe_condition(
            (parts[0], parts[1], parts[2]), self.probe_op.currentText(), self.probe_value.value()
        )

    def _remove_probe_condition(self) -> None:
        row = self.probe_list.currentRow()
        if 0 <= row < len(self.probe_conditions):
            del self.probe_conditions[row]
            self.probe_list.takeItem(row)
            self._changed()

    def show_hit(self, hit: BreakHit) -> None:
        self.last_hit = hit
        who = f" Neuron at fault: {hit.neuron[0]}/{hit.neuron[1]}." if hit.neuron else ""
        self.status.setText(f"<b>Paused after step {hit.t}</b>: {hit.message}.{who}")
        self.status.setStyleSheet("color: #b00000")
        self.fault.setEnabled(hit.neuron is not None)
        self.log.insertItem(0, str(hit))


class CostView(QtWidgets.QWidget):
    """Time per step per neuron (up movement), measured while the toggle is on."""

    toggled = QtCore.Signal(bool)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.enable = QtWidgets.QCheckBox("Measure time per step per neuron")
        self.enable.toggled.connect(self.toggled)
        self.table = QtWidgets.QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["neuron", "ms / step"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.note = QtWidgets.QLabel("Up movement only: the time each neuron's function takes.")
        self.note.setWordWrap(True)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.enable)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.note)
        self.costs: dict[NeuronId, float] = {}

    def show_costs(self, costs: dict[NeuronId, float]) -> None:
        self.costs = costs
        rows = sorted(costs.items(), key=lambda kv: -kv[1])
        self.table.setRowCount(len(rows))
        for i, ((f, n), ms) in enumerate(rows):
            self.table.setItem(i, 0, QtWidgets.QTableWidgetItem(f"{f}/{n}"))
            item = QtWidgets.QTableWidgetItem(f"{ms:.4f}")
            item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(i, 1, item)


def connect_later(fn: Callable[[], None]) -> None:
    QtCore.QTimer.singleShot(0, fn)
