"""The Train dock: train the open design on a task file, watch it learn.

``TrainPanel`` chooses a ``*.train.json`` (the one beside the network file is
offered: ``default_task``), starts, pauses, resumes and stops training, and
shows it as it goes: the loss (and its terms) as a pyqtgraph curve, log y
optional; the step, the links left, the links pruned and the time per step.
Training runs in the engine's process (``Runner.train``; the messages are in
``dmm_studio.host.training``), so the UI never waits for a step.

The canvas shows the weights as they train: each weights message goes to
``Canvas.show_matrix`` (the live overlay: a weight that differs from the
design's is labelled amber, a pruned link vanishes, a neuron left without
links dims), and each wire is drawn as thick as its |w| is large beside the
largest (``weight_widths``).

When training stops, "Keep result" applies the trained network to the design
as ONE undoable command (``KeepTrained``: its weights, params, fields and
initial outputs that training changed; Undo gives back the untrained
network); "Save as..." writes it as a new network file; "Discard" goes back
to the design. A task file that is refused is one line, in the panel and the
status bar, and nothing of the design changes.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..fileformat import save_network
from ..network import SELF_ID, Network
from .canvas.look import format_ms
from .commands import DocCommand, SetOutput, SetParam, SetWeights

NeuronId = tuple[str, str]

TASK_SUFFIX = ".train.json"
MAX_WIDTH = 6.0  # the pen width of the wire with the largest |w| (the smallest: 1)
BG, FG = "w", (40, 40, 40)
LOSS_PEN = pg.mkPen((31, 119, 180), width=2)
TERM_COLORS = [(214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14), (140, 86, 75)]


def default_task(network_path: str | None) -> str | None:
    """The task file offered for a network file: ``NAME.train.json`` beside
    ``NAME.dmm.json``, else the first ``*.train.json`` in its folder; None when
    there is none (or the network has no file)."""
    if not network_path:
        return None
    p = Path(network_path)
    stem = p.name.removesuffix(".json").removesuffix(".dmm")
    same = p.with_name(stem + TASK_SUFFIX)
    if same.is_file():
        return str(same)
    others = sorted(p.parent.glob("*" + TASK_SUFFIX)) if p.parent.is_dir() else []
    return str(others[0]) if others else None


def weight_widths(canvas: Any, on: bool = True) -> None:
    """Draw each wire of the canvas as thick as its |w| beside the largest
    (1 to ``MAX_WIDTH``); ``on=False``: back to the canvas's usual width.
    Wires into Self (its ``accum`` row keeps W; training holds it fixed) keep
    the usual width and do not count for the largest."""
    mags: dict[Any, float] = {}
    if on:
        for key, w in canvas.shown.items():
            if key[0][:2] == SELF_ID:
                continue
            try:
                mags[key] = abs(float(w))
            except (TypeError, ValueError):
                mags[key] = 0.0
    top = max((m for m in mags.values() if math.isfinite(m)), default=0.0)
    for key, pipe in canvas.pipes.items():
        if not hasattr(pipe, "set_thickness"):
            continue
        if not on or key not in mags:
            pipe.set_thickness(None)
            continue
        m = mags[key]
        x = 1.0 if not math.isfinite(m) else (m / top if top > 0 else 0.0)
        pipe.set_thickness(1.0 + (MAX_WIDTH - 1.0) * x)


class _SetFields(DocCommand):
    """The design's fields list (the Fields panel redraws when it is there)."""

    def __init__(self, doc: Any, window: Any, new: list[Any], parent: DocCommand) -> None:
        super().__init__(doc, "fields", parent)
        self.window_ = window
        self.old, self.new = copy.deepcopy(doc.network.fields), copy.deepcopy(new)

    def _put(self, fields: list[Any]) -> None:
        panel = getattr(self.window_, "fields_panel", None)
        if panel is not None:
            panel.set_fields(fields)
        else:
            self.net.fields = copy.deepcopy(fields)

    def redo(self) -> None:
        self._put(self.new)

    def undo(self) -> None:
        self._put(self.old)


class KeepTrained(DocCommand):
    """Apply a trained network to the design as one undoable command: what
    training changed between ``start`` (the design it began from) and
    ``trained`` (weights, pruned links as 0, params, fields, initial outputs
    other than Self's) is set on the design as children; Undo puts back
    every one. Edits made to the design while it trained stay, unless
    training changed the same thing."""

    def __init__(self, doc: Any, start: Network, trained: Network, window: Any = None) -> None:
        super().__init__(doc, "keep the trained network")
        old = {(to, frm): w for to, frm, w in start.wires()}
        new = {(to, frm): w for to, frm, w in trained.wires()}
        changes = [(to, frm, new.get((to, frm), 0)) for to, frm in old.keys() | new.keys()]
        changes = [c for c in changes if old.get((c[0], c[1]), 0) != c[2]]
        changes.sort(key=lambda c: (c[0], c[1]))
        self.weights = len(changes)
        if changes:
            SetWeights(doc, changes, "trained weights", parent=self)
        for type_, names in trained.params.items():
            for name, params in names.items():
                for param, value in params.items():
                    if start.param(type_, name, param) != value and doc.network.has_neuron(type_, name):
                        self.kids.append(SetParam(doc, (type_, name), param, value))
        if trained.fields != start.fields:
            _SetFields(doc, window, trained.fields, parent=self)
        for type_, names in trained.outputs.items():
            for name, outs in names.items():
                if (type_, name) == SELF_ID or not doc.network.has_neuron(type_, name):
                    continue
                for out, v in outs.items():
                    if start.output(type_, name, out) != (v or {}):
                        SetOutput(doc, (type_, name), out, v, parent=self)


class TrainPanel(QWidget):
    """The Train dock (see the module docstring). ``window``: the MainWindow
    (its ``runner``, ``doc``, ``canvas``, ``show_message``)."""

    def __init__(self, window: Any) -> None:
        super().__init__()
        self.window_ = window
        self.runner = window.runner
        self.doc = window.doc
        self.canvas = window.canvas
        self.state = "idle"  # idle, starting, training, paused, stopping, done
        self.start_net: Network | None = None
        self.result: Network | None = None
        self.reports: list[dict[str, Any]] = []
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.terms: dict[str, list[float]] = {}
        self._offered: str | None = None  # the task path offered (not typed by the user)
        self._shown_weights = False
        self._build()
        self.runner.trainStarted.connect(self._on_started)
        self.runner.trainReports.connect(self._on_reports)
        self.runner.trainWeights.connect(self._on_weights)
        self.runner.trainPaused.connect(self._on_paused)
        self.runner.trainDone.connect(self._on_done)
        self.runner.trainFailed.connect(self._on_failed)
        self.doc.path_changed.connect(self._offer_task)
        self.doc.replaced.connect(self._on_replaced)
        self._offer_task(self.doc.path or "")
        self._set_state("idle")

    # ------------------------------------------------------------- the widgets
    def _build(self) -> None:
        self.task_edit = QLineEdit()
        self.task_edit.setPlaceholderText("a *.train.json task file")
        self.task_edit.setToolTip("The task: input and target streams, loss, regularisation, optimiser")
        self.task_edit.textChanged.connect(lambda t: self.task_edit.setToolTip(t or "a *.train.json task file"))
        self.browse_button = QPushButton("...")
        self.browse_button.setToolTip("Choose a task file")
        self.browse_button.setFixedWidth(32)
        self.browse_button.clicked.connect(self.browse)
        self.steps_box = QSpinBox()
        self.steps_box.setRange(0, 10_000_000)
        self.steps_box.setSpecialValueText("as the task says")
        self.steps_box.setToolTip("Training steps (0: the task's own number)")
        self.device_box = QComboBox()
        self.device_box.addItems(["cpu", "cuda"])
        self.device_box.setToolTip("Where the engine's process trains (cuda: a GPU)")
        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        self.log_box = QCheckBox("log y")
        self.log_box.setChecked(True)
        self.log_box.toggled.connect(self._set_log)

        self.values = {k: QLabel("-") for k in ("step", "loss", "links", "time")}
        for lab in self.values.values():
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = QLabel("")
        self.message.setWordWrap(True)

        self.plot = pg.PlotWidget(background=BG)
        for name in ("left", "bottom"):
            ax = self.plot.getAxis(name)
            ax.setPen(pg.mkPen(FG))
            ax.setTextPen(pg.mkPen(FG))
        self.plot.getAxis("left").enableAutoSIPrefix(False)  # log ticks as they are, no "(x0.001)"
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "loss")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setMinimumHeight(160)
        self.legend = self.plot.addLegend(offset=(-8, 8), labelTextColor=FG)
        self.curve = self.plot.plot([], [], pen=LOSS_PEN, name="loss")
        self.curve.setDownsampling(auto=True, method="peak")
        self.curve.setClipToView(True)
        self.term_curves: dict[str, Any] = {}
        self._set_log(True)

        self.keep_button = QPushButton("Keep result")
        self.keep_button.setToolTip("Apply the trained network to the design (one undoable edit)")
        self.save_button = QPushButton("Save as...")
        self.save_button.setToolTip("Write the trained network as a new network file")
        self.discard_button = QPushButton("Discard")
        self.discard_button.setToolTip("Back to the design as it was")
        self.keep_button.clicked.connect(self.keep_result)
        self.save_button.clicked.connect(self.save_dialog)
        self.discard_button.clicked.connect(self.discard)

        task_row = QHBoxLayout()
        task_row.addWidget(QLabel("Task"))
        task_row.addWidget(self.task_edit, 1)
        task_row.addWidget(self.browse_button)
        opts = QHBoxLayout()
        opts.addWidget(QLabel("Steps"))
        opts.addWidget(self.steps_box, 1)
        opts.addWidget(QLabel("on"))
        opts.addWidget(self.device_box)
        controls = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button):
            controls.addWidget(b)
        controls.addStretch(1)
        controls.addWidget(self.log_box)
        grid = QGridLayout()
        names = {"step": "Step", "loss": "Loss", "links": "Links", "time": "Time / step"}
        for i, (key, text) in enumerate(names.items()):
            r, c = divmod(i, 2)
            grid.addWidget(QLabel(text), r, 2 * c)
            grid.addWidget(self.values[key], r, 2 * c + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        result_row = QHBoxLayout()
        for b in (self.keep_button, self.save_button, self.discard_button):
            result_row.addWidget(b)
        result_row.addStretch(1)

        box = QVBoxLayout(self)
        box.setContentsMargins(6, 6, 6, 6)
        box.addLayout(task_row)
        box.addLayout(opts)
        box.addLayout(controls)
        box.addLayout(grid)
        box.addWidget(self.plot, 1)
        box.addWidget(self.message)
        box.addLayout(result_row)

    def _set_state(self, state: str) -> None:
        self.state = state
        busy = state in ("starting", "training", "paused", "stopping")
        self.start_button.setEnabled(not busy)
        self.task_edit.setEnabled(not busy)
        self.browse_button.setEnabled(not busy)
        self.steps_box.setEnabled(not busy)
        self.device_box.setEnabled(not busy)
        self.pause_button.setEnabled(state in ("training", "paused"))
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        self.stop_button.setEnabled(state in ("starting", "training", "paused"))
        done = state == "done" and self.result is not None
        for b in (self.keep_button, self.save_button, self.discard_button):
            b.setEnabled(done)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #c0392b;" if error else "")
        if error:
            self.window_.show_message(text)

    # ------------------------------------------------------------- the task
    def _offer_task(self, path: str) -> None:
        """Offer the task beside the network file (unless one was typed)."""
        typed = self.task_edit.text().strip()
        if typed and typed != self._offered:
            return
        offer = default_task(path or None)
        self._offered = offer
        self.task_edit.setText(offer or "")

    def task_path(self) -> str:
        return self.task_edit.text().strip()

    def browse(self) -> None:
        start = self.task_path() or (str(Path(self.doc.path).parent) if self.doc.path else "")
        path, _ = QFileDialog.getOpenFileName(self, "Training task", start, "Training tasks (*.train.json)")
        if path:
            self.task_edit.setText(path)

    # ------------------------------------------------------------- commands
    def start(self) -> bool:
        """Train a copy of the design on the chosen task; False (one line said) when it cannot start."""
        if self.state in ("starting", "training", "paused", "stopping"):
            return False
        path = self.task_path()
        if not path:
            self._say("choose a task file (*.train.json) first", error=True)
            return False
        p = Path(path).expanduser()
        if not p.is_file():
            self._say(f"task file {path}: no such file", error=True)
            return False
        # the file is read here too (that imports no torch), so that a file that is
        # no task is said at once; the engine's process checks it against the network
        # (``TrainTask.check`` imports torch, for the fields' keys)
        from ..learn import TaskError, TrainTask

        try:
            TrainTask.load(p)
        except TaskError as e:
            self._say(" ".join(str(e).split()), error=True)
            return False
        self._end_weights()
        self.start_net = self.doc.network.copy()
        self.result = None
        self._clear_curves()
        steps = self.steps_box.value() or None
        self.runner.train(self.start_net.copy(), str(p.resolve()), steps=steps, device=self.device_box.currentText())
        self._say(f"starting: {p.name}")
        self._set_state("starting")
        return True

    def toggle_pause(self) -> None:
        if self.state == "training":
            self.runner.train_pause()
            self._say("pausing after this step")
        elif self.state == "paused":
            self.runner.train_resume()

    def stop(self) -> None:
        if self.state in ("starting", "training", "paused"):
            self.runner.train_stop()
            self._set_state("stopping")
            self._say("stopping after this step")

    def keep_result(self) -> bool:
        """Apply the trained network to the design (one undoable command)."""
        if self.result is None or self.start_net is None:
            return False
        command = KeepTrained(self.doc, self.start_net, self.result, self.window_)
        self.doc.undo_stack.push(command)
        self._end_weights()
        self.result = None
        self._set_state("idle")
        self._say(f"kept: {command.weights} weights changed (Undo gives back the untrained network)")
        return True

    def save_dialog(self) -> None:
        if self.result is None:
            return
        base = self.doc.path or "untitled.dmm.json"
        stem = Path(base).name.removesuffix(".json").removesuffix(".dmm")
        default = str(Path(base).with_name(f"{stem}-trained.dmm.json"))
        path, _ = QFileDialog.getSaveFileName(self, "Save trained network", default, "DMM networks (*.dmm.json)")
        if path:
            self.save_result(path)

    def save_result(self, path: str) -> bool:
        """Write the trained network as a new network file (the design stays as
        it is); a failure is one line, and the result is kept."""
        if self.result is None:
            return False
        try:
            save_network(self.result, path)
        except Exception as e:  # noqa: BLE001 - any failure: one line, the result stays
            self._say(f"cannot save {path}: {' '.join(str(e).split())}", error=True)
            return False
        self._say(f"saved the trained network to {path}")
        return True

    def discard(self) -> None:
        self.result = None
        self._end_weights()
        self._set_state("idle")
        self._say("discarded: the design is as it was")

    def _on_replaced(self) -> None:
        """Another network is open: a training of the one before stops, its result goes."""
        busy = self.state in ("starting", "training", "paused", "stopping")
        had = busy or self.result is not None
        if busy:
            self.runner.train_stop()
        self._orphans += busy  # its done (or failed) message is not for this network
        self.result = None
        self.start_net = None
        self._shown_weights = False  # the canvas was rebuilt
        self._clear_curves()
        self._set_state("idle")
        if had:
            self._say("another network was opened: the training of the one before was dropped")

    _orphans = 0  # trainings stopped for a network no longer open, their end still to come

    # ------------------------------------------------------------- the runner's reports
    def _on_started(self, info: dict[str, Any]) -> None:
        if self._orphans:
            return
        self.total = info.get("steps")
        if self.state == "starting":
            self._set_state("training")
        self._say(f"training on {Path(str(info.get('task', ''))).name} ({info.get('links', 0):,} weights in W)")

    def _on_reports(self, batch: list[dict[str, Any]]) -> None:
        if not batch or self._orphans:
            return
        for r in batch:
            self.steps.append(r["step"])
            self.losses.append(r["loss"])
            for name, v in r.get("terms", {}).items():
                series = self.terms.setdefault(name, [math.nan] * (len(self.steps) - 1))
                series.append(v)
            for series in self.terms.values():
                if len(series) < len(self.steps):
                    series.append(math.nan)
        prev = self.reports[-1] if self.reports else None
        self.reports.extend(batch)
        last = batch[-1]
        total = f" / {self.total:,}" if isinstance(self.total, int) else ""
        self.values["step"].setText(f"{last['step']:,}{total}")
        self.values["loss"].setText(f"{last['loss']:.4g}")
        self.pruned += sum(int(r.get("pruned") or 0) for r in batch)
        pruned = f" ({self.pruned:,} pruned)" if self.pruned else ""
        self.values["links"].setText(f"{last['links']:,}{pruned}")
        first = batch[0] if prev is None else prev
        dn = last["step"] - (first["step"] if prev is not None else 0)
        dt = last["elapsed_s"] - (first["elapsed_s"] if prev is not None else 0.0)
        if dn > 0 and dt >= 0:
            ms = 1000.0 * dt / dn
            self.values["time"].setText(f"{ms / 1000:.2f} s" if ms >= 1000 else format_ms(ms))
        self._draw_curves()

    def _on_weights(self, step: int, matrix: Any) -> None:
        if self.state == "idle" or self._orphans:
            return  # a late message of a run already kept or discarded, or of another network
        self._shown_weights = True
        self.canvas.show_matrix(matrix, None, step)
        weight_widths(self.canvas, True)

    def _on_paused(self, paused: bool, step: int) -> None:
        if not self._orphans and self.state in ("training", "paused"):
            self._set_state("paused" if paused else "training")
            self._say(f"paused at step {step:,}" if paused else "training")

    def _on_done(self, info: dict[str, Any]) -> None:
        if self._orphans:
            self._orphans -= 1
            return
        net = info["network"]
        net.registry = self.doc.registry
        self.result = net
        self._set_state("done")
        how = "stopped" if info.get("stopped") else "done"
        self._say(
            f"{how} after {info.get('steps', 0):,} steps ({info.get('elapsed_s', 0.0):.1f} s): "
            "keep the result, save it as a new network, or discard it"
        )

    def _on_failed(self, text: str) -> None:
        if self._orphans:
            self._orphans -= 1
            return
        self._end_weights()
        self.result = None
        self._set_state("idle")
        self._say(text, error=True)

    # ------------------------------------------------------------- drawing
    def _end_weights(self) -> None:
        """The canvas back to what it showed before training (the design, or the run's W_t)."""
        if not self._shown_weights:
            return
        self._shown_weights = False
        w = self.window_
        frame = getattr(w, "last_frame", None)
        if getattr(w, "live", False) and frame is not None and frame.t > 0:
            self.canvas.show_matrix(frame.matrix, frame.active, frame.t)
        else:
            self.canvas.show_matrix(None)
        weight_widths(self.canvas, False)

    total: int | None = None  # the training steps asked for
    pruned = 0  # links pruned since training began (each report: those pruned after its step)

    def _clear_curves(self) -> None:
        self.pruned = 0
        self.reports.clear()
        self.steps.clear()
        self.losses.clear()
        self.terms.clear()
        for c in self.term_curves.values():
            self.plot.removeItem(c)
            self.legend.removeItem(c)
        self.term_curves.clear()
        self.curve.setData([], [])
        for lab in self.values.values():
            lab.setText("-")

    def _ys(self, values: list[float]) -> np.ndarray:
        y = np.asarray(values, dtype=float)
        if self.log_box.isChecked():  # log10 of 0 or less has no place on the axis
            y = np.where(y > 0, y, np.nan)
        return y

    def _draw_curves(self) -> None:
        x = np.asarray(self.steps, dtype=float)
        self.curve.setData(x, self._ys(self.losses), connect="finite")
        if len(self.terms) > 1 or (self.terms and next(iter(self.terms)) != "loss"):
            for i, (name, series) in enumerate(self.terms.items()):
                c = self.term_curves.get(name)
                if c is None:
                    color = TERM_COLORS[i % len(TERM_COLORS)]
                    c = self.plot.plot([], [], pen=pg.mkPen(color, width=1), name=name)
                    c.setDownsampling(auto=True, method="peak")
                    c.setClipToView(True)
                    self.term_curves[name] = c
                c.setData(x, self._ys(series), connect="finite")

    def _set_log(self, on: bool) -> None:
        self.plot.setLogMode(y=on)
        self.plot.setLabel("left", "loss (log)" if on else "loss")
        if self.steps:
            self._draw_curves()


def install(window: Any) -> TrainPanel:
    """Add the Train dock to the main window (View -> Train toggles it)."""
    panel = TrainPanel(window)
    window.train_panel = panel
    panel.dock = window.add_dock("Train", panel, Qt.DockWidgetArea.RightDockWidgetArea)  # type: ignore[attr-defined]
    return panel
