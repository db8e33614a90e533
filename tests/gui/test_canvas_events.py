"""The canvas over the model's typed signals: a large selection deleted and
brought back exactly, views that let go of a replaced network, the running
state as a model of its own, and the NodeGraphQt privates the canvas needs."""

from __future__ import annotations

import importlib

import pytest

from dmm_studio.network import Network, neuron_key

pytestmark = pytest.mark.gui

N = 300  # enough to make a quadratic delete show; the speed is bench/canvas.py's business


def big_network(n: int = N) -> Network:
    """identity and lincomb neurons in a ring with chords, with outputs, params,
    a port added by hand, probes and places."""
    net = Network.empty()
    ids = []
    for i in range(n):
        nid = ("identity", f"n{i}") if i % 2 else ("arith.lincomb", f"c{i}")
        net.add_neuron(*nid, pos=(float(i % 30) * 260, float(i // 30) * 140))
        ids.append(nid)
    for i, nid in enumerate(ids):
        if nid[0] == "identity":
            net.set_output(*nid, "single", i)
        else:
            net.set_param(*nid, "a", 0.5 + i)
    net.set_ports("identity", "n1", {"inputs": ["extra"], "outputs": ["extra"]})
    net.set_probes({"identity/n3": [{"port": "single"}]})

    def out(nid):
        return (*nid, "single") if nid[0] == "identity" else (*nid, "out")

    def inp(nid, k):
        return (*nid, "single") if nid[0] == "identity" else (*nid, "x" if k else "y")

    changes = []
    for i, nid in enumerate(ids):
        changes.append((inp(ids[(i + 1) % n], 0), out(nid), 1 + i % 3))
        changes.append((inp(ids[(i * 7 + 3) % n], 1), out(nid), -0.5))
    changes.append((("identity", "n1", "extra"), ("identity", "n3", "single"), 2))
    net.set_weights(changes)
    return net


def snapshot(net: Network):
    return (
        {(to, frm): w for to, frm, w in net.wires()},
        {f: {n: dict(o) for n, o in ns.items()} for f, ns in net.outputs.items()},
        {f: {n: dict(p) for n, p in ns.items()} for f, ns in net.params.items()},
        {k: dict(v) for k, v in net.layout.items()},
        sorted(net.neurons()),
    )


def test_select_all_delete_and_undo_a_large_selection(win, qtbot):
    net = big_network()
    win.doc.set_network(net)
    canvas = win.canvas
    before = snapshot(net)
    drawn = dict(canvas.shown)
    assert len(canvas.nodes) == N + 1 and len(drawn) == len(before[0])
    selections = []
    canvas.selection_changed.connect(selections.append)

    win.actions_by_name["Select All"].trigger()
    assert len(canvas.selected_neurons()) == N + 1
    selections.clear()
    win.actions_by_name["Delete"].trigger()  # Self stays: it holds the network matrix
    qtbot.wait(10)

    assert net.neurons() == [("self", "self")]
    assert list(canvas.nodes) == [("self", "self")]
    assert set(canvas.shown) == {k for k in before[0] if k[0][0] == "self" and k[1][0] == "self"}
    assert not [k for k in net.layout if k != neuron_key("self", "self")]
    assert not net.params and set(net.outputs) == {"self"}
    # the selection is told once for the whole burst, not once per removed node
    assert selections == [[("self", "self")]]  # Self stays, selected

    win.doc.undo_stack.undo()
    qtbot.wait(10)
    assert snapshot(net) == before
    assert canvas.shown == drawn and set(canvas.pipes) == set(drawn)
    assert len(canvas.nodes) == N + 1
    for nid in canvas.nodes:
        if nid == ("self", "self"):
            continue  # placed by the canvas (the file has no place for it)
        pos = net.layout[neuron_key(*nid)]["pos"]
        assert canvas.node_pos(nid) == (pos[0], pos[1])
    assert "extra" in canvas.nodes[("identity", "n1")].inputs()

    assert_wires_drawn(canvas)

    win.doc.undo_stack.redo()
    assert net.neurons() == [("self", "self")] and list(canvas.nodes) == [("self", "self")]
    win.doc.undo_stack.undo()
    assert snapshot(net) == before and canvas.shown == drawn
    assert_wires_drawn(canvas)


def assert_wires_drawn(canvas):
    """Every drawn wire is a pipe in the scene between the right ports, and
    NodeGraphQt's own bookkeeping agrees (what a drag or a cut relies on)."""
    scene = canvas.viewer.scene()
    for (to, frm), pipe in canvas.pipes.items():
        ip, op = canvas.nodes[to[:2]].get_input(to[2]), canvas.nodes[frm[:2]].get_output(frm[2])
        assert pipe.scene() is scene and pipe.input_port is ip.view and pipe.output_port is op.view
        assert op in ip.connected_ports() and ip in op.connected_ports()
        assert pipe in ip.view.connected_pipes and pipe in op.view.connected_pipes
        assert pipe.weight == canvas.shown[(to, frm)]
    pipes = [i for i in scene.items() if i.__class__.__name__ == "WeightPipe"]
    assert len(pipes) == len(canvas.pipes)  # no pipe left behind


def test_removing_neurons_is_a_cascade_of_child_commands(win):
    from dmm_studio.gui.commands import RemoveNeuron, RemoveNeurons, SetWeights

    net = big_network(12)
    win.doc.set_network(net)
    ids = [("identity", "n1"), ("arith.lincomb", "c2")]
    command = RemoveNeurons(win.doc, ids)
    kinds = [type(command.child(i)) for i in range(command.childCount())]
    assert kinds == [SetWeights, RemoveNeuron, RemoveNeuron]
    touching = {(to, frm) for nid in ids for to, frm, _w in net.wires_of(*nid)}
    assert {(to, frm) for to, frm, _w in command.child(0).new} == touching


def test_views_let_go_of_a_replaced_network(win, qtbot):
    old = win.doc.network
    old.add_neuron("identity", "a", pos=(0, 0))
    assert ("identity", "a") in win.canvas.nodes
    win.doc.set_network(Network.empty())
    win.dirty = False
    # the old network is edited after it was replaced: no view follows it any more
    old.add_neuron("identity", "b", pos=(50, 0))
    old.set_weight(("identity", "a", "single"), ("identity", "b", "single"), 3)
    qtbot.wait(10)
    assert ("identity", "b") not in win.canvas.nodes and not win.dirty
    for name in ("neuronAdded", "weightChanged", "neuronRemoved", "probesChanged"):
        assert len(getattr(old.events, name)) == 0, name
    # the new one is followed
    win.doc.network.add_neuron("identity", "c", pos=(0, 0))
    assert ("identity", "c") in win.canvas.nodes and win.dirty


def test_the_running_state_is_a_model_the_canvas_follows(win):
    from dmm_studio.gui.running_state import RunningState

    canvas = win.canvas
    assert isinstance(canvas.running, RunningState) and not canvas.running.running
    net = win.doc.network
    net.add_neuron("identity", "a", pos=(0, 0))
    w = net.copy()
    w.add_neuron("identity", "made", pos=None)
    w.set_weight(("identity", "made", "single"), ("identity", "a", "single"), 4)
    w.set_weight(("identity", "a", "single"), ("identity", "a", "single"), 1)
    calls = []
    canvas.running.changed.connect(lambda: calls.append(1))
    canvas.running.show(w.matrix)
    assert canvas.live == canvas.running.wires
    assert ("identity", "made") in canvas.runtime  # drawn from the model, not fed to the canvas
    assert canvas.running.runtime_neurons(net.neurons()) == {("identity", "made")}
    assert canvas.running.weight((("identity", "made", "single"), ("identity", "a", "single"))) == 4
    assert canvas.running.show(dict(w.matrix)) is False and len(calls) == 1  # the same W_t
    canvas.show_matrix(None)
    assert not canvas.runtime and canvas.live is None and canvas.running.weight(((), ())) is None


def test_the_nodegraphqt_privates_the_canvas_relies_on_exist():
    from dmm_studio.gui.canvas import ngqt

    for module, cls, name in ngqt.PRIVATES:
        owner = importlib.import_module(module)
        if cls is not None:
            owner = getattr(owner, cls)
        # a class attribute, or one set on instances in __init__ (read from its source)
        if not hasattr(owner, name):
            import inspect

            assert f"self.{name}" in inspect.getsource(owner), f"{module}.{cls}.{name} is gone"
    import NodeGraphQt.widgets.viewer as viewer

    assert viewer.PipeItem is ngqt.WeightPipe  # the one monkeypatch is in place


def test_the_self_view_reads_the_running_state(win, qtbot):
    """Opened mid-run it shows the step the canvas is at; another file opened,
    it shows that file's W_0 at t = 0, not the last network's matrix."""
    from dmm_studio.gui.inspect import install

    win.open_network(Network.load("examples/waves.dmm.json"), "examples/waves.dmm.json")
    insp = install(win)
    insp.docks["self"].hide()  # the Self view is closed while the machine runs
    for t in (1, 2, 3, 4):
        with qtbot.waitSignal(win.runner.stepped, timeout=20_000, check_params_cb=lambda f, t=t: f.t >= t):
            win.step(1)
    qtbot.waitUntil(lambda: win.canvas.running.t == 4, timeout=5000)
    insp.docks["self"].show()
    qtbot.waitUntil(lambda: insp.self_view.t == 4, timeout=5000)
    assert insp.self_view.entries == {(to, frm): w for (to, frm), w in win.canvas.running.wires.items()}

    counter = Network.load("examples/counter.dmm.json")
    win.open_network(counter, "examples/counter.dmm.json")
    qtbot.waitUntil(lambda: insp.self_view.t == 0, timeout=5000)
    assert insp.self_view.entries == {(to, frm): w for to, frm, w in counter.wires()}
