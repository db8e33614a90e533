"""The inspector: probes, the Self view, history, breaks and costs, kept in
step with a running machine at frame rate.

Data flow. The engine host (``dmm_studio.host``, in the runner's process or
thread) records every step beside the machine: history, probe buffers, breaks,
timing. The inspector tells the runner what to record (``set_probes``,
``set_breaks``, ``set_profiling``, ``set_history``, ``set_recording``) and
keeps a copy of the record: the latest steps with each frame
(``recorded``), the whole record whenever the run stops (``synced``). A break
pauses the host right after the step that fired it (``breakHit``). The UI
thread draws at most ``fps`` frames a second from a ``QTimer``, and only what
changed; a probe that fails to draw shows why in its own place, and the
others go on.

Headless (tests, the bench): ``attach_engine(engine)`` records an engine of
this process directly, through an ``EngineTap``.

The running matrix is not copied here: ``follow_running(state, design)``
hands the inspector the studio's ``RunningState`` (``gui/running_state.py``,
what the canvas and the Properties panel read). Live, the Self view draws
the newer of the record's latest step and that state's ``W_t`` (so it stays
with the canvas when recording is off or the record lags), and a wire's
hover reads its weight there.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any, Protocol

from PySide6 import QtCore, QtWidgets

from ...breaks import BreakHit, Breaks
from ...history import History
from ...matrix import NeuronId, matrix_of
from ...recorder import EngineTap, NodeProfiler, ProbeSpec, Recorder
from .export import export_csv, export_movie, export_npy, export_png
from .panels import BreaksView, CostView, HistoryView
from .selfview import SelfView
from .views import ProbeWidget

Port = tuple[str, str, str]


class RunnerLike(Protocol):
    """What the inspector needs of a runner (``dmm_studio.gui.runner.Runner``)."""

    stepped: Any  # Signal(frame with .t)
    recorded: Any  # Signal(t, state, packet)
    synced: Any  # Signal(record)
    breakHit: Any  # Signal(BreakHit)
    running: bool

    def pause(self) -> None: ...
    def set_recording(self, on: bool) -> None: ...
    def set_probes(self, specs: list[ProbeSpec]) -> None: ...
    def set_breaks(self, breaks: Breaks) -> None: ...
    def set_profiling(self, on: bool) -> None: ...
    def set_history(self, capacity: int) -> None: ...


def on_screen(w: QtWidgets.QWidget) -> bool:
    """Shown and not scrolled out of view (nor behind another dock tab)."""
    return w.isVisible() and not w.visibleRegion().isEmpty()


class ProbesPanel(QtWidgets.QScrollArea):
    """Many probes at once, in a grid whose columns follow the dock's width:
    one column per ``COLUMN_WIDTH`` pixels (at most ``MAX_COLUMNS``, never more
    than there are probes), so that a narrow dock shows one probe a row with
    its header whole, and a wide one puts them side by side."""

    COLUMN_WIDTH = 420  # a probe's header (name, zoom, view, Export, close) and a readable plot
    MAX_COLUMNS = 3

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.inner = QtWidgets.QWidget()
        self.grid = QtWidgets.QGridLayout(self.inner)
        self.grid.setContentsMargins(2, 2, 2, 2)
        self.grid.setSpacing(4)
        self.setWidget(self.inner)
        self.hint = QtWidgets.QLabel(
            "No probes. Select neurons on the canvas and use View > Probe selected outputs, "
            "or start the studio with --probe TYPE/NAME/OUTPUT."
        )
        self.hint.setWordWrap(True)
        self.grid.addWidget(self.hint, 0, 0)
        self.widgets: dict[str, ProbeWidget] = {}
        # probes scrolled into view are drawn at once (frames skip the ones out of view)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)

    def _scrolled(self, _v: int) -> None:
        for w in self.widgets.values():
            if on_screen(w):
                w.refresh(w._at)

    def visible_widgets(self) -> list[ProbeWidget]:
        return [w for w in self.widgets.values() if on_screen(w) or not w.views]

    def add(self, w: ProbeWidget) -> None:
        self.widgets[w.spec.key] = w
        self._relayout()

    def remove(self, key: str) -> None:
        w = self.widgets.pop(key, None)
        if w is not None:
            self.grid.removeWidget(w)
            w.deleteLater()
            self._relayout()

    def columns(self, width: int | None = None) -> int:
        """How many columns the probes take at ``width`` (the viewport's by default)."""
        width = self.viewport().width() if width is None else width
        fit = max(1, width // self.COLUMN_WIDTH)
        return max(1, min(len(self.widgets), self.MAX_COLUMNS, fit))

    _cols = 0

    def resizeEvent(self, ev: Any) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(ev)
        if self.widgets and self.columns() != self._cols:
            self._relayout()

    def _relayout(self) -> None:
        for w in self.widgets.values():
            self.grid.removeWidget(w)
        self.hint.setVisible(not self.widgets)
        cols = self._cols = self.columns()
        for c in range(self.MAX_COLUMNS):
            self.grid.setColumnStretch(c, 1 if c < cols else 0)
        for i, w in enumerate(self.widgets.values()):
            w.setMinimumHeight(110)
            self.grid.addWidget(w, i // cols, i % cols)


class Inspector(QtCore.QObject):
    """Owns the recorder and the views; ``attach(runner)`` follows a runner."""

    breakHit = QtCore.Signal(object)  # BreakHit (queued from the runner's thread)
    neuronAtFault = QtCore.Signal(tuple)  # NeuronId: select it on the canvas
    wireSelected = QtCore.Signal(tuple, tuple)  # (to, frm): select the wire on the canvas
    stepShown = QtCore.Signal(object, object)  # t (None: live), state
    costsUpdated = QtCore.Signal(object)  # {NeuronId: ms per step}
    probesChanged = QtCore.Signal(object)  # {"type/name": [probe dicts]}

    def __init__(self, parent: QtCore.QObject | None = None, fps: float = 30.0, history: int = 256) -> None:
        super().__init__(parent)
        self.recorder = Recorder(History(history))
        self.profiler = NodeProfiler()
        self.tap = EngineTap(self.recorder, self.profiler, raise_on_break=True, on_break=self.breakHit.emit)
        self.probes = ProbesPanel()
        self.self_view = SelfView()
        self.history_view = HistoryView(self.recorder.history)
        self.breaks_view = BreaksView()
        self.cost_view = CostView()
        self.recorder.breaks = self.breaks_view.breaks()
        self.runner: Any = None
        self.shown: int | None = None  # the scrubbed step, None: live
        self._drawn_version = -1
        self._cost_at = 0.0
        self.frames = 0
        self.frame_times: list[float] = []  # seconds each drawn frame took (for the bench)
        self.export_dir = os.getcwd()

        self.breaks_view.conditionsChanged.connect(self._set_breaks)
        self.breaks_view.faultSelected.connect(self.neuronAtFault)
        self.breakHit.connect(self._on_break)
        self.history_view.stepChosen.connect(self.show_step)
        self.history_view.capacityChanged.connect(self._capacity_changed)
        self.self_view.cellSelected.connect(self.wireSelected)
        self.cost_view.toggled.connect(self._set_profiling)

        # frames: at most ``fps`` a second, drawn in turns of the event loop of
        # at most ``turn`` seconds each (no long stall), slowed down when drawing takes more than
        # ``budget`` of the UI thread's time (so the engine keeps its speed)
        self.fps = fps
        self.budget: float | None = None  # e.g. 0.2; None: always ``fps``
        self.turn = 0.006  # seconds of drawing per turn of the event loop, at most (about)
        self._pending: list[ProbeWidget] = []
        self._busy_at = (time.perf_counter(), time.thread_time())
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(max(1, int(1000 / fps)))
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    running: Any = None  # the studio's RunningState (``follow_running``), None headless

    def follow_running(self, state: Any, design_matrix: Any) -> None:
        """Read ``state`` (a ``RunningState``: ``matrix``, ``t``, ``changed``) for the
        live ``W_t``; ``design_matrix()`` gives the design's ``W_0`` (shown at design time)."""
        self.running = state
        self.self_view.follow(state, design_matrix)
        state.changed.connect(self._running_changed)

    def _running_changed(self) -> None:
        if self.shown is None and self.self_view.isVisible():
            self._draw_self()

    def _capacity_changed(self, k: int) -> None:
        if self.runner is not None:
            self.runner.set_history(k)
        self.redraw()

    # ------------------------------------------------------------ the runner
    def attach(self, runner: RunnerLike) -> None:
        """Follow a runner: send it the probes, breaks and settings to record
        with its machine, keep a copy of the record fed by its frames (the
        latest steps) and synced whole whenever the run stops, redraw on its
        frames, pause and name the neuron on a break."""
        self.runner = runner
        runner.stepped.connect(self._on_runner_frame)
        runner.recorded.connect(self._ingest)
        runner.synced.connect(self._synced)
        runner.breakHit.connect(self.breakHit)
        runner.set_history(self.recorder.history.capacity)
        runner.set_breaks(self.recorder.breaks)
        runner.set_probes(self._specs())
        runner.set_profiling(self.tap.profiling)
        runner.set_recording(self.live)

    def _specs(self) -> list[ProbeSpec]:
        return [b.spec for b in self.recorder.probes.values()]

    def _ingest(self, t: int, state: Any, packet: Any) -> None:
        """A frame of the runner: the latest steps into the copy of the record."""
        if not self.live:
            return
        self.recorder.ingest(t, state, packet)
        costs = packet.get("costs")
        if costs is not None and self.tap.profiling:
            self.cost_view.show_costs(costs)
            self.costsUpdated.emit(costs)
        self._tick()  # the engine's frames set the pace (30 a second, at most)

    def _synced(self, record: Any) -> None:
        """The whole record (the run stopped): every kept step."""
        self.recorder.load_export(record)
        self.history_view.refresh(force=True)
        self.frame(force=True)

    def attach_engine(self, engine: Any) -> None:
        """Tap an engine directly (headless use, tests, the bench)."""
        self.tap.attach(engine)

    live = True

    def set_live(self, on: bool) -> None:
        """Inspect (record every step, draw frames) or not (the engine at full
        speed, nothing recorded): a switch for long unattended runs."""
        self.live = on
        if on:
            self.timer.start()
        else:
            self.timer.stop()
        if self.runner is not None:
            self.runner.set_recording(on)
        elif not on:
            self.tap.detach()

    def _on_runner_frame(self, frame: Any) -> None:
        if not self.live:
            return
        if not getattr(self.runner, "running", False):
            self.frame()  # paused or stepped: draw now (the screenshot mode relies on it)

    def _set_breaks(self, breaks: Breaks) -> None:
        self.recorder.breaks = breaks
        if self.runner is not None:
            self.runner.set_breaks(breaks)

    def _set_profiling(self, on: bool) -> None:
        self.profiler.take()
        self.tap.profiling = on
        if self.runner is not None:
            self.runner.set_profiling(on)
        if not on:
            self.cost_view.show_costs({})

    def _on_break(self, hit: BreakHit) -> None:
        self.breaks_view.show_hit(hit)
        if self.runner is not None and getattr(self.runner, "running", False):
            self.runner.pause()
        if hit.neuron is not None:
            self.neuronAtFault.emit(hit.neuron)
        self.frame(force=True)

    # ------------------------------------------------------------ probes
    def add_probe(self, spec: ProbeSpec) -> ProbeWidget:
        if spec.key in self.probes.widgets:
            return self.probes.widgets[spec.key]
        buf = self.recorder.add_probe(spec)
        w = ProbeWidget(buf)
        w.closeRequested.connect(self.remove_probe)
        w.exportRequested.connect(self._export_dialog)
        w.viewChanged.connect(lambda _k, _m: self.probesChanged.emit(self.probe_layout()))
        w.zoom.toggled.connect(lambda _on: self.probesChanged.emit(self.probe_layout()))
        self.probes.add(w)
        w.refresh(self.shown)
        if self.runner is not None:
            self.runner.set_probes(self._specs())
        self.probesChanged.emit(self.probe_layout())
        return w

    def remove_probe(self, key: str) -> None:
        self.recorder.remove_probe(key)
        self.probes.remove(key)
        if self.runner is not None:
            self.runner.set_probes(self._specs())
        self.probesChanged.emit(self.probe_layout())

    def clear_probes(self) -> None:
        for key in list(self.probes.widgets):
            self.remove_probe(key)

    def probe_layout(self) -> dict[str, list[dict[str, Any]]]:
        """The probes as the file's layout keeps them: ``{"type/name": [probe, ...]}``."""
        out: dict[str, list[dict[str, Any]]] = {}
        for w in self.probes.widgets.values():
            spec = ProbeSpec(w.spec.type, w.spec.name, w.spec.port, w.spec.side, w.mode, w.zoom.isChecked())
            out.setdefault(f"{spec.type}/{spec.name}", []).append(spec.to_dict())
        return out

    def save_probes(self, layout: dict[str, Any]) -> None:
        """Write the probes into a network's layout (``layout[key]["probes"]``)."""
        mine = self.probe_layout()
        for key, entry in layout.items():
            if isinstance(entry, dict) and key not in mine:
                entry.pop("probes", None)
        for key, probes in mine.items():
            layout.setdefault(key, {})["probes"] = probes

    def load_probes(self, layout: Mapping[str, Any]) -> list[ProbeSpec]:
        """Open the probes a network's layout keeps (bad entries are skipped)."""
        specs = []
        for key, entry in layout.items():
            if not isinstance(entry, Mapping) or "/" not in key:
                continue
            f, _, n = key.partition("/")
            for d in entry.get("probes", []) or []:
                try:
                    spec = ProbeSpec.from_dict(f, n, d)
                except (KeyError, ValueError, TypeError):
                    continue
                self.add_probe(spec)
                specs.append(spec)
        return specs

    # ------------------------------------------------------------ drawing
    def frame(self, force: bool = False) -> None:
        """Draw what changed since the last frame (called by the timer)."""
        v = self.recorder.version
        if not force and v == self._drawn_version and self.shown is None:
            self._maybe_costs()
            return
        t0 = time.perf_counter()
        self._drawn_version = v
        self.recorder.sample()
        self.redraw()
        self.frames += 1
        self.frame_times.append(time.perf_counter() - t0)
        if len(self.frame_times) > 10_000:
            del self.frame_times[:5000]
        self._maybe_costs()

    def _tick(self) -> None:
        """A frame from the timer: like ``frame``, but a few probes at a time."""
        self._govern()
        if self._pending:
            return  # the last frame is still being drawn
        v = self.recorder.version
        if v == self._drawn_version and self.shown is None:
            self._maybe_costs()
            return
        t0 = time.perf_counter()
        self._drawn_version = v
        self._pending = self.probes.visible_widgets()
        self.recorder.sample({w.spec.key for w in self._pending})
        self._frame_t0 = t0
        self._drain()

    def _drain(self) -> None:
        # as many probes as fit in ``turn`` seconds, then back to the event loop
        # (a frame is usually one turn: each turn costs a wait for the GIL)
        t0 = time.perf_counter()
        pending = self._pending
        while pending:
            pending.pop(0).refresh(self.shown)
            if pending and time.perf_counter() - t0 > self.turn:
                QtCore.QTimer.singleShot(0, self._drain)
                return
        self._draw_self()
        if self.history_view.isVisible():
            self.history_view.refresh()
        self.frames += 1
        self.frame_times.append(time.perf_counter() - self._frame_t0)
        if len(self.frame_times) > 10_000:
            del self.frame_times[:5000]
        self._maybe_costs()

    _frame_t0 = 0.0

    def _govern(self) -> None:
        """Once a second: lower the frame rate while the UI thread is busier
        than ``budget``, raise it back (up to ``fps``) when it is not."""
        now, cpu = time.perf_counter(), time.thread_time()
        t0, c0 = self._busy_at
        if now - t0 < 1.0:
            return
        self._busy_at = (now, cpu)
        self.busy = (cpu - c0) / (now - t0)
        if self.budget is None:
            return
        interval = self.timer.interval()
        fastest = max(1, int(1000 / self.fps))
        if self.busy > self.budget:
            interval = min(500, int(interval * 1.3) + 1)
        elif self.busy < 0.7 * self.budget:
            interval = max(fastest, int(interval / 1.3))
        if interval != self.timer.interval():
            self.timer.setInterval(interval)

    busy = 0.0

    def redraw(self) -> None:
        for w in self.probes.visible_widgets():
            w.refresh(self.shown)
        self._draw_self()
        if self.history_view.isVisible():
            self.history_view.refresh()

    def _draw_self(self) -> None:
        h = self.recorder.history
        if self.shown is not None:
            t = self.shown
        else:
            latest = h.latest()
            st = self.running
            if st is not None and st.matrix is not None and st.t is not None:
                if latest is None or latest[0] < st.t:
                    # the record has nothing as new (recording off, or it lags): the
                    # running state's W_t, the step the canvas shows
                    if self.self_view.t != st.t and self.self_view.isVisible():
                        self.self_view.set_matrix(st.matrix, None, st.t)
                    return
            if latest is None:
                return
            t = latest[0]
        if self.self_view.t == t and self._self_version == self._drawn_version and self.shown is None:
            return
        try:
            w = h.matrix(t)
        except KeyError:
            return
        try:
            prev = h.matrix_before(t)
        except KeyError:
            prev = None
        if self.self_view.isVisible() or self.self_view.t is None or self.shown is not None:
            self._self_version = self._drawn_version
            try:
                self.self_view.set_matrix(w, prev, t)
            except Exception as e:  # the Self view alone: said in its place, the probes go on
                text = " ".join(f"{type(e).__name__}: {e}".split())[:160]
                self.self_view.info.setText(f"t = {t}: cannot show W: {text}")

    _self_version = -2

    def _maybe_costs(self) -> None:
        if not self.tap.profiling:
            return
        now = time.perf_counter()
        if now - self._cost_at < 0.5:
            return
        self._cost_at = now
        costs = self.profiler.costs()
        if costs:
            self.cost_view.show_costs(costs)
            self.costsUpdated.emit(costs)

    @QtCore.Slot(object)
    def show_step(self, t: int | None) -> None:
        """Show a kept step in the probes and the Self view (None: back to live)."""
        if t is not None and t not in self.recorder.history:
            return
        self.shown = t
        if self.history_view.shown != t:
            self.history_view.show_step(t)
            return  # show_step emits stepChosen, which comes back here
        self.redraw()
        state = self.recorder.history.get(t) if t is not None else None
        self.stepShown.emit(t, state)

    # ------------------------------------------------------------ selection
    @QtCore.Slot(object)
    def highlight_wire(self, wire: Any) -> None:
        """A wire selected on the canvas: outline its cell (None clears)."""
        if wire is None:
            self.self_view.clear_highlight()
        else:
            to, frm = wire
            self.self_view.highlight(tuple(to), tuple(frm))

    # ------------------------------------------------------------ export
    def export_probe(self, key: str, fmt: str, path: str) -> Any:
        w = self.probes.widgets[key]
        buf = w.buf
        if fmt == "csv":
            return export_csv(buf, path)
        if fmt == "npy":
            return export_npy(buf, path)
        if fmt in ("gif", "mp4"):
            return export_movie(buf, path)
        if fmt == "png":
            return export_png(w, path)
        raise ValueError(f"unknown export format {fmt!r}")

    def _export_dialog(self, key: str, fmt: str) -> None:
        safe = key.replace("/", "_").replace(" ", "_").replace("(", "").replace(")", "")
        default = os.path.join(self.export_dir, f"{safe}.{fmt}")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(None, f"Export {key}", default, f"*.{fmt}")
        if not path:
            return
        self.export_dir = os.path.dirname(path)
        try:
            self.export_probe(key, fmt, path)
        except Exception as e:  # shown, never a crash: in the probe's place and in a box
            w = self.probes.widgets.get(key)
            if w is not None:
                w._note(None, f"cannot export to {fmt.upper()}: {type(e).__name__}: {e}")
            QtWidgets.QMessageBox.warning(None, "Export", f"Cannot export {key} to {path}: {e}")


def matrix_at(state: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return matrix_of(state) if state else {}


__all__ = ["Inspector", "ProbesPanel", "RunnerLike", "NeuronId"]
