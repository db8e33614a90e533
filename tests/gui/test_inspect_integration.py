"""The inspectors inside the studio: wires picked in the Self view and on the
canvas, cost badges and hover texts, probes through the document, the docks."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from dmm_studio.network import Network

pytestmark = pytest.mark.gui
DELTA = ("self", "self", "delta")


def U(k):
    return ("identity", f"update-{k}", "single")


@pytest.fixture
def studio(win, qtbot):
    from dmm_studio.gui.inspect import install

    win.open_network(Network.load("examples/waves.dmm.json"), "examples/waves.dmm.json")
    insp = install(win)
    insp.docks["self"].show()
    insp.docks["self"].raise_()
    qtbot.wait(20)
    return win, insp


def step_to(qtbot, win, t):
    with qtbot.waitSignal(win.runner.stepped, timeout=10_000, check_params_cb=lambda f: f.t >= t):
        win.step(t - win.runner.t)


def test_a_self_view_cell_selects_its_wire_and_a_selected_wire_outlines_its_cell(studio, qtbot):
    win, insp = studio
    step_to(qtbot, win, 1)
    insp.frame(force=True)
    view = insp.self_view
    assert view.t == 1
    # click the cell of update-2 -> self/delta (W_1's delta row reads update-2)
    r, c = view.rows.index(DELTA), view.cols.index(U(2))
    pt = view.glw.mapFromScene(view.vb.mapViewToScene(QPointF(c, r)))
    with qtbot.waitSignal(win.canvas.wire_selected, timeout=2000) as sig:
        QTest.mouseClick(view.glw.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pt)
    assert sig.args == [(DELTA, U(2))]
    assert win.canvas.selected_wires() == [(DELTA, U(2))]
    assert win.canvas.pipes[(DELTA, U(2))].isSelected()
    # the other way: a wire selected on the canvas outlines its cell
    assert win.canvas.select_wire(U(3), U(3))
    assert win.canvas.selected_wires() == [(U(3), U(3))]
    assert view.highlighted == (U(3), U(3)) and view.selected.isVisible()
    rect = view.selected.rect()
    assert (rect.center().x(), rect.center().y()) == (view.cols.index(U(3)), view.rows.index(U(3)))
    # a wire the canvas does not draw selects nothing
    assert not win.canvas.select_wire(("nope", "x", "in"), U(1))
    assert win.canvas.selected_wires() == [(U(3), U(3))]
    # a click on empty canvas clears the outline
    win.canvas.viewer.scene().clearSelection()
    assert view.highlighted is None and not view.selected.isVisible()
