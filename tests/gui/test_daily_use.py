"""Faults a newcomer found driving the studio by keyboard and mouse: focus
after Tab search, compact weight labels, the status bar before a step."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui


def _focus_canvas(win, qtbot) -> None:
    win.activateWindow()
    qtbot.waitActive(win)
    vp = win.canvas.viewer.viewport()
    QTest.mouseClick(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(vp.width() - 30, 30))
    qtbot.waitUntil(lambda: QApplication.focusWidget() is win.canvas.viewer)


def test_tab_search_gives_focus_back_to_the_canvas(win, qtbot):
    _focus_canvas(win, qtbot)
    viewer = win.canvas.viewer
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert win.tab_search.isVisible()
    assert QApplication.focusWidget() is win.tab_search.edit
    QTest.keyClicks(QApplication.focusWidget(), "accum")
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert win.doc.network.has_neuron("accum", "accum")
    assert not win.tab_search.isVisible()
    assert QApplication.focusWidget() is viewer
    # the next Delete deletes the new neuron, not the step limit; Ctrl+Z brings it back
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Delete)
    assert win.limit_box.value() == 20
    assert not win.doc.network.has_neuron("accum", "accum")
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.doc.network.has_neuron("accum", "accum")
    # Tab then Escape: the canvas keeps the focus
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert win.tab_search.isVisible()
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    assert not win.tab_search.isVisible()
    assert QApplication.focusWidget() is viewer
    # a Tab typed in the search does not walk the tab chain out of it
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is win.tab_search.edit
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    assert QApplication.focusWidget() is viewer
