"""File -> Sweep...: run a sweep spec in the background and look at its rows.

``open_sweep_dialog(window)`` asks for a ``*.sweep.json`` and shows a
``SweepView`` in a dock at the bottom of the window. The sweep runs as
``dmm-studio sweep SPEC --out DIR`` in a child process (a ``QProcess``: on
Ray when it is installed, else one by one there), so the studio never waits
on it; the view reads ``DIR/runs.csv`` as rows arrive (a timer, 4 times a
second, rereading only when the file grew). ``DIR`` defaults to
``SPEC_FOLDER/STEM.runs``: opening the same spec again shows its rows and
resumes what is left. Stop ends the child; Run resumes.

The table holds one row per run; the plot shows a metric over one axis (one
curve per value of the other axis) or, with two axes, a heat map over both
(a grid: an image; random points: dots coloured by the metric). Clicking a
row opens that run's network (the base network with the run's values) on
the canvas as an untitled copy.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QProcess, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..jsonio import NetworkFileError
from ..sweep import RUNS_FILE, SweepSpec, SweepSpecError, load_spec, read_rows

POLL_MS = 250


def default_out(spec_path: str | Path) -> Path:
    p = Path(spec_path)
    return p.with_name(p.name.removesuffix(".json").removesuffix(".sweep") + ".runs")


class RowsModel(QAbstractTableModel):
    """The sweep's rows for a QTableView (probe series shown by their length)."""

    def __init__(self, columns: list[str]) -> None:
        super().__init__()
        self.columns = [c for c in columns if not c.startswith("probe:")]
        self.rows: list[dict[str, Any]] = []

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self.rows = sorted(rows, key=lambda r: r.get("run", 0))
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | None = None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | None = None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(self.columns)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        v = self.rows[index.row()].get(self.columns[index.column()])
        if role == Qt.ItemDataRole.DisplayRole:
            if v is None:
                return ""
            if isinstance(v, float):
                return f"{v:.6g}"
            return str(v)
        if role == Qt.ItemDataRole.ToolTipRole and isinstance(v, str) and len(v) > 30:
            return v
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(v, (int, float)):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section]
        return None


class SweepView(QWidget):
    """A sweep's table and plot; ``start()`` runs it in a child process.

    Signals: ``rowsChanged(int)`` (the number of rows read), ``finished(int)``
    (the child's exit status), ``runOpened(int)`` (the run opened on the canvas).
    """

    rowsChanged = Signal(int)
    finished = Signal(int)
    runOpened = Signal(int)

    def __init__(self, spec: SweepSpec, out: str | Path, window: Any = None) -> None:
        super().__init__()
        self.spec, self.out, self.window = spec, Path(out), window
        self.points = spec.points()
        self.axes = [a.name for a in spec.axes]
        self.metrics = (
            (["loss", "loss_min", "links"] if spec.training else [])  # a training sweep's loss first
            + spec.metric_columns()
            + spec.output_columns()
            + ["wall_s", "steps"]
        )  # the spec's metrics first
        self._size = -1
        self.process: QProcess | None = None
        self.errors = ""

        self.title = QLabel(
            f"<b>{Path(spec.source).name}</b>: {len(self.points)} runs of "
            f"{spec.network_path.name}, {spec.steps} steps each; rows in {self.out}"
        )
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setRange(0, len(self.points))
        self.progress.setFormat("%v / %m runs")
        self.status = QLabel("")
        self.run_button = QPushButton("Run")
        self.stop_button = QPushButton("Stop")
        self.run_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.progress)
        top.addWidget(self.status)
        top.addWidget(self.run_button)
        top.addWidget(self.stop_button)

        self.model = RowsModel(spec.columns())
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setVisible(False)
        self.table.clicked.connect(lambda index: self.open_run(self.model.rows[index.row()]["run"]))
        self.table.setToolTip("click a row to open that run's network on the canvas")

        self.metric_box = QComboBox()
        self.metric_box.addItems(self.metrics)
        self.mode_box = QComboBox()
        modes = [f"over {a}" for a in self.axes]
        if len(self.axes) >= 2:
            modes.insert(0, f"heat map: {self.axes[0]} x {self.axes[1]}")
        self.mode_box.addItems(modes)
        self.metric_box.currentIndexChanged.connect(self.replot)
        self.mode_box.currentIndexChanged.connect(self.replot)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("plot"))
        controls.addWidget(self.metric_box, 1)
        controls.addWidget(self.mode_box, 1)
        self.plot = pg.PlotWidget()
        self.plot.setBackground("w")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.legend = self.plot.addLegend(offset=(-10, 10))
        self.image: pg.ImageItem | None = None
        self.colorbar: pg.ColorBarItem | None = None
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addLayout(controls)
        rl.addWidget(self.plot, 1)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(right)
        split.setSizes([600, 500])
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.refresh)
        self.refresh()
        self._buttons()

    # ------------------------------------------------------------- running
    def running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    def start(self) -> None:
        """Run (or resume) the sweep in a child process."""
        if self.running():
            return
        self.errors = ""
        proc = QProcess(self)
        proc.setProgram(sys.executable)
        proc.setArguments(
            ["-m", "dmm_studio.cli", "sweep", self.spec.source, "--out", str(self.out), "--no-progress"]
        )
        proc.readyReadStandardError.connect(self._read_errors)
        proc.finished.connect(self._finished)
        self.process = proc
        proc.start()
        self.timer.start()
        self.status.setText("running")
        self._buttons()

    def stop(self) -> None:
        """End the child; rows written stay, Run resumes."""
        if self.running():
            assert self.process is not None
            self.process.kill()
            self.process.waitForFinished(3000)

    def _read_errors(self) -> None:
        if self.process is not None:
            self.errors += bytes(self.process.readAllStandardError().data()).decode("utf-8", "replace")

    def _finished(self, code: int, _status: Any = None) -> None:
        self._read_errors()
        self.timer.stop()
        self.refresh()
        last = [line for line in self.errors.splitlines() if line.startswith("dmm-studio:")]
        if code == 0:
            self.status.setText(f"done: {self._summary()}")
        else:
            self.status.setText(last[-1] if last else f"stopped ({code})")
        self._buttons()
        self.finished.emit(code)

    def _buttons(self) -> None:
        on = self.running()
        self.run_button.setEnabled(not on and len(self.model.rows) < len(self.points))
        self.stop_button.setEnabled(on)

    # ------------------------------------------------------------- rows
    def refresh(self) -> None:
        """Reread runs.csv when it changed."""
        path = self.out / RUNS_FILE
        size = path.stat().st_size if path.exists() else 0
        if size == self._size:
            return
        self._size = size
        rows = read_rows(path)
        self.model.set_rows(rows)
        self.progress.setValue(len(rows))
        if rows:
            self.status.setText(self._summary())
        self.replot()
        self._buttons()
        self.rowsChanged.emit(len(rows))

    def _summary(self) -> str:
        bad = sum(1 for r in self.model.rows if r.get("status") != "ok")
        return f"{bad} not ok" if bad else "all ok"

    # ------------------------------------------------------------- plot
    def replot(self) -> None:
        metric = self.metric_box.currentText()
        mode = self.mode_box.currentText()
        self.plot.clear()
        self.legend.clear()
        if self.colorbar is not None:
            self.plot.getPlotItem().layout.removeItem(self.colorbar)
            self.colorbar.setParentItem(None)
            self.colorbar = None
        self.image = None
        self.plot.getAxis("bottom").setTicks(None)  # a heat map's tick labels go with it
        self.plot.getAxis("left").setTicks(None)
        self.plot.enableAutoRange()
        rows = [r for r in self.model.rows if _number(r.get(metric)) is not None]
        self.plot.setTitle(metric)
        if mode.startswith("heat map"):
            self._heat_map(rows, metric, self.axes[0], self.axes[1])
        else:
            self._curves(rows, metric, mode.removeprefix("over "))

    def _curves(self, rows: list[dict[str, Any]], metric: str, x: str) -> None:
        others = [a for a in self.axes if a != x]
        groups: dict[Any, list[tuple[float, float]]] = {}
        for r in rows:
            xv = _number(r.get(x))
            if xv is None:
                continue
            key = tuple(r.get(o) for o in others[:1])
            groups.setdefault(key, []).append((xv, float(r[metric])))
        self.plot.setLabel("bottom", x)
        self.plot.setLabel("left", metric)
        for i, (key, pts) in enumerate(sorted(groups.items(), key=lambda kv: _sort_key(kv[0]))):
            pts.sort()
            pen = pg.mkPen(pg.intColor(i, max(len(groups), 1)), width=2)
            name = f"{others[0]} = {_fmt(key[0])}" if others else metric
            self.plot.plot(
                [p[0] for p in pts],
                [p[1] for p in pts],
                pen=pen,
                symbol="o",
                symbolSize=6,
                symbolBrush=pen.color(),
                name=name,
            )

    def _heat_map(self, rows: list[dict[str, Any]], metric: str, ax: str, ay: str) -> None:
        import numpy as np

        xs = sorted({r[ax] for r in rows if _number(r.get(ax)) is not None})
        ys = sorted({r[ay] for r in rows if _number(r.get(ay)) is not None})
        self.plot.setLabel("bottom", ax)
        self.plot.setLabel("left", ay)
        if not xs or not ys:
            return
        grid_like = len(xs) * len(ys) <= 4 * max(len(rows), 1) and len(xs) <= 64 and len(ys) <= 64
        values = [float(r[metric]) for r in rows]
        lo, hi = min(values), max(values)
        if hi == lo:
            hi = lo + 1.0
        cmap = pg.colormap.get("viridis")
        if grid_like:
            total = np.zeros((len(xs), len(ys)))
            count = np.zeros((len(xs), len(ys)))
            for r in rows:
                i, j = xs.index(r[ax]), ys.index(r[ay])
                total[i, j] += float(r[metric])
                count[i, j] += 1
            img = np.where(count > 0, total / np.maximum(count, 1), np.nan)
            self.image = pg.ImageItem(img)
            self.image.setColorMap(cmap)
            self.image.setLevels((lo, hi))
            self.plot.addItem(self.image)
            self.plot.getAxis("bottom").setTicks([[(i + 0.5, _fmt(v)) for i, v in enumerate(xs)]])
            self.plot.getAxis("left").setTicks([[(j + 0.5, _fmt(v)) for j, v in enumerate(ys)]])
            self.plot.setRange(xRange=(0, len(xs)), yRange=(0, len(ys)), padding=0)
            self.colorbar = pg.ColorBarItem(values=(lo, hi), colorMap=cmap, label=metric, interactive=False)
            self.colorbar.setImageItem(self.image, insert_in=self.plot.getPlotItem())
        else:
            brushes = [pg.mkBrush(cmap.map((float(r[metric]) - lo) / (hi - lo))) for r in rows]
            self.plot.plot(
                [float(r[ax]) for r in rows],
                [float(r[ay]) for r in rows],
                pen=None,
                symbol="s",
                symbolSize=12,
                symbolBrush=brushes,
            )

    def heat_values(self) -> Any:
        """The heat map's image (x index, y index) or None: for tests and export."""
        return None if self.image is None else self.image.image

    # ------------------------------------------------------------- opening a run
    def open_run(self, run: int) -> bool:
        """Open run ``run``'s network on the window's canvas as an untitled copy
        (after asking to save the open design's changes: False on Cancel)."""
        if self.window is None or not 0 <= run < len(self.points):
            return False
        maybe_save = getattr(self.window, "maybe_save", None)  # the open design's unsaved changes
        if maybe_save is not None and not maybe_save():
            return False
        point = self.points[run]
        try:
            net = self.spec.network(point)
        except NetworkFileError as e:
            self.window.show_message(str(e))
            return False
        values = ", ".join(f"{k} = {_fmt(v)}" for k, v in point.items())
        net.meta = {
            **net.meta,
            "title": f"{net.meta.get('title', self.spec.network_path.name)} (sweep run {run}: {values})",
        }
        self.window.open_network(net, None)
        if hasattr(self.window, "canvas"):
            self.window.canvas.frame_all()
        self.window.show_message(f"opened sweep run {run}: {values} (Save As to keep it)")
        self.runOpened.emit(run)
        return True

    def closeEvent(self, event: Any) -> None:  # noqa: N802
        self.stop()
        super().closeEvent(event)


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if math.isfinite(v) else None


def _sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((0, float(k), "") if _number(k) is not None else (1, 0.0, str(k)) for k in key)


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def show_sweep(
    window: Any, spec_path: str | Path, out: str | Path | None = None, start: bool = True
) -> SweepView | None:
    """Load the spec, show its view in a dock at the bottom of ``window`` and
    (``start``) run what is left of it. A bad spec is one line in the status bar."""
    try:
        spec = load_spec(spec_path)
    except (SweepSpecError, NetworkFileError) as e:
        window.show_message(str(e))
        return None
    view = SweepView(spec, out or default_out(spec_path), window)
    old = getattr(window, "sweep_dock", None)
    if old is not None:
        old_view = old.widget()
        if isinstance(old_view, SweepView):
            old_view.stop()
        window.removeDockWidget(old)
        old.deleteLater()
    window.sweep_dock = window.add_dock("Sweep", view, Qt.DockWidgetArea.BottomDockWidgetArea)
    window.sweep_dock.show()
    window.sweep_dock.raise_()
    if start and len(view.model.rows) < len(view.points):
        view.start()
    return view


def open_sweep_dialog(window: Any) -> SweepView | None:
    """File -> Sweep...: choose a ``*.sweep.json`` and show it (running what is left)."""
    path, _ = QFileDialog.getOpenFileName(
        window, "Open a sweep spec", "", "Sweep specs (*.sweep.json);;JSON (*.json)"
    )
    return show_sweep(window, path) if path else None
