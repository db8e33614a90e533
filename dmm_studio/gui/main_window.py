"""The studio's main window: canvas, palette, properties, run controls,
menus and toolbar, status bar, the dock layout (``add_dock``, ``tidy_docks``,
``give_room``, the remembered layout). The file operations (New, Open, Save,
snapshots, recovery) are the ``FileOps`` mixin of ``gui/file_ops.py``.

For other parts of the studio (inspectors, library):

- ``window.add_dock(title, widget, area=Qt.RightDockWidgetArea) -> QDockWidget``
- ``window.runner``: the ``Runner`` (``stepped(frame)``, ``running_changed``,
  ``halted``, ``failed``, ``broke``; see ``dmm_studio.gui.runner``): the engine
  in a process of its own with ``process=True`` (what ``dmm-studio open``
  uses), else in a thread of the studio's process (same messages)
- ``window.doc``: the ``Document`` (``doc.network`` is the design; edits via
  its methods; ``doc.replaced`` when another file is opened)
- ``window.canvas``: the ``Canvas`` (``selection_changed(list of (type, name))``,
  ``wire_selected``, ``select_wire(to, frm)``, ``show_costs``, ``hover_provider``,
  ``nodes[(type, name)]`` for the design's neurons, ``runtime[(type, name)]``
  for the neurons that only the running matrix has, ``frame_all()``)
- ``window.save_snapshot(path)``: the running state as a network file, without
  waiting for the current step (``snapshot_saved(path, t)`` once written)
- ``window.open_network(network, path=None) -> bool`` shows a Network (e.g. an
  example), after asking to save unsaved changes (False: the user kept them)
- ``window.menus["File"|"Edit"|"Run"|"View"]``: QMenus to add actions to
- ``window.front_docks``: docks that ``tidy_docks`` raises last (asked for on
  the command line)
- ``window.maybe_save() -> bool``: unsaved changes are saved, discarded or the
  caller is told to stop (Cancel, or a save that failed); call it before
  replacing the open design
- ``window.recent``: File -> Open Recent's ``RecentFiles``; ``window.autosave``:
  the ``Autosave`` (with ``remember=True``)

``MainWindow(remember=True)`` (what ``dmm-studio`` uses) keeps the window's
geometry, its docks and the recent files in ``settings.settings()``, autosaves
to ``settings.state_dir()/recovery`` and, when it is first shown, offers to
restore the work of a studio that crashed. ``window.asks_user`` (False
offscreen) says whether dialogs are shown; without them a refusal or a failed
save goes to the status bar.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QSpinBox,
    QToolBar,
    QWidget,
)

from ..matrix import matrix_neurons
from ..network import Connections, Network
from ..vvalue import size
from . import layout as lay
from . import settings as st
from .autosave import Autosave
from .canvas import Canvas
from .document import Document
from .editor import install as install_editor
from .file_ops import FileOps
from .outside_files import confirm_outside_files
from .packs_dialog import install as install_help_and_limits
from .palette import Palette, TabSearch
from .properties import PropertiesPanel
from .runner import Frame, Runner
from .sweep_view import open_sweep_dialog

NeuronId = tuple[str, str]

# bump when the docks change so much that a saved layout no longer fits
LAYOUT_VERSION = 1
# the room a dock gets when it opens: side docks this wide (and never squeezed
# below SIDE_MIN_HEIGHT between others), bottom docks a third of the window
SETTLE_MS = 2000  # after the first show, resizes refit the canvas (KeepView.settle)
SIDE_WIDTH = {"Neurons": 230, "Self view": 560}
SIDE_DEFAULT_WIDTH = 360
SIDE_MIN_HEIGHT = 360
BOTTOM_MIN_HEIGHT = 280


class MainWindow(FileOps, QMainWindow):
    snapshot_saved = Signal(str, int)  # path, step

    def __init__(
        self,
        doc: Document | None = None,
        engine: str | None = None,
        process: bool = False,
        remember: bool = False,
    ) -> None:
        super().__init__()
        self.remember = remember
        self.asks_user = not _offscreen()
        self.recent = st.RecentFiles(st.settings() if remember else None)
        self._placed = False
        self._default_layout: QByteArray | None = None
        self.doc = doc or Document()
        self.runner = Runner(engine, parent=self, thread=not process)
        self.canvas = Canvas(self.doc, self)
        self.setCentralWidget(self.canvas.widget)
        # the Neurons take the whole height on the left; the bottom docks (probes,
        # History) span the canvas and the right side, wide enough for two probes
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self._restoring = False
        self.keep_view = lay.KeepView(self.canvas.viewer, refit=lambda: self.canvas.frame_all())
        self.palette = Palette(self.doc.registry)
        self.properties = PropertiesPanel(self.doc)
        self.palette_dock = self.add_dock("Neurons", self.palette, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.properties_dock = self.add_dock(
            "Properties", self.properties, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.tab_search = TabSearch(self.doc.registry, self.canvas.viewer)
        self.menus: dict[str, Any] = {}
        self.front_docks: list[QDockWidget] = []  # raised last by tidy_docks
        self._build_actions()
        self._build_status()
        self.live = False  # the machine has left t = 0: edits go in as deltas
        self.dirty = True  # the design changed since the machine was loaded
        self.last_frame: Frame | None = None
        # design edits (the model's signals; moved to the new network on replaced)
        self._model = Connections(
            {
                "weightChanged": lambda to, frm, _o, new: self._on_edit(
                    "edit_weight", tuple(to), tuple(frm), new
                ),
                "outputChanged": lambda nid, o, _o, new: self._on_edit("set_output", nid, o, new),
                "paramChanged": self._on_param,
                "neuronAdded": lambda _nid: self._on_edit(None),
                "neuronRemoved": lambda nid: self._on_edit("remove_neuron", nid),
                "neuronRenamed": lambda f, old, new: self._on_edit("rename_neuron", f, old, new),
            }
        )
        self._model.bind(self.doc.network)
        self.doc.replaced.connect(self._on_replaced)
        self.doc.message.connect(self.show_message)
        self.doc.path_changed.connect(lambda _p: self._update_title())
        self.doc.path_changed.connect(lambda p: self.recent.add(p) if p else None)
        self.doc.undo_stack.cleanChanged.connect(lambda _c: self._update_title())
        self.canvas.selection_changed.connect(self.properties.show_selection)
        self.canvas.runtime_selected.connect(self.properties.show_runtime)
        self.properties.running_weight = self._running_weight
        self.canvas.wire_selected.connect(self.properties.show_wire)
        self.canvas.tab_requested.connect(self._tab_search)
        self.tab_search.chosen.connect(self._place_type)
        self.palette.type_activated.connect(self._place_type_at_center)
        self.canvas.live_weight_requested.connect(self._live_weight)
        self.runner.stepped.connect(self._on_frame)
        self.runner.running_changed.connect(self._on_running)
        self.runner.halted.connect(lambda m: self.show_message(m))
        self.runner.failed.connect(lambda m: self.show_message(f"stopped: {m}"))
        self.runner.broke.connect(lambda reason, _nid: self.show_message(f"paused at a break: {reason}"))
        self.resize(lay.DEFAULT_SIZE)
        self.autosave: Autosave | None = Autosave(self, st.state_dir() / "recovery") if remember else None
        self._update_title()
        self._on_running(False)
        self._design_stats_now()
        install_editor(self)  # Help, minimap, export, theme, backdrops (gui/editor.py)
        install_help_and_limits(self)  # Help -> Neuron Packs, Run -> Limits (after the Help menu)

    # ------------------------------------------------------------- API for other panels
    def add_dock(
        self, title: str, widget: QWidget, area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea
    ) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock:{title}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        dock.toggleViewAction().toggled.connect(lambda on, d=dock: self._dock_opened(d) if on else None)
        if hasattr(self, "menus") and "View" in self.menus:
            self.menus["View"].addAction(dock.toggleViewAction())
        return dock

    def tidy_docks(self) -> None:
        """Stack the docks of each side as tabs (the first one in front), so
        that the window keeps its size however many panels are installed.
        Properties and Neurons are raised, then the docks in ``front_docks``
        (those the command line asked for)."""
        by_area: dict[Any, list[QDockWidget]] = {}
        for dock in self.findChildren(QDockWidget):
            if dock.isVisible() or not dock.isHidden():
                by_area.setdefault(self.dockWidgetArea(dock), []).append(dock)
        for docks in by_area.values():
            first = docks[0]
            for d in docks[1:]:
                if d not in self.tabifiedDockWidgets(first):
                    self.tabifyDockWidget(first, d)
            first.raise_()
        self.properties_dock.raise_()
        self.palette_dock.raise_()
        for dock in self.front_docks:  # asked for (e.g. --self-view): in front of its tabs
            if not dock.isHidden():
                dock.raise_()
        # the canvas is the work area: side panels get what they need, no more
        # (a wide matrix view when one was asked for in front)
        widths = {Qt.DockWidgetArea.LeftDockWidgetArea: 230, Qt.DockWidgetArea.RightDockWidgetArea: 360}
        for area, width in widths.items():
            docks = by_area.get(area)
            if docks:
                if any(d in self.front_docks for d in docks):
                    width = 520
                self.resizeDocks([docks[0]], [width], Qt.Orientation.Horizontal)

    def _dock_opened(self, dock: QDockWidget) -> None:
        # opened by the user (or a panel) in a window on screen: not the docks that
        # show with the window, nor those of a layout being restored
        if self._placed and self.isVisible() and not self._restoring:
            QTimer.singleShot(0, lambda: self.give_room(dock))

    def give_room(self, dock: QDockWidget) -> None:
        """A dock that opens gets room to show what it holds: a side dock that
        would be squeezed under SIDE_MIN_HEIGHT between others becomes a tab of
        the tallest one, in front, at least ``SIDE_WIDTH`` wide (the Self view
        560); a bottom dock gets a third of the window (BOTTOM_MIN_HEIGHT at least)."""
        if dock.isHidden() or dock.isFloating():
            return
        A = Qt.DockWidgetArea
        area = self.dockWidgetArea(dock)
        if area in (A.LeftDockWidgetArea, A.RightDockWidgetArea):
            if dock.height() < SIDE_MIN_HEIGHT:
                others = [
                    d
                    for d in self.findChildren(QDockWidget)
                    if d is not dock
                    and d.isVisible()
                    and not d.isFloating()
                    and self.dockWidgetArea(d) == area
                ]
                if others:
                    self.tabifyDockWidget(max(others, key=lambda d: d.height()), dock)
            dock.raise_()
            want = min(SIDE_WIDTH.get(dock.windowTitle(), SIDE_DEFAULT_WIDTH), self.width() * 2 // 5)
            if dock.width() < want:
                self.resizeDocks([dock], [want], Qt.Orientation.Horizontal)
        elif area in (A.TopDockWidgetArea, A.BottomDockWidgetArea):
            dock.raise_()
            want = min(max(BOTTOM_MIN_HEIGHT, self.height() // 3), self.height() // 2)
            if dock.height() < want:
                self.resizeDocks([dock], [want], Qt.Orientation.Vertical)

    def open_network(self, net: Network, path: str | None = None, ask: bool = True) -> bool:
        """Show ``net`` in place of the open design. Unsaved changes are offered
        to be saved first (``maybe_save``; ``ask=False``: the caller has asked);
        False, and nothing changes, when the user cancels."""
        if ask and not self.maybe_save():
            return False
        self.runner.pause()
        self.doc.set_network(net, path)
        return True

    # ------------------------------------------------------------- actions
    def _act(self, menu: str, text: str, slot: Any, shortcut: Any = None, tip: str = "") -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        a.triggered.connect(lambda _=False: slot())
        if tip:
            a.setStatusTip(tip)
        self.menus[menu].addAction(a)
        self.actions_by_name[text.replace("&", "").replace("...", "")] = a
        return a

    def _build_actions(self) -> None:
        bar = self.menuBar()
        self.actions_by_name: dict[str, QAction] = {}
        for name in ("File", "Edit", "Run", "View"):
            self.menus[name] = bar.addMenu(f"&{name}")
        K = QKeySequence.StandardKey
        self._act("File", "&New", self.new_network, K.New)
        self._act("File", "&Open...", self.open_dialog, K.Open)
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.aboutToShow.connect(self._rebuild_recent)
        self.menus["File"].addMenu(self.recent_menu)
        self._rebuild_recent()
        self._act("File", "&Save", self.save, K.Save)
        self._act("File", "Save &As...", self.save_as, K.SaveAs)
        self._act(
            "File",
            "Save S&napshot...",
            self.save_snapshot_dialog,
            "Ctrl+Shift+N",
            "the running state as a new network file",
        )
        self._act(
            "File", "S&weep...", lambda: open_sweep_dialog(self), tip="run a *.sweep.json in the background"
        )
        self.menus["File"].addSeparator()
        self._act("File", "&Quit", self.close, K.Quit)
        undo = self.doc.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(K.Undo)
        redo = self.doc.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcut(K.Redo)
        self.menus["Edit"].addActions([undo, redo])
        self.actions_by_name["Undo"], self.actions_by_name["Redo"] = undo, redo
        self.menus["Edit"].addSeparator()
        self._act("Edit", "&Copy", self.copy, K.Copy)
        self._act("Edit", "Cu&t", self.cut, K.Cut)
        self._act("Edit", "&Paste", self.paste, K.Paste)
        self._act("Edit", "&Delete", self.delete_selection, QKeySequence(Qt.Key.Key_Delete))
        self.addAction(self._shortcut_only("Backspace", self.delete_selection))
        self._act("Edit", "Select &All", self.canvas.select_all, K.SelectAll)
        self._act("View", "&Frame All", self.canvas.frame_all, "F")
        self._act(
            "View",
            "Frame &Selection",
            lambda: self.canvas.frame_all(self.canvas.selected_neurons() or None),
            "Shift+F",
        )
        self._act("View", "&Reset Layout", self.reset_layout, tip="the window's default size and docks")
        self.menus["View"].addSeparator()
        self._act("Run", "&Step", lambda: self.step(1), "Ctrl+Right")
        self._act("Run", "&Run", self.run, "Ctrl+R")
        self._act("Run", "&Pause", self.pause, "Ctrl+P")
        self._act("Run", "R&eset", self.reset, "Ctrl+Shift+R")

        tb = QToolBar("Run", self)
        tb.setObjectName("run-toolbar")
        self.addToolBar(tb)
        for name in ("Step", "Run", "Pause", "Reset"):
            tb.addAction(self.actions_by_name[name])
        tb.addSeparator()
        tb.addWidget(QLabel(" limit "))
        self.limit_box = QSpinBox()
        self.limit_box.setRange(0, 1_000_000)
        self.limit_box.setValue(20)
        self.limit_box.setSuffix(" steps/s")
        self.limit_box.setSpecialValueText("no limit")
        self.limit_box.setToolTip("Steps per second while running (0: as fast as it goes)")
        self.limit_box.valueChanged.connect(self.runner.set_limit)
        tb.addWidget(self.limit_box)
        self.runner.set_limit(self.limit_box.value())

    def _shortcut_only(self, key: str, slot: Any) -> QAction:
        a = QAction(self)
        a.setShortcut(QKeySequence(key))
        a.triggered.connect(lambda _=False: slot())
        return a

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.status_labels = {k: QLabel() for k in ("t", "rate", "active", "nonzeros")}
        for lab in self.status_labels.values():
            sb.addPermanentWidget(lab)
        self._stats_pending = False
        self._update_stats({"t": 0, "active": 0, "nonzeros": 0, "steps_per_s": 0.0})

    def design_stats(self) -> dict[str, Any]:
        """The status bar's figures for the design's W_0 (what the engine reports
        at t = 0: neurons in the matrix, matrix leaves)."""
        w = self.doc.network.matrix
        return {"t": 0, "active": len(matrix_neurons(w)), "nonzeros": size(w), "steps_per_s": 0.0}

    def _design_stats_later(self) -> None:
        # edits come in bursts (a paste, a delete of a selection): count once after them
        if not self._stats_pending:
            self._stats_pending = True
            QTimer.singleShot(0, self._design_stats_now)

    def _design_stats_now(self) -> None:
        self._stats_pending = False
        if not self.live:
            self._update_stats(self.design_stats())

    def _update_stats(self, stats: dict[str, Any]) -> None:
        self.status_labels["t"].setText(f"step {stats.get('t', 0)}")
        rate = float(stats.get("steps_per_s", 0.0))
        # a rate only while steps are being taken ("0 steps/s" after a run read as "nothing ran")
        self.status_labels["rate"].setText(f"{rate:,.1f} steps/s" if 0 < rate < 10 else f"{rate:,.0f} steps/s" if rate else "")
        self.status_labels["active"].setText(f"{stats.get('active', 0)} active")
        self.status_labels["nonzeros"].setText(f"{stats.get('nonzeros', 0)} non-zeros")

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def _update_title(self) -> None:
        try:
            star = "" if self.doc.undo_stack.isClean() else "*"
        except RuntimeError:  # closing
            return
        self.setWindowTitle(f"{self.doc.title()}{star} - DMM Studio")

    # ------------------------------------------------------------- editing
    def copy(self) -> None:
        text = self.doc.copy_text(self.canvas.selected_neurons())
        # Plain text, not a QMimeData made in Python: the clipboard outlives the
        # interpreter, and destroying a Python-owned QMimeData in Qt's exit
        # handlers crashes the process (seen as a segfault after the tests).
        QApplication.clipboard().setText(text)

    def cut(self) -> None:
        self.copy()
        self.delete_selection()

    def paste(self) -> None:
        ids = self.doc.paste_text(QApplication.clipboard().text(), at=self.canvas.pointer_pos())
        if ids:
            self.canvas.select(ids)

    def delete_selection(self) -> None:
        if self.tab_search.isVisible():
            return
        ids = self.canvas.selected_neurons()
        runtime = self.canvas.selected_runtime()
        wires = self.canvas.selected_wires()
        if runtime and self.live:
            # neurons the network made: removed from the running machine alone
            for nid in runtime:
                self.runner.remove_neuron(nid)
        if wires and not ids and not runtime:
            self.doc.undo_stack.beginMacro("delete wires")
            for to, frm in wires:
                if not self.doc.disconnect(to, frm) and self.live:
                    self._live_weight(to, frm, 0)  # a wire that only W_t has
            self.doc.undo_stack.endMacro()
        elif ids:
            self.doc.remove_neurons(ids)

    def _tab_search(self, scene_pos: QPointF) -> None:
        view_pos = self.canvas.viewer.mapFromScene(scene_pos)
        self.tab_search.popup(scene_pos, view_pos)

    def _place_type(self, type: str, scene_pos: QPointF) -> None:
        nid = self.doc.add_neuron(type, (scene_pos.x(), scene_pos.y()))
        if nid is not None:
            self.canvas.select([nid])

    def _place_type_at_center(self, type: str) -> None:
        v = self.canvas.viewer
        self._place_type(type, v.mapToScene(v.viewport().rect().center()))

    # ------------------------------------------------------------- running
    def _ensure_loaded(self) -> None:
        if confirm_outside_files(self) and not self.live:  # asks before files outside its folder are read
            self.dirty = True
        if self.dirty and not self.live:
            self.runner.load(self.doc.network.copy())
            self.dirty = False

    def step(self, n: int = 1) -> None:
        self._ensure_loaded()
        self.live = True
        self.runner.step(n)

    def run(self) -> None:
        self._ensure_loaded()
        self.live = True
        self.runner.run()

    def pause(self) -> None:
        self.runner.pause()

    def reset(self) -> None:
        self.live = False
        self.dirty = False
        self.runner.reset(self.doc.network.copy())
        self.canvas.show_matrix(None)
        self._design_stats_now()

    def _live_weight(self, to: Any, frm: Any, w: Any) -> None:
        """A weight of W_t alone (a wire the network made, not in the design)."""
        if self.live:
            self.runner.edit_weight(tuple(to), tuple(frm), w)
            self.canvas.forget_live_wire((tuple(to), tuple(frm)), w)

    def _running_weight(self, key: Any) -> Any:
        """The weight of a wire in the W_t that the canvas shows (None at design time)."""
        return self.canvas.running.weight(key)

    def _on_running(self, on: bool) -> None:
        self.actions_by_name["Run"].setEnabled(not on)
        self.actions_by_name["Pause"].setEnabled(on)

    def _on_frame(self, frame: Frame) -> None:
        self.last_frame = frame
        # at t = 0 the bar follows the design (the machine may hold an older one until Run)
        self._update_stats(frame.stats if self.live or frame.t > 0 else self.design_stats())
        if self.live and frame.t > 0:
            self.canvas.show_matrix(frame.matrix, frame.active, frame.t)
        elif frame.t == 0:
            self.canvas.show_matrix(None)
        self.properties.follow_running()

    def _on_replaced(self) -> None:
        self._model.bind(self.doc.network)
        self.live = False
        self.dirty = False
        self.runner.reset(self.doc.network.copy())
        self._design_stats_now()
        QTimer.singleShot(0, self.canvas.frame_all)

    def _on_edit(self, runner_call: str | None, *args: Any) -> None:
        """A design edit: before the run, reload at the next start; during it,
        enter it live (``runner_call``: the runner's method, None for none)."""
        if not self.live:
            self.dirty = True
            self._design_stats_later()
        elif runner_call is not None:
            getattr(self.runner, runner_call)(*args)

    def _on_param(self, nid: Any, param: str, _old: Any, new: Any) -> None:
        if new is None:  # the param was cleared: its type's default applies
            new = self.doc.registry.get(nid[0]).params.get(param)
        self._on_edit("set_param", nid, param, new)

    def closeEvent(self, event: Any) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        if self.remember:
            self._save_layout()
        if self.autosave is not None:
            self.autosave.close()
        self.runner.shutdown()
        super().closeEvent(event)

    # ------------------------------------------------------------- layout
    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._placed:
            return
        self._placed = True
        # the whole network in view once the window has its size and its docks
        # (late, from some window managers): then the canvas keeps its zoom
        self.keep_view.settle(SETTLE_MS)
        self._default_layout = self.saveState(LAYOUT_VERSION)
        if self.remember:
            if not self._restore_layout():
                lay.place_on_screen(self)
            QTimer.singleShot(0, self.offer_recovery)
        elif not _offscreen():
            lay.place_on_screen(self)

    def _save_layout(self) -> None:
        s = st.settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState(LAYOUT_VERSION))
        s.sync()

    def _restore_layout(self) -> bool:
        """The size, place and docks of the last session (False: none kept, or unusable)."""
        s = st.settings()
        geometry, state = s.value("window/geometry"), s.value("window/state")
        if not isinstance(geometry, QByteArray) or not self.restoreGeometry(geometry):
            return False
        if isinstance(state, QByteArray):
            self._restoring = True
            try:
                self.restoreState(state, LAYOUT_VERSION)
            finally:
                self._restoring = False
        if not lay.inside_screen(self):  # kept from a bigger or a missing screen
            lay.place_on_screen(self)
        return True

    def reset_layout(self) -> None:
        """View -> Reset Layout: the default size, place and docks."""
        for dock in self.findChildren(QDockWidget):
            if dock.isFloating():
                dock.setFloating(False)
        if self._default_layout is not None:
            self._restoring = True
            try:
                self.restoreState(self._default_layout, LAYOUT_VERSION)
            finally:
                self._restoring = False
        self.tidy_docks()
        lay.place_on_screen(self)


def _offscreen() -> bool:
    return QApplication.platformName() in ("offscreen", "minimal")
