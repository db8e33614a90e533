"""The studio driven as a user drives it: palette, wires, properties, run."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication, QLabel

from dmm_studio import vvalue as vv
from dmm_studio.network import Network

from .conftest import drag_wire, drop_type, select_node, type_into

pytestmark = pytest.mark.gui


def wait_t(qtbot, win, t: int, timeout: int = 10_000):
    qtbot.waitUntil(lambda: win.last_frame is not None and win.last_frame.t >= t, timeout=timeout)
    return win.last_frame


def set_outputs(qtbot, win, nid, outputs: dict) -> None:
    """Select the neuron, type its initial outputs as JSON, press Apply."""
    select_node(win, nid)
    qtbot.waitUntil(lambda: win.properties.nid == nid)
    win.properties.outputs_edit.setPlainText(json.dumps(outputs))
    qtbot.mouseClick(win.properties.apply_outputs, Qt.MouseButton.LeftButton)


def rename(qtbot, win, nid, new: str) -> tuple[str, str]:
    select_node(win, nid)
    qtbot.waitUntil(lambda: win.properties.nid == nid)
    type_into(qtbot, win.properties.name_edit, new)
    qtbot.waitUntil(lambda: win.doc.network.has_neuron(nid[0], new))
    return (nid[0], new)


def build_counter(qtbot, win):
    one = rename(qtbot, win, drop_type(win, "identity", (-300, 0)), "one")
    count = rename(qtbot, win, drop_type(win, "accum", (0, 0)), "count")
    set_outputs(qtbot, win, one, {"single": 1})
    drag_wire(win, (*one, "single"), (*one, "single"))  # a constant: wired to itself
    drag_wire(win, (*count, "single"), (*count, "accum"))
    drag_wire(win, (*one, "single"), (*count, "delta"))
    return one, count


def test_empty_studio_has_self_that_cannot_be_deleted(win, qtbot):
    assert list(win.canvas.nodes) == [("self", "self")]
    win.canvas.select_all()
    win.actions_by_name["Delete"].trigger()
    assert win.doc.network.has_neuron("self", "self")
    assert "Self cannot be deleted" in win.statusBar().currentMessage()


def test_build_counter_from_palette_run_save_reopen(win, qtbot, tmp_path):
    one, count = build_counter(qtbot, win)
    net = win.doc.network
    assert net.weight((*count, "delta"), (*one, "single")) == 1
    assert net.weight((*one, "single"), (*one, "single")) == 1
    assert net.output(*one, "single") == {":number": 1}
    # the canvas draws what the model holds
    assert set(win.canvas.shown) == {(to, frm) for to, frm, _ in net.wires()}

    win.step(5)
    frame = wait_t(qtbot, win, 5)
    assert vv.get_in(frame.state, ("accum", "count", "single")) == {":number": 5}
    assert "step 5" in win.status_labels["t"].text()

    path = tmp_path / "counter.dmm.json"
    win.doc.save(str(path))
    again = Network.load(path)
    assert again.outputs == net.outputs
    assert again.layout == net.layout
    assert again.machine().engine is not None
    m = again.machine()
    m.step(3)
    assert m.output("accum", "count", "single") == {":number": 3}

    # reopen in the studio: same neurons, same wires, same places
    assert win.open_file(str(path))
    assert set(win.canvas.nodes) == {("self", "self"), one, count}
    assert set(win.canvas.shown) == {(to, frm) for to, frm, _ in again.wires()}
    for nid in (one, count):
        assert win.canvas.node_pos(nid) == tuple(again.layout[f"{nid[0]}/{nid[1]}"]["pos"])


def test_build_waves_from_palette_and_watch_the_wave(win, qtbot, tmp_path):
    ups = []
    for k, x in ((1, -350), (2, 0), (3, 350)):
        ups.append(rename(qtbot, win, drop_type(win, "identity", (x, 200)), f"update-{k}"))
    for k, nid in enumerate(ups, 1):
        nxt = ups[k % 3][1]
        delta = {"identity": {nid[1]: {"single": -1}, nxt: {"single": 1}}}
        set_outputs(qtbot, win, nid, {"single": {"self": {"self": {"delta": delta}}}})
        drag_wire(win, (*nid, "single"), (*nid, "single"))
    drag_wire(win, (*ups[0], "single"), ("self", "self", "delta"))
    ref = Network.load("examples/waves.dmm.json")
    assert win.doc.network.outputs == ref.outputs

    delta_in = ("self", "self", "delta")
    for t, src in ((1, "update-2"), (2, "update-3"), (3, "update-1"), (4, "update-2")):
        win.step(1)
        frame = wait_t(qtbot, win, t)
        row = vv.get_in(frame.matrix, delta_in)
        assert list(row["identity"]) == [src]
        # the canvas follows W_t: one wire into Self's delta, from the right neuron
        into = [k for k in win.canvas.shown if k[0] == delta_in]
        assert into == [(delta_in, ("identity", src, "single"))]
    # back to the design
    win.reset()
    qtbot.waitUntil(lambda: win.last_frame.t == 0)
    into = [k for k in win.canvas.shown if k[0] == delta_in]
    assert into == [(delta_in, ("identity", "update-1", "single"))]

    path = tmp_path / "waves.dmm.json"
    win.doc.save(str(path))
    assert Network.load(path).outputs == ref.outputs


def test_undo_redo_every_edit(win, qtbot):
    start = win.doc.network.copy()
    one, count = build_counter(qtbot, win)
    built = win.doc.network.copy()
    win.doc.remove_neurons([one])
    assert not win.doc.network.has_neuron(*one)
    assert all(one not in (to[:2], frm[:2]) for to, frm in win.canvas.shown)
    stack = win.doc.undo_stack
    win.actions_by_name["Undo"].trigger()
    assert win.doc.network.outputs == built.outputs
    assert set(win.canvas.shown) == {(to, frm) for to, frm, _ in built.wires()}
    while stack.canUndo():
        stack.undo()
    assert win.doc.network.outputs == start.outputs
    assert set(win.canvas.nodes) == {("self", "self")}
    while stack.index() < stack.count() - 1:  # all but the last edit (the removal)
        stack.redo()
    assert win.doc.network.outputs == built.outputs
    assert win.doc.network.layout == built.layout
    assert set(win.canvas.nodes) == {("self", "self"), one, count}
    stack.redo()
    assert not win.doc.network.has_neuron(*one)


def test_weight_typed_in_place_and_in_properties(win, qtbot):
    one, count = build_counter(qtbot, win)
    key = ((*count, "delta"), (*one, "single"))
    pipe = win.canvas.pipes[key]
    # double-click the wire: a line edit opens over it
    p = win.canvas.viewer.mapFromScene(pipe.path().pointAtPercent(0.25))
    qtbot.mouseDClick(win.canvas.viewer.viewport(), Qt.MouseButton.LeftButton, pos=p)
    edit = win.canvas.weight_editor
    assert edit.isVisible()
    # a click on a wire redraws it: the canvas still tracks it with its weight
    assert win.canvas.pipes[key].scene() is not None
    pipe = win.canvas.pipes[key]
    qtbot.keyClicks(edit, "2.5")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert win.doc.network.weight(*key) == 2.5
    assert pipe.weight == 2.5
    # the properties panel of the receiving neuron lists the wire
    win.canvas.select([])
    select_node(win, count)
    qtbot.waitUntil(lambda: win.properties.nid == count)
    rows = win.properties._wire_rows
    r = rows.index(key)
    win.properties.wires.item(r, 1).setText("-3")
    assert win.doc.network.weight(*key) == -3
    win.doc.undo_stack.undo()
    assert win.doc.network.weight(*key) == 2.5


def test_bad_json_and_bad_values_are_refused_clearly(win, qtbot):
    nid = drop_type(win, "identity", (0, 0))
    select_node(win, nid)
    qtbot.waitUntil(lambda: win.properties.nid == nid)
    win.properties.outputs_edit.setPlainText("{not json")
    assert not win.properties.commit_outputs()
    assert "not JSON" in win.properties.error.text()
    win.properties.outputs_edit.setPlainText('{"single": {":bad": 1}}')
    assert not win.properties.commit_outputs()
    assert win.properties.error.text()
    nacc = drop_type(win, "accum", (300, 0))
    select_node(win, nacc)
    qtbot.waitUntil(lambda: win.properties.nid == nacc)
    win.properties.outputs_edit.setPlainText('{"nope": 1}')
    assert not win.properties.commit_outputs()
    assert "no output 'nope'" in win.properties.error.text()
    # a name already taken by the same type is refused
    other = drop_type(win, "identity", (0, 300))
    select_node(win, other)
    qtbot.waitUntil(lambda: win.properties.nid == other)
    type_into(qtbot, win.properties.name_edit, nid[1])
    assert win.doc.network.has_neuron(*other)
    assert "already a neuron" in win.statusBar().currentMessage()


def test_incompatible_streams_are_refused(win, qtbot):
    torch = pytest.importorskip("torch")
    a = drop_type(win, "identity", (0, 0))
    b = drop_type(win, "identity", (0, 200))
    c = drop_type(win, "identity", (300, 100))
    win.doc.set_output(a, "single", {":tensor": torch.zeros(3)})
    win.doc.set_output(b, "single", {":tensor": torch.zeros(4)})
    drag_wire(win, (*a, "single"), (*c, "single"))
    assert win.doc.network.weight((*c, "single"), (*a, "single")) == 1
    drag_wire(win, (*b, "single"), (*c, "single"))
    assert win.doc.network.weight((*c, "single"), (*b, "single")) == 0
    assert "refused" in win.statusBar().currentMessage()
    assert ((*c, "single"), (*b, "single")) not in win.canvas.shown
    assert ((*c, "single"), (*b, "single")) not in win.canvas.pipes


def test_variadic_ports_from_the_context_menu(win, qtbot, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    nid = drop_type(win, "identity", (0, 0))
    acc = drop_type(win, "accum", (300, 0))
    answers = iter([("x", True), ("y", True)])
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: next(answers))

    def act(menu, text):
        for a in menu.actions():
            if a.text() == text:
                return a
            if a.menu():
                found = act(a.menu(), text)
                if found:
                    return found
        raise AssertionError(f"no action {text!r} in {[a.text() for a in menu.actions()]}")

    act(win.canvas.node_menu(nid), "Add port...").trigger()
    node = win.canvas.nodes[nid]
    assert "x" in node.inputs() and "x" in node.outputs()  # identity mirrors its ports
    drag_wire(win, (*nid, "x"), (*acc, "delta"))
    assert win.doc.network.weight((*acc, "delta"), (*nid, "x")) == 1
    # rename: the wire follows the port
    menu = win.canvas.node_menu(nid)
    rename_menu = next(a.menu() for a in menu.actions() if a.menu() and a.text().startswith("Rename"))
    act(rename_menu, "x").trigger()
    assert win.doc.network.weight((*acc, "delta"), (*nid, "y")) == 1
    assert win.doc.network.weight((*acc, "delta"), (*nid, "x")) == 0
    assert "y" in node.inputs() and "x" not in node.inputs()
    assert ((*acc, "delta"), (*nid, "y")) in win.canvas.shown
    # remove: its wire goes with it
    menu = win.canvas.node_menu(nid)
    remove_menu = next(a.menu() for a in menu.actions() if a.menu() and a.text().startswith("Remove"))
    act(remove_menu, "y").trigger()
    assert "y" not in node.inputs()
    assert win.doc.network.weight((*acc, "delta"), (*nid, "y")) == 0
    assert not [k for k in win.canvas.shown if k[1][:2] == nid]
    # fixed types have no port menu
    assert not [a for a in win.canvas.node_menu(acc).actions() if a.text().startswith("Add")]
    # undo brings the port and the wire back
    win.doc.undo_stack.undo()
    assert "y" in node.inputs()
    assert ((*acc, "delta"), (*nid, "y")) in win.canvas.shown
    # the ports survive a save
    assert "y" in win.doc.network.layout[f"identity/{nid[1]}"]["ports"]["inputs"]


def test_edit_while_running_takes_effect_without_restart(win, qtbot):
    one, count = build_counter(qtbot, win)
    win.limit_box.setValue(200)
    win.run()
    qtbot.waitUntil(lambda: win.runner.running, timeout=5000)
    f1 = wait_t(qtbot, win, 5)
    # while it runs: the weight of one -> count.delta becomes 10 (a delta into W_t)
    win.doc.set_weight((*count, "delta"), (*one, "single"), 10)
    t_edit = f1.t

    def jumped():
        f = win.last_frame
        w = vv.get_in(f.matrix, ("accum", "count", "delta", "identity", "one", "single"))
        return f.t > t_edit + 2 and w == 10

    qtbot.waitUntil(jumped, timeout=10_000)
    win.pause()
    qtbot.waitUntil(lambda: not win.runner.running, timeout=5000)
    f = win.last_frame
    value = vv.get_in(f.state, ("accum", "count", "single"))[":number"]
    # never restarted: the count went past t (it grew by 10 a step after the edit)
    assert value > f.t
    assert value < 10 * f.t
    # a new neuron and a wire while running
    two = rename(qtbot, win, drop_type(win, "identity", (-300, 300)), "two")
    set_outputs(qtbot, win, two, {"single": 100})
    drag_wire(win, (*two, "single"), (*two, "single"))
    drag_wire(win, (*two, "single"), (*count, "delta"))
    before = vv.get_in(win.last_frame.state, ("accum", "count", "single"))[":number"]
    t0 = win.last_frame.t
    win.step(2)
    f = wait_t(qtbot, win, t0 + 2)
    after = vv.get_in(f.state, ("accum", "count", "single"))[":number"]
    # two's output was entered into y_t when it was set: each step adds 10 + 100
    assert after - before == 2 * (10 + 100)
    # snapshot of the running state as a new file
    snap = win.runner.snapshot()
    assert vv.get_in(snap.outputs, ("accum", "count", "single"))[":number"] == after
    # removing a neuron while running: its wires leave W_t
    win.doc.remove_neurons([two])
    win.step(1)
    f = wait_t(qtbot, win, t0 + 3)
    assert ("identity", "two") not in f.active
    assert vv.get_in(f.state, ("accum", "count", "single"))[":number"] == after + 10


def test_copy_paste_select_all_frame_all(win, qtbot):
    one, count = build_counter(qtbot, win)
    win.canvas.select([one, count])
    win.actions_by_name["Copy"].trigger()
    win.actions_by_name["Paste"].trigger()
    net = win.doc.network
    names = {n for f, n in net.neurons() if f == "identity"}
    assert names == {"one", "one-2"}
    # wires among the pasted neurons are pasted too; the new ones are selected
    assert net.weight(("accum", "count-2", "delta"), ("identity", "one-2", "single")) == 1
    assert set(win.canvas.selected_neurons()) == {("identity", "one-2"), ("accum", "count-2")}
    assert net.output("identity", "one-2", "single") == {":number": 1}
    win.doc.undo_stack.undo()
    assert not net.has_neuron("identity", "one-2")
    win.actions_by_name["Select All"].trigger()
    assert set(win.canvas.selected_neurons()) == set(win.canvas.nodes)
    win.actions_by_name["Frame All"].trigger()
    view = win.canvas.viewer
    seen = view.mapToScene(view.viewport().rect()).boundingRect()
    for node in win.canvas.nodes.values():
        assert seen.contains(node.view.sceneBoundingRect())


def test_palette_search_and_tab_search(win, qtbot):
    win.palette.search.setText("accu")
    assert win.palette.visible_types() == ["accum"]
    win.palette.search.clear()
    assert len(win.palette.visible_types()) == len(win.doc.registry) - 1  # all but Self
    # Tab on the canvas: type, Enter places it where the cursor was
    win.canvas.viewer.setFocus()
    win._tab_search(QPointF(120, 80))
    ts = win.tab_search
    assert ts.isVisible()
    qtbot.keyClicks(ts.edit, "less")
    qtbot.keyClick(ts.edit, Qt.Key.Key_Return)
    assert win.doc.network.has_neuron("less_or_equal", "less-or-equal")
    assert win.canvas.node_pos(("less_or_equal", "less-or-equal")) == (120.0, 80.0)
    # the Tab key itself opens it
    win.tab_search.hide()
    qtbot.keyClick(win.canvas.viewer, Qt.Key.Key_Tab)
    assert win.tab_search.isVisible()


def test_move_is_undoable_and_rename_on_canvas(win, qtbot):
    nid = drop_type(win, "accum", (0, 0))
    node = win.canvas.nodes[nid]
    # a drag of the node: NodeGraphQt reports the move, the model records it
    win.canvas.graph._on_nodes_moved({node.view: [0.0, 0.0]})
    node.view.xy_pos = [50.0, 60.0]
    win.canvas.graph._on_nodes_moved({node.view: [0.0, 0.0]})
    assert win.doc.network.layout[f"accum/{nid[1]}"]["pos"] == [50.0, 60.0]
    win.doc.undo_stack.undo()
    assert win.canvas.node_pos(nid) == (0.0, 0.0)
    # the title typed on the node renames the neuron
    win.canvas.graph._on_node_name_changed(node.id, "total")
    assert win.doc.network.has_neuron("accum", "total")
    assert ("accum", "total") in win.canvas.nodes


def test_open_waves_follows_matrix_and_dims_inactive(win, qtbot):
    net = Network.load("examples/waves.dmm.json")
    win.open_network(net, "examples/waves.dmm.json")
    extra = drop_type(win, "identity", (600, 600))  # not wired: not active
    win.step(1)
    wait_t(qtbot, win, 1)
    assert win.canvas.nodes[extra].view.opacity() < 1
    assert win.canvas.nodes[("identity", "update-1")].view.opacity() == 1
    QApplication.processEvents()


def test_params_edited_in_properties_reach_the_running_machine(win, qtbot):
    pytest.importorskip("dmm_studio_nodes")
    if "arith.tanh" not in win.doc.registry:
        pytest.skip("no arith.tanh in this library")
    nid = drop_type(win, "arith.tanh", (0, 0))
    select_node(win, nid)
    qtbot.waitUntil(lambda: "gain" in win.properties.param_edits)
    type_into(qtbot, win.properties.param_edits["gain"], "2.5")
    assert win.doc.network.param(*nid, "gain") == 2.5
    qtbot.waitUntil(lambda: "gain" in win.properties.param_edits)
    type_into(qtbot, win.properties.param_edits["gain"], "{oops")
    assert "not JSON" in win.properties.error.text()
    assert win.doc.network.param(*nid, "gain") == 2.5
    win.doc.undo_stack.undo()
    assert win.doc.network.param(*nid, "gain") is None


def test_open_without_layout_lays_out_automatically(win, qtbot):
    net = Network.load("examples/waves.dmm.json")
    net.layout = {}
    win.open_network(net)
    places = {win.canvas.node_pos(n) for n in win.canvas.nodes}
    assert len(places) == len(win.canvas.nodes) == 4  # no two neurons on one spot
    # dragging with the mouse records the place in the model (undoable)
    nid = ("identity", "update-2")
    view = win.canvas.nodes[nid].view
    before = win.canvas.node_pos(nid)
    r = view.sceneBoundingRect()
    vp = win.canvas.viewer.viewport()
    p = win.canvas.viewer.mapFromScene(QPointF(r.center().x(), r.top() + 8))
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p)
    for k in range(1, 6):
        QTest.mouseMove(vp, QPoint(p.x() + 10 * k, p.y() + 4 * k))
    QTest.mouseRelease(
        vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(p.x() + 50, p.y() + 20)
    )
    after = win.canvas.node_pos(nid)
    assert after != before
    assert tuple(win.doc.network.layout["identity/update-2"]["pos"]) == after
    win.doc.undo_stack.undo()
    assert win.canvas.node_pos(nid) == before


def test_snapshot_of_the_running_state_is_a_network_file(win, qtbot, tmp_path):
    win.open_network(Network.load("examples/waves.dmm.json"))
    win.step(2)
    wait_t(qtbot, win, 2)
    path = tmp_path / "snap.dmm.json"
    with qtbot.waitSignal(win.snapshot_saved, timeout=5000):
        win.save_snapshot(str(path))  # the worker hands the state over, then it is written
    snap = Network.load(path)
    row = vv.get_in(snap.matrix, ("self", "self", "delta"))
    assert list(row["identity"]) == ["update-3"]  # W_2, not W_0
    assert snap.layout["identity/update-1"] == win.doc.network.layout["identity/update-1"]
    m = snap.machine()
    m.step(1)
    assert list(vv.get_in(m.matrix, ("self", "self", "delta"))["identity"]) == ["update-1"]


def test_unwired_neurons_are_dimmed_at_design_time(win, qtbot):
    a = drop_type(win, "identity", (0, 0))
    qtbot.waitUntil(lambda: win.canvas.nodes[a].view.opacity() < 1)
    drag_wire(win, (*a, "single"), (*a, "single"))
    qtbot.waitUntil(lambda: win.canvas.nodes[a].view.opacity() == 1)


def test_a_refused_rewire_keeps_the_old_wire(win, qtbot):
    torch = pytest.importorskip("torch")
    a = drop_type(win, "identity", (0, 0))
    b = drop_type(win, "identity", (0, 250))
    c = drop_type(win, "identity", (350, 0))
    win.doc.set_output(a, "single", {":tensor": torch.zeros(3)})
    win.doc.set_output(b, "single", {":tensor": torch.zeros(4)})
    win.doc.connect((*c, "single"), (*b, "single"))
    # one gesture that would wire a's 3-vector next to b's 4-vector: refused whole
    win.canvas._on_wires_requested([((*c, "x"), (*a, "single"))], [((*c, "single"), (*a, "single"))])
    assert win.doc.network.weight((*c, "single"), (*b, "single")) == 1
    assert win.doc.network.weight((*c, "single"), (*a, "single")) == 0
    assert "refused" in win.statusBar().currentMessage()


def test_a_wire_the_network_made_can_be_removed_while_running(win, qtbot):
    win.open_network(Network.load("examples/waves.dmm.json"))
    win.step(1)
    frame = wait_t(qtbot, win, 1)
    key = (("self", "self", "delta"), ("identity", "update-2", "single"))
    assert key in win.canvas.shown and not win.doc.network.weight(*key)  # W_1 has it, W_0 not
    pipe = win.canvas.pipes[key]
    assert pipe.live_only
    win.canvas.viewer.scene().clearSelection()
    pipe.setSelected(True)
    win.actions_by_name["Delete"].trigger()
    win.step(1)
    frame = wait_t(qtbot, win, 2)
    # W_1 lost that wire before step 2: Self's delta read nothing, the wave stopped
    assert vv.get_in(frame.matrix, ("self", "self", "delta")) is None
    assert key not in win.canvas.shown


def test_rename_by_typing_on_the_node_title(win, qtbot):
    from PySide6.QtTest import QTest

    nid = drop_type(win, "accum", (0, 0))
    text_item = win.canvas.nodes[nid].view.text_item
    c = text_item.sceneBoundingRect().center()
    vp = win.canvas.viewer.viewport()
    p = win.canvas.viewer.mapFromScene(c)
    QTest.mouseDClick(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p)
    qtbot.waitUntil(lambda: text_item.hasFocus())
    text_item.setPlainText("")
    QTest.keyClicks(vp, "total")
    QTest.keyClick(vp, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: win.doc.network.has_neuron("accum", "total"))
    assert ("accum", "total") in win.canvas.nodes
    win.doc.undo_stack.undo()
    assert win.doc.network.has_neuron(*nid)
    assert win.canvas.nodes[nid].view.name == nid[1]


# ---------------------------------------------------------------- neurons the network makes
TOTAL = ("accum", "total")


def self_growing_network(tmp_path, shrink_at: int | None = 200):
    """examples/live_edit.dmm.json with accum/total in no part of the design:
    matrix.patch/grow makes it (wires in W_t only) at t = 60, and also wires a
    new port "extra" on identity/one; matrix.patch/shrink (at ``shrink_at``)
    takes total's wires away again. Saved as a file for File > Open."""
    net = Network.load("examples/live_edit.dmm.json")
    net.layout.pop("accum/total")
    grow = net.params["matrix.patch"]["grow"]["fragment"]
    grow["identity"] = {"one": {"extra": {"accum": {"count": {"single": 0.5}}}}}
    if shrink_at is not None:
        total_rows = {"accum": {"total": net.params["matrix.patch"]["grow"]["fragment"]["accum"]["total"]}}
        net.set_param("matrix.patch", "shrink", "fragment", vv.scale(-1, total_rows))
        net.set_param("matrix.patch", "shrink", "at", shrink_at)
        net.set_weight(("matrix.patch", "shrink", "t"), ("time.clock", "clock", "t"), 1)
        net.set_weight(("self", "self", "delta"), ("matrix.patch", "shrink", "delta"), 1)
        net.set_pos("matrix.patch", "shrink", (-250.0, -50.0))
    assert TOTAL not in net.neurons()
    path = tmp_path / "grows.dmm.json"
    net.save(path)
    return path


def open_as_user(win, monkeypatch, path) -> None:
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    win.actions_by_name["Open"].trigger()
    assert win.doc.path == str(path)


def run_until(qtbot, win, pred, timeout: int = 15_000) -> None:
    win.limit_box.setValue(250)
    win.actions_by_name["Run"].trigger()
    qtbot.waitUntil(pred, timeout=timeout)
    win.actions_by_name["Pause"].trigger()
    qtbot.waitUntil(lambda: not win.runner.running, timeout=5000)


def click_node(win, nid) -> None:
    from PySide6.QtTest import QTest

    r = win.canvas._node(nid).view.sceneBoundingRect()
    p = win.canvas.viewer.mapFromScene(QPointF(r.center().x(), r.top() + 8))
    QTest.mouseClick(
        win.canvas.viewer.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p
    )


def wires_of(canvas, nid) -> set:
    return {k for k in canvas.shown if nid in (k[0][:2], k[1][:2])}


def test_a_neuron_the_network_makes_is_drawn_while_running_and_gone_on_reset(
    win, qtbot, tmp_path, monkeypatch
):
    from dmm_studio.gui.canvas import NeuronNodeItem

    open_as_user(win, monkeypatch, self_growing_network(tmp_path))
    canvas = win.canvas
    assert TOTAL not in canvas.nodes and not canvas.runtime
    one = canvas.nodes[("identity", "one")]
    assert "extra" not in one.inputs()
    follows = []
    real_follow = canvas._follow_neurons
    monkeypatch.setattr(
        canvas, "_follow_neurons", lambda *a: follows.append(win.last_frame.t) or real_follow(*a)
    )

    run_until(qtbot, win, lambda: TOTAL in canvas.runtime)
    frame = win.last_frame
    assert TOTAL in frame.active and 62 <= frame.t < 200
    node = canvas.runtime[TOTAL]
    # a run-time node: drawn, visibly apart, not in the design nor its undo stack
    assert node.view.scene() is canvas.viewer.scene() and node.view.isVisible()
    assert node.view.runtime and "run-time" in node.view.type_label.text()
    assert TOTAL not in canvas.nodes and TOTAL not in canvas.selected_neurons()
    assert TOTAL not in win.doc.network.neurons() and "accum/total" not in win.doc.network.layout
    assert win.doc.undo_stack.count() == 0
    # with its wires, drawn from and to its ports
    count_single = ("accum", "count", "single")
    keys = {
        ((*TOTAL, "accum"), (*TOTAL, "single")),
        ((*TOTAL, "delta"), count_single),
    }
    assert wires_of(canvas, TOTAL) == keys
    for key in keys:
        pipe = canvas.pipes[key]
        assert pipe.scene() is not None and pipe.live_only and pipe.weight == 1
        assert pipe.input_port is node.get_input(key[0][2]).view
    # placed right of the neuron that feeds it, on no other node
    cx, cy = canvas.node_pos(("accum", "count"))
    x, y = canvas.node_pos(TOTAL)
    assert x > cx and abs(y - cy) < 200
    others = [
        i for i in canvas.viewer.scene().items() if isinstance(i, NeuronNodeItem) and i is not node.view
    ]
    assert not any(i.sceneBoundingRect().intersects(node.view.sceneBoundingRect()) for i in others)
    # a port that only W_t uses appears on the design's identity/one (it mirrors its ports)
    assert "extra" in one.inputs() and "extra" in one.outputs()
    assert ((("identity", "one", "extra"), count_single)) in canvas.shown
    # Frame All shows it
    win.actions_by_name["Frame All"].trigger()
    view = canvas.viewer
    assert view.mapToScene(view.viewport().rect()).boundingRect().contains(node.view.sceneBoundingRect())

    # shrink takes its wires away: it leaves W_t, and the canvas
    run_until(qtbot, win, lambda: TOTAL not in canvas.runtime)
    assert TOTAL not in win.last_frame.active
    assert not wires_of(canvas, TOTAL)
    assert not [
        i for i in canvas.viewer.scene().items() if isinstance(i, NeuronNodeItem) and i.name == "total"
    ]
    # node work only when the neurons of W_t changed: the first frame, total in, total out
    assert len(follows) == 3, follows

    # Reset: back to the design, the ports only W_t used go too
    win.actions_by_name["Reset"].trigger()
    qtbot.waitUntil(lambda: win.last_frame.t == 0)
    assert not canvas.runtime and canvas.live is None
    assert "extra" not in one.inputs() and "extra" not in one.outputs()
    assert set(canvas.shown) == {(to, frm) for to, frm, _ in win.doc.network.wires()}
    assert all(not p.live_only for p in canvas.pipes.values())
    assert canvas.viewer.node_count == len(canvas.nodes)
    assert win.doc.undo_stack.count() == 0


def test_a_run_time_neuron_can_be_selected_moved_and_deleted_from_w_t(win, qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    open_as_user(win, monkeypatch, self_growing_network(tmp_path, shrink_at=None))
    canvas = win.canvas
    run_until(qtbot, win, lambda: TOTAL in canvas.runtime)
    click_node(win, TOTAL)
    assert canvas.selected_runtime() == [TOTAL]
    assert "run-time neuron" in win.properties.title.text()
    # dragged by hand: it stays there, and the design does not change
    view = canvas.runtime[TOTAL].view
    r = view.sceneBoundingRect()
    vp = canvas.viewer.viewport()
    p = canvas.viewer.mapFromScene(QPointF(r.center().x(), r.top() + 8))
    before = canvas.node_pos(TOTAL)
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p)
    for k in range(1, 6):
        QTest.mouseMove(vp, QPoint(p.x() + 8 * k, p.y() + 10 * k))
    QTest.mouseRelease(
        vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(p.x() + 40, p.y() + 50)
    )
    assert canvas.node_pos(TOTAL) != before
    assert win.doc.undo_stack.count() == 0 and "accum/total" not in win.doc.network.layout
    # its name is the network's: the title cannot be edited
    assert view.text_item._locked
    # its context menu says what it is, and offers no design edit
    menu = canvas.context_menu_at(view.sceneBoundingRect().center())
    texts = [a.text() for a in menu.actions()]
    assert any("made by the network while running" in t for t in texts), texts
    assert "Delete" not in texts
    # Delete removes it from the running matrix (the design never had it)
    click_node(win, TOTAL)
    win.actions_by_name["Delete"].trigger()
    qtbot.waitUntil(lambda: TOTAL not in canvas.runtime, timeout=5000)
    assert TOTAL not in win.last_frame.active
    assert vv.get_in(win.last_frame.matrix, ("accum", "total")) is None
    assert win.doc.network.has_neuron("accum", "count")


def test_save_snapshot_while_running_does_not_wait_for_the_step(win, qtbot, tmp_path, monkeypatch):
    import os
    import signal
    import time

    from PySide6.QtWidgets import QFileDialog

    src = self_growing_network(tmp_path, shrink_at=None)
    open_as_user(win, monkeypatch, src)
    win.limit_box.setValue(300)
    win.actions_by_name["Run"].trigger()
    qtbot.waitUntil(lambda: TOTAL in win.canvas.runtime, timeout=15_000)
    # the engine stuck in a long step (its process stopped): the UI must not wait for it
    os.kill(win.runner.host.proc.pid, signal.SIGSTOP)
    out = tmp_path / "snap.dmm.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    with qtbot.waitSignal(win.snapshot_saved, timeout=15_000) as saved:
        t0 = time.perf_counter()
        try:
            win.actions_by_name["Save Snapshot"].trigger()
            elapsed = time.perf_counter() - t0
            qtbot.wait(300)  # the UI goes on while the engine is stuck
            assert not out.exists()  # written when the engine hands the state over
        finally:
            os.kill(win.runner.host.proc.pid, signal.SIGCONT)
        assert elapsed < 0.5, f"Save Snapshot blocked the UI for {elapsed:.2f} s"
    path, t = saved.args
    assert path == str(out) and t > 62
    assert win.runner.running  # the run went on
    win.actions_by_name["Pause"].trigger()
    snap = Network.load(out)
    assert snap.meta["snapshot_of_step"] == t
    # the machine's state at that step: the same network run t steps from the start
    ref = Network.load(src).machine()
    ref.step(t)
    assert vv.equal(snap.outputs, ref.state, 0)
    assert vv.get_in(snap.matrix, ("accum", "total", "delta", "accum", "count", "single")) == 1
    # the run-time neuron keeps the place it had on the canvas
    assert tuple(snap.layout["accum/total"]["pos"]) == win.canvas.node_pos(TOTAL)
    assert snap.layout["identity/one"] == win.doc.network.layout["identity/one"]


def test_weight_labels_sit_beside_their_wires(win, qtbot):
    """A weight label never covers its own wire near the middle (where the
    arrow is), whichever way the wire runs; its box fits the text."""
    win.open_network(Network.load("examples/live_edit.dmm.json"))
    key = (("accum", "count", "delta"), ("identity", "one", "single"))
    win.doc.set_weight(*key, -0.333333)
    assert win.canvas.pipes
    for k, pipe in win.canvas.pipes.items():
        path = pipe.path()
        box = pipe.label.sceneBoundingRect()
        text = pipe.label.text.sceneBoundingRect()
        assert box.contains(text), k
        half = path.length() / 2
        for s in range(-30, 31, 3):
            at = pipe.mapToScene(path.pointAtPercent(path.percentAtLength(half + s)))
            assert not box.contains(at), (k, s)
    assert win.canvas.pipes[key].label.text.text() == "-0.3333"  # 4 significant digits (format_weight)


def test_a_wire_selected_while_running_shows_its_running_weight(win, qtbot):
    win.open_network(Network.load("examples/live_edit.dmm.json"))
    key = (("accum", "count", "delta"), ("identity", "one", "single"))
    win.step(40)  # matrix.patch/faster made this weight 2 in W_t at t = 31
    wait_t(qtbot, win, 40)
    assert win.canvas.shown.get(key) == 2
    pipe = win.canvas.pipes[key]
    assert pipe.live_only and pipe.label.text.text() == "2"
    win.canvas.viewer.scene().clearSelection()
    pipe.setSelected(True)
    qtbot.waitUntil(lambda: win.properties.wire == key)
    assert win.properties.weight_edit.text() == "1"  # the design's weight, to edit
    running = win.properties.findChild(QLabel, "running-weight")
    assert running is not None and running.text() == "W_t: 2"  # beside the design's 1
    # back to the design: the running weight is no longer shown
    win.actions_by_name["Reset"].trigger()
    qtbot.waitUntil(lambda: win.properties.findChild(QLabel, "running-weight") is None, timeout=5000)
    assert win.canvas.pipes[key].label.text.text() == "1"


def test_live_edit_example_lights_up_total_with_its_wires_and_reset_dims_it(win, qtbot, monkeypatch):
    """The shipped example places accum/total in its layout: it is a design
    neuron outside W_0 (dimmed) until matrix.patch/grow wires it at t = 62."""
    open_as_user(win, monkeypatch, "examples/live_edit.dmm.json")
    canvas = win.canvas
    node = canvas.nodes[TOTAL]
    qtbot.waitUntil(lambda: node.view.opacity() < 1)
    assert not wires_of(canvas, TOTAL)
    run_until(qtbot, win, lambda: win.last_frame is not None and TOTAL in win.last_frame.active)
    assert node.view.opacity() == 1 and not canvas.runtime
    keys = wires_of(canvas, TOTAL)
    assert keys == {
        ((*TOTAL, "accum"), (*TOTAL, "single")),
        ((*TOTAL, "delta"), ("accum", "count", "single")),
    }
    assert all(canvas.pipes[k].live_only and canvas.pipes[k].scene() is not None for k in keys)
    win.actions_by_name["Reset"].trigger()
    qtbot.waitUntil(lambda: win.last_frame.t == 0)
    assert not wires_of(canvas, TOTAL) and node.view.opacity() < 1
