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
    QTest.mouseClick(
        vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(vp.width() - 30, 30)
    )
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


def test_format_weight_is_compact():
    from dmm_studio.gui.canvas.look import format_weight, format_weight_exact

    cases = [
        (1, "1"),
        (1.0, "1"),
        (-0.5, "-0.5"),
        (0.3, "0.3"),
        (0.1 + 0.2, "0.3"),
        (1 / 3, "0.3333"),
        (1e300, "1e300"),
        (2.5e-07, "2.5e-07"),
        (12345, "12345"),
        (123456789, "1.235e8"),
        (10**300, "1e300"),
        (-(10**400), "-1e400"),  # an exact integer past float's range
        (float("inf"), "inf"),
        (float("nan"), "nan"),
    ]
    for w, text in cases:
        assert format_weight(w) == text, w
    # an editor starts from the weight in full: Enter on it changes nothing
    for w in (1 / 3, 1e300, 2.5e-07, 7, 7.0, 10**20):
        assert float(format_weight_exact(w)) == w


def _label(win, to, frm) -> str:
    return win.canvas.pipes[(to, frm)].label.text.text()


def test_weight_labels_are_compact_on_the_canvas_and_in_w_t(win, qtbot):
    from dmm_studio.network import Network

    net = Network.empty()
    net.add_neuron("accum", "count", pos=(0.0, 0.0))
    net.add_neuron("identity", "one", pos=(-300.0, 0.0))
    net.set_output("identity", "one", "single", 1)
    big, tiny = ("accum", "count", "accum"), ("accum", "count", "delta")
    net.set_weight(big, ("accum", "count", "single"), 1e300)
    net.set_weight(tiny, ("identity", "one", "single"), 2.5e-07)
    net.set_weight(("identity", "one", "single"), ("identity", "one", "single"), 10**300)
    win.open_network(net, ask=False)
    assert _label(win, big, ("accum", "count", "single")) == "1e300"
    assert _label(win, tiny, ("identity", "one", "single")) == "2.5e-07"
    assert _label(win, ("identity", "one", "single"), ("identity", "one", "single")) == "1e300"
    for pipe in win.canvas.pipes.values():
        assert pipe.label.text.boundingRect().width() < 80
    # the running matrix W_t's labels use the same format
    win.actions_by_name["Step"].trigger()
    qtbot.waitUntil(lambda: win.last_frame is not None and win.last_frame.t >= 1, timeout=15_000)
    assert _label(win, big, ("accum", "count", "single")) == "1e300"
    assert _label(win, tiny, ("identity", "one", "single")) == "2.5e-07"


def _bar(win) -> tuple[str, str, str]:
    return tuple(win.status_labels[k].text() for k in ("t", "active", "nonzeros"))


def test_status_bar_follows_the_design_before_the_first_step(win, qtbot):
    # the empty design: Self's own wire
    qtbot.waitUntil(lambda: _bar(win) == ("step 0", "1 active", "1 non-zeros"), timeout=2000)
    one = win.doc.add_neuron("identity", (-300.0, 0.0))
    single = (*one, "single")
    win.doc.set_output(one, "single", 1)
    win.doc.set_weight(single, single, 1)  # a constant: wired to itself
    qtbot.waitUntil(lambda: _bar(win) == ("step 0", "2 active", "2 non-zeros"), timeout=2000)
    count = win.doc.add_neuron("accum", (0.0, 0.0))
    win.doc.set_weight((*count, "delta"), single, 1)
    qtbot.waitUntil(lambda: _bar(win) == ("step 0", "3 active", "3 non-zeros"), timeout=2000)
    # the engine agrees at the first step (the matrix does not change here)
    win.actions_by_name["Step"].trigger()
    qtbot.waitUntil(lambda: win.last_frame is not None and win.last_frame.t >= 1, timeout=15_000)
    assert _bar(win) == ("step 1", "3 active", "3 non-zeros")
    # an undo before the next run: the bar follows the design again after Reset
    win.actions_by_name["Reset"].trigger()
    qtbot.waitUntil(lambda: _bar(win) == ("step 0", "3 active", "3 non-zeros"), timeout=5000)
    win.doc.undo_stack.undo()  # the delta wire
    qtbot.waitUntil(lambda: _bar(win) == ("step 0", "2 active", "2 non-zeros"), timeout=2000)


def test_status_bar_shows_a_rate_only_while_steps_are_taken(win, qtbot):
    # the design and a stopped run have no rate ("0 steps/s" after a run read as "nothing ran")
    qtbot.waitUntil(lambda: _bar(win)[0] == "step 0", timeout=2000)
    assert win.status_labels["rate"].text() == ""
    win._update_stats({"t": 7, "active": 3, "nonzeros": 3, "steps_per_s": 1234.4})
    assert win.status_labels["rate"].text() == "1,234 steps/s"
    win._update_stats({"t": 8, "active": 3, "nonzeros": 3, "steps_per_s": 2.5})
    assert win.status_labels["rate"].text() == "2.5 steps/s"
    win._update_stats({"t": 8, "active": 3, "nonzeros": 3, "steps_per_s": 0.0})
    assert win.status_labels["rate"].text() == ""
