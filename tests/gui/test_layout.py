"""A layout you can read: the window opens inside the screen, remembers its
size, place and docks, View -> Reset Layout, the canvas keeps its zoom and
centre, and the docks have room to show what they hold.

QSettings and the state folder point into tmp_path, never at the real home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import platformdirs
import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QDockWidget, QWidget

from dmm_studio.network import Network

from ..conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.gui


@pytest.fixture
def home(tmp_path, monkeypatch):
    config, state = tmp_path / "config", tmp_path / "state" / "dmm-studio"
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(config))
    monkeypatch.setattr(platformdirs, "user_state_dir", lambda *a, **k: str(state))
    yield {"config": config, "state": state}
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "after"))


def window(qtbot, remember=False):
    from dmm_studio.gui.document import Document
    from dmm_studio.gui.main_window import MainWindow

    w = MainWindow(Document(), remember=remember)
    qtbot.addWidget(w)
    return w


def close(w):
    w.asks_user = False
    w.close()


# the real entry point twice, on a 1366x768 screen (offscreen, configured):
# where the window opens; then moved and resized by the user, closed, opened again
LAUNCH_TWICE = textwrap.dedent(
    """
    import json, sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow
    app = QApplication([])
    from dmm_studio.cli import build_parser
    from dmm_studio.gui import launch

    def main_window():
        return [w for w in app.topLevelWidgets() if isinstance(w, QMainWindow) and w.isVisible()][0]

    def when_shown(then):
        # the launch's event loop runs, its window is shown: then report
        if any(isinstance(w, QMainWindow) and w.isVisible() for w in app.topLevelWidgets()):
            QTimer.singleShot(300, then)
        else:
            QTimer.singleShot(100, lambda: when_shown(then))

    def report(then=None):
        w = main_window()
        g, s = w.frameGeometry(), w.screen().availableGeometry()
        docks = {d.windowTitle(): d.isVisible() for d in w.findChildren(type(w.palette_dock))}
        print(json.dumps({"frame": [g.x(), g.y(), g.width(), g.height()], "size": [w.width(), w.height()],
                          "screen": [s.x(), s.y(), s.width(), s.height()], "docks": docks}), flush=True)
        if then:
            then(w)
        w.close()

    def move(w):
        w.resize(1100, 720)
        w.move(20, 10)
        w.palette_dock.hide()

    args = build_parser().parse_args(["open", "examples/waves.dmm.json", "--engine-thread"])
    QTimer.singleShot(0, lambda: when_shown(lambda: report(move)))
    launch(args)
    QTimer.singleShot(0, lambda: when_shown(report))
    launch(args)
    """
)


def test_the_studio_opens_inside_the_screen_and_remembers_its_layout(tmp_path):
    screen = (1366, 768)  # a common laptop (the window opened 1400 x 1207 before)
    config = tmp_path / "screen.json"
    config.write_text(
        json.dumps(
            {"screens": [{"name": "s", "x": 0, "y": 0, "width": screen[0], "height": screen[1], "dpr": 1}]}
        )
    )
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    proc = subprocess.run(
        [sys.executable, "-c", LAUNCH_TWICE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    first, second = (json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{"))
    x, y, w, h = first["frame"]
    sx, sy, sw, sh = first["screen"]
    assert sx <= x and sy <= y and x + w <= sx + sw and y + h <= sy + sh, first  # inside the screen
    assert w >= min(1200, sw * 0.8) and h >= min(800, sh * 0.8), first  # and not a small window
    assert first["docks"]["Neurons"] is True
    # the second launch: where and how big the user left it, the Neurons dock still closed
    assert second["size"] == [1100, 720], second
    # (where the frame's top-left lands depends on the platform's decorations)
    assert abs(second["frame"][0] - 20) <= 20 and abs(second["frame"][1] - 10) <= 20, second
    assert second["docks"]["Neurons"] is False


def test_docks_are_remembered_and_reset_layout_restores_the_default(qtbot, home):
    w = window(qtbot, remember=True)
    w.show()
    qtbot.waitExposed(w)
    default = w.size()
    w.palette_dock.hide()
    w.properties_dock.setFloating(True)
    w.resize(700, 520)
    close(w)

    again = window(qtbot, remember=True)
    try:
        again.show()
        qtbot.waitExposed(again)
        assert not again.palette_dock.isVisible()
        assert again.properties_dock.isFloating()
        assert again.size().width() == 700
        again.actions_by_name["Reset Layout"].trigger()
        assert again.palette_dock.isVisible()
        assert not again.properties_dock.isFloating()
        assert again.dockWidgetArea(again.properties_dock) == Qt.DockWidgetArea.RightDockWidgetArea
        assert again.size() == default
    finally:
        close(again)


def _view(win):
    v = win.canvas.viewer
    c = v.mapToScene(v.viewport().rect().center())
    return v.transform().m11(), c.x(), c.y()


def test_the_canvas_keeps_its_zoom_and_centre(win, qtbot):
    win.open_network(Network.load(EXAMPLES / "waves.dmm.json"))
    qtbot.wait(50)
    win.canvas.frame_all()
    # the user clicks the canvas: the window has settled (no refit from now on)
    qtbot.mouseClick(win.canvas.viewer.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert not win.keep_view.settling
    scale, cx, cy = _view(win)
    assert win.canvas.viewer.labels_shown
    # the window gets smaller, a wide dock opens, it closes, the window grows
    side = QWidget()
    side.setMinimumWidth(450)
    for act in (
        lambda: win.resize(900, 600),
        lambda: win.add_dock("Wide", side, Qt.DockWidgetArea.RightDockWidgetArea),
        lambda: win.findChild(QDockWidget, "dock:Wide").hide(),
        lambda: win.resize(1500, 950),
    ):
        act()
        qtbot.wait(30)
        s, x, y = _view(win)
        assert s == pytest.approx(scale, rel=0.005)
        assert (x, y) == (pytest.approx(cx, abs=2), pytest.approx(cy, abs=2))
    assert win.canvas.viewer.labels_shown


def studio(qtbot):
    """The window as ``dmm-studio`` builds it (every panel installed), 1400 x 900."""
    import argparse

    from dmm_studio.gui import _inspect_hook

    w = window(qtbot)
    _inspect_hook(w, argparse.Namespace(probe=None, self_view=False))
    w.tidy_docks()
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_docks_opened_from_the_view_menu_get_room_to_read(qtbot):
    from dmm_studio.gui.inspect import probe_selection

    w = studio(qtbot)
    try:
        w.open_network(Network.load(EXAMPLES / "waves.dmm.json"))
        insp = w.inspector
        left = w.palette_dock.width()
        # the Self view: the whole height of its side, wide enough for its labels
        self_dock = insp.docks["self"]
        # waves opens its probes, Self view and History (the file's probes and meta views,
        # also once the event loop runs): closed first, then opened from the menu
        qtbot.waitUntil(lambda: insp.docks["history"].isVisible(), timeout=3000)
        qtbot.wait(50)
        for d in (self_dock, insp.docks["history"], insp.docks["probes"]):
            if d.toggleViewAction().isChecked():
                d.toggleViewAction().trigger()
        self_dock.toggleViewAction().trigger()
        qtbot.waitUntil(lambda: self_dock.width() >= 520 and self_dock.height() >= 600, timeout=3000)
        assert insp.self_view.glw.height() >= 500
        assert w.palette_dock.width() == left  # the room comes from the canvas
        # probes: plots at least 150 px tall
        w.canvas.select([("identity", "update-1"), ("identity", "update-2")])
        probe_selection(w, insp)
        probes = insp.docks["probes"]
        qtbot.waitUntil(lambda: probes.height() >= 250, timeout=3000)
        for pw in insp.probes.widgets.values():
            assert pw.stack.currentWidget().height() >= 150  # the plot, bars or image
        # History, a tab beside the probes: as tall
        history = insp.docks["history"]
        history.toggleViewAction().trigger()
        qtbot.waitUntil(lambda: history.isVisible() and history.height() >= 240, timeout=3000)
        # a splitter can still give the Self view more room
        w.resizeDocks([self_dock], [700], Qt.Orientation.Horizontal)
        qtbot.waitUntil(lambda: self_dock.width() >= 690, timeout=3000)
    finally:
        close(w)


def test_without_a_display_the_studio_says_so_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["QT_QPA_PLATFORM"] = "xcb"
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    proc = subprocess.run(
        [sys.executable, "-m", "dmm_studio.cli", "open", "examples/counter.dmm.json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    from dmm_studio.gui.qt_start import EXIT_NO_DISPLAY

    assert proc.returncode == EXIT_NO_DISPLAY, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "cannot start its 'xcb' platform plugin" in lines[0]
    assert "libxcb-icccm4 libxcb-keysyms1" in lines[0] and "--screenshot" in lines[0]


def test_what_keepview_relies_on_in_nodegraphqt_is_there():
    import inspect

    from NodeGraphQt.widgets.viewer import NodeViewer

    from dmm_studio.gui.layout import KeepView

    source = inspect.getsource(NodeViewer)
    resize = inspect.getsource(NodeViewer.resizeEvent)
    for name in KeepView.PRIVATES:
        assert name in source, f"NodeViewer no longer has {name}"
    assert "self._last_size" in resize and "self._set_viewer_zoom(delta)" in resize


def test_the_whole_network_is_in_view_when_the_studio_opens(qtbot):
    """The canvas keeps its zoom through resizes, so the first framing waits for
    the docks asked for on the command line (a wide Self view, probes)."""
    import argparse

    from dmm_studio.gui import _inspect_hook

    w = window(qtbot)
    try:
        w.open_network(Network.load(EXAMPLES / "waves.dmm.json"))
        _inspect_hook(w, argparse.Namespace(probe=["identity/update-1/single"], self_view=True))
        w.tidy_docks()
        w.resize(1400, 900)
        w.show()
        w.canvas.frame_all()  # as launch does
        qtbot.wait(50)
        w.resize(1256, 706)  # the size a window manager gives it later (1366 x 768 screen)
        qtbot.wait(300)
        v = w.canvas.viewer
        seen = v.mapToScene(v.viewport().rect()).boundingRect()
        for nid, node in w.canvas.nodes.items():
            assert seen.contains(node.view.sceneBoundingRect()), nid
    finally:
        close(w)


def test_the_tests_keep_the_studio_out_of_the_users_home():
    from dmm_studio.gui import settings as st

    home = str(__import__("pathlib").Path.home())
    for path in (st.settings().fileName(), str(st.state_dir())):
        assert not path.startswith(os.path.join(home, ".")), path
