"""The inspectors inside the studio: wires picked in the Self view and on the
canvas, cost badges and hover texts, probes through the document, the docks."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from dmm_studio.gui.inspect import probe_selection
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


def test_cost_badges_on_the_canvas_follow_the_view_menu(studio, qtbot):
    win, insp = studio
    act = insp.cost_action
    assert act in win.menus["View"].actions()
    act.setChecked(True)
    assert insp.cost_view.enable.isChecked()  # measuring starts with the badges
    win.limit_box.setValue(0)
    with qtbot.waitSignal(insp.costsUpdated, timeout=10_000) as sig:
        win.run()
    win.pause()
    costs = sig.args[0]
    measured = {n: node for n, node in win.canvas.nodes.items() if n in costs or (n[0], "*") in costs}
    assert measured
    qtbot.waitUntil(lambda: all(n.view.cost_badge is not None for n in measured.values()), timeout=3000)
    for nid, node in win.canvas.nodes.items():
        badge = node.view.cost_badge
        if nid not in measured:  # not measured (the compiled engine's Self): no badge
            assert badge is None or not badge.isVisible()
            continue
        assert badge.isVisible()
        text = badge.text.text()
        assert "ms" in text or "\u00b5s" in text, (nid, text)
        # drawn above the node, on an item of its own (the node's properties untouched)
        assert badge.parentItem() is node.view and badge.pos().y() < 0
        assert "cost" not in node.model.custom_properties
    # the neuron that costs most is the reddest
    dearest = max(costs, key=costs.get)
    if dearest[1] != "*":
        red = win.canvas.nodes[dearest].view.cost_badge.brush().color().red()
        assert all(n.view.cost_badge.brush().color().red() <= red for n in measured.values())
    act.setChecked(False)
    assert not any(n.view.cost_badge.isVisible() for n in measured.values())
    # switching measuring off in the panel takes the badges away too
    act.setChecked(True)
    with qtbot.waitSignal(insp.costsUpdated, timeout=10_000):
        win.run()
    win.pause()
    assert all(n.view.cost_badge.isVisible() for n in measured.values())
    insp.cost_view.enable.setChecked(False)
    assert not act.isChecked()
    assert not any(n.view.cost_badge.isVisible() for n in measured.values())


def test_hover_on_ports_and_wires_shows_the_value_in_brief(studio, qtbot):
    win, insp = studio
    step_to(qtbot, win, 2)
    # the frame of step 2 can arrive before the engine's record of steps 1..2 (an input's value
    # needs the step before): wait for the record, which a loaded machine sends later
    qtbot.waitUntil(lambda: 1 in insp.recorder.history and 2 in insp.recorder.history, timeout=10_000)
    insp.frame(force=True)
    canvas = win.canvas
    canvas.viewer.resetTransform()  # zoomed in: ports and labels are drawn
    assert canvas.viewer.detail_shown
    node = canvas.nodes[("identity", "update-2")]
    out_item = next(p for p in node.view.outputs if p.name == "single")
    at = out_item.sceneBoundingRect().center()
    assert canvas.hover_target(at) == ("port", ("identity", "update-2", "single", "output"))
    text = canvas.hover_text_at(at)
    assert text.startswith("identity/update-2/single at step 2: {self/self/delta/identity/")
    in_item = next(p for p in node.view.inputs if p.name == "single")
    text = canvas.hover_text_at(in_item.sceneBoundingRect().center())
    assert text.startswith("identity/update-2/single (input) at step 2: {self/self/delta/")
    # a wire: its weight and what it carries (update-2 -> self/delta holds at t = 1 .. 2 in turn)
    key = next(k for k in canvas.pipes if k[0] == DELTA)
    pipe = canvas.pipes[key]
    at = (
        pipe.label.sceneBoundingRect().center() if pipe.label is not None else pipe.path().pointAtPercent(0.5)
    )
    assert canvas.hover_target(at) == ("wire", key)
    text = canvas.hover_text_at(at)
    assert text.startswith(
        f"{'/'.join(key[1])} -> self/self/delta at step 2: w = 1; carries {{self/self/delta/"
    )
    # the canvas shows it as the tooltip of the view
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    vp = canvas.viewer.viewport()
    pos = canvas.viewer.mapFromScene(at)
    QApplication.sendEvent(vp, QHelpEvent(QEvent.Type.ToolTip, pos, vp.mapToGlobal(pos)))
    assert QToolTip.isVisible() and QToolTip.text() == text
    QToolTip.hideText()


def test_probe_edits_are_document_edits_that_undo(studio, qtbot):
    win, insp = studio
    doc = win.doc
    assert doc.undo_stack.isClean()
    win.canvas.select([("identity", "update-1"), ("identity", "update-2")])
    win.resizeDocks([insp.docks["probes"]], [60], Qt.Orientation.Vertical)  # squeezed by the user
    specs = probe_selection(win, insp)
    assert {s.key for s in specs} == {"identity/update-1/single", "identity/update-2/single"}
    qtbot.waitUntil(lambda: insp.docks["probes"].height() >= 240, timeout=2000)  # room to see them
    # one edit: the file is marked changed, the layout keeps the probes
    assert doc.undo_stack.count() == 1 and not doc.undo_stack.isClean()
    assert win.windowTitle().startswith("waves.dmm.json*")
    assert doc.network.layout["identity/update-1"]["probes"] == [{"port": "single"}]
    assert "pos" in doc.network.layout["identity/update-1"]  # the rest of the entry is kept
    # closing a probe is an edit too
    insp.remove_probe("identity/update-1/single")
    assert doc.undo_stack.count() == 2
    assert "probes" not in doc.network.layout["identity/update-1"]
    doc.undo_stack.undo()
    assert set(insp.probes.widgets) == {"identity/update-1/single", "identity/update-2/single"}
    assert doc.network.layout["identity/update-1"]["probes"] == [{"port": "single"}]
    doc.undo_stack.undo()
    assert insp.probes.widgets == {} and doc.undo_stack.isClean()
    assert all("probes" not in e for e in doc.network.layout.values())
    assert "pos" in doc.network.layout["identity/update-1"]
    doc.undo_stack.redo()
    assert set(insp.probes.widgets) == {"identity/update-1/single", "identity/update-2/single"}


def test_probe_selected_outputs_of_a_run_time_neuron(win, qtbot, tmp_path, monkeypatch):
    from dmm_studio.gui.inspect import install

    from .test_studio import TOTAL, open_as_user, run_until, self_growing_network

    open_as_user(win, monkeypatch, self_growing_network(tmp_path, shrink_at=None))
    insp = install(win)
    run_until(qtbot, win, lambda: TOTAL in win.canvas.runtime)
    win.canvas.runtime[TOTAL].view.setSelected(True)
    assert win.canvas.selected_runtime() == [TOTAL] and win.canvas.selected_neurons() == []
    specs = probe_selection(win, insp)
    assert [s.key for s in specs] == ["accum/total/single"]
    w = insp.probes.widgets["accum/total/single"]
    win.step(3)
    qtbot.waitUntil(lambda: w.buf.last_t() is not None and w.buf.last_t() >= win.runner.t > 0, timeout=5000)
    t, v = w.buf.latest()
    net, now = win.runner.host.request_snapshot()  # the running machine, between two steps
    assert v == net.outputs[TOTAL[0]][TOTAL[1]]["single"] or t < now
    assert insp.docks["probes"].isVisible()
    # inputs too
    specs = probe_selection(win, insp, side="input")
    assert {s.key for s in specs} == {"accum/total/accum (input)", "accum/total/delta (input)"}


def test_self_view_stays_in_front_after_the_window_tidies_its_docks(qtbot):
    from argparse import Namespace

    from dmm_studio.gui import _inspect_hook
    from dmm_studio.gui.document import Document
    from dmm_studio.gui.main_window import MainWindow

    win = MainWindow(Document(), process=True)
    qtbot.addWidget(win)
    try:
        win.open_network(Network.load("examples/waves.dmm.json"))
        _inspect_hook(win, Namespace(probe=["identity/update-1/single"], self_view=True))
        win.tidy_docks()  # as launch does, before the event loop runs
        win.show()
        qtbot.waitExposed(win)
        docks = win.inspector.docks
        assert win.tabifiedDockWidgets(docks["self"])  # it shares its place with Properties
        assert docks["self"].isVisible() and not docks["self"].visibleRegion().isEmpty()
        assert win.properties_dock.visibleRegion().isEmpty()
        assert docks["probes"].isVisible() and not docks["probes"].visibleRegion().isEmpty()
        # command-line probes are kept with the file, but are no edit to undo
        assert win.doc.network.layout["identity/update-1"]["probes"] == [{"port": "single"}]
        assert win.doc.undo_stack.isClean()
    finally:
        win.runner.shutdown()
