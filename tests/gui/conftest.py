"""Fixtures for the studio's tests: a main window on an empty network, and
helpers that act as a user would (drop a type from the palette, drag a wire
from an output port to an input port, type into the properties panel).

The window runs its engine as users run it: in a process of its own. A child
takes ~2 s to start (it imports torch), so the children of closed runners are
kept for the next test (``HostProcess.reuse``: each starts afresh, nothing
kept but the imports)."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("NodeGraphQt")

from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


@pytest.fixture(scope="session")
def _engine_pool():
    from dmm_studio.host.parent import _close_pool

    yield
    _close_pool()


@pytest.fixture(autouse=True)
def reuse_engine_processes(_engine_pool):
    """The studio's tests only: other tests see children end when closed."""
    from dmm_studio.host import HostProcess

    HostProcess.reuse = True
    yield
    HostProcess.reuse = False


@pytest.fixture
def win(qtbot):
    from dmm_studio.gui.document import Document
    from dmm_studio.gui.main_window import MainWindow

    w = MainWindow(Document(), process=True)
    qtbot.addWidget(w)
    w.resize(1300, 850)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.runner.shutdown()


def drop_type(win, type_id: str, scene_pos: tuple[float, float]) -> tuple[str, str]:
    """Drag a type from the palette and drop it on the canvas at ``scene_pos``."""
    item = win.palette.items[type_id]
    mime = win.palette.tree.mimeData([item])
    viewer = win.canvas.viewer
    vp = viewer.mapFromScene(QPointF(*scene_pos))
    before = set(win.doc.network.neurons())
    for cls in (QDragEnterEvent, QDragMoveEvent):
        ev = cls(
            vp, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        )
        QApplication.sendEvent(viewer.viewport(), ev)
    ev = QDropEvent(
        QPointF(vp), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(viewer.viewport(), ev)
    (new,) = set(win.doc.network.neurons()) - before
    return new


def port_point(win, nid, side: str, name: str) -> QPoint:
    node = win.canvas.nodes[nid]
    port = node.get_input(name) if side == "in" else node.get_output(name)
    view = port.view
    c = view.sceneBoundingRect().center()
    return win.canvas.viewer.mapFromScene(c)


def drag_wire(win, frm: tuple[str, str, str], to: tuple[str, str, str]) -> None:
    """Press on an output port, move to an input port, release: as a user draws a wire."""
    vp = win.canvas.viewer.viewport()
    a = port_point(win, frm[:2], "out", frm[2])
    b = port_point(win, to[:2], "in", to[2])
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    mid = QPoint((a.x() + b.x()) // 2, (a.y() + b.y()) // 2)
    for p in (mid, b):
        QTest.mouseMove(vp, p)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)


def select_node(win, nid) -> None:
    """Click a node's title bar."""
    node = win.canvas.nodes[nid]
    r = node.view.sceneBoundingRect()
    p = win.canvas.viewer.mapFromScene(QPointF(r.center().x(), r.top() + 8))
    QTest.mouseClick(
        win.canvas.viewer.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p
    )


def type_into(qtbot, edit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    edit.editingFinished.emit()
