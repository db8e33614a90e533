"""The design model: edits keep W_0 canonical, tell subscribers, and never
touch V-values a running machine shares."""

from __future__ import annotations

from pathlib import Path

import pytest

from dmm_studio import Network, load_network

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_empty_network_holds_self():
    n = Network.empty()
    assert n.neurons() == [("self", "self")]
    assert n.weight(("self", "self", "accum"), ("self", "self", "network_matrix")) == 1
    m = n.machine(engine="reference")
    m.step(3)
    assert m.matrix == n.matrix


def test_build_the_counter_by_edits():
    n = Network.empty()
    events = []
    n.events.all.connect(lambda info: events.append(info.signal.name))
    n.add_neuron("identity", "one", pos=(0, 0))
    n.add_neuron("accum", "count")
    n.set_output("identity", "one", "single", 1)
    n.set_weight(("identity", "one", "single"), ("identity", "one", "single"), 1)
    n.set_weight(("accum", "count", "accum"), ("accum", "count", "single"), 1)
    n.set_weight(("accum", "count", "delta"), ("identity", "one", "single"), 1)
    assert events[:2] == ["neuronAdded", "neuronAdded"] and events.count("weightChanged") == 3
    assert sorted(n.neurons()) == [("accum", "count"), ("identity", "one"), ("self", "self")]
    assert n.matrix == load_network(EXAMPLES / "counter.dmm.json").matrix
    m = n.machine(engine="reference")
    m.step(4)
    assert m.output("accum", "count", "single") == {":number": 4}
    with pytest.raises(ValueError, match="already a neuron accum/count"):
        n.add_neuron("accum", "count")


def test_wires_and_zero_weight_removes():
    n = load_network(EXAMPLES / "counter.dmm.json")
    wires = {(to, frm): w for to, frm, w in n.wires()}
    assert wires[(("accum", "count", "delta"), ("identity", "one", "single"))] == 1
    assert len(wires) == 4
    n.set_weight(("accum", "count", "delta"), ("identity", "one", "single"), 0)
    assert "delta" not in n.matrix["accum"]["count"]
    with pytest.raises(ValueError, match="must be a number"):
        n.set_weight(("accum", "count", "delta"), ("identity", "one", "single"), "2")


def test_edits_do_not_touch_a_running_machine():
    n = load_network(EXAMPLES / "counter.dmm.json")
    m = n.machine(engine="reference")
    m.step()
    n.set_weight(("accum", "count", "delta"), ("identity", "one", "single"), 5)
    n.set_output("identity", "one", "single", 9)
    m.step()
    assert m.output("accum", "count", "single") == {":number": 2}


def test_remove_and_rename():
    n = load_network(EXAMPLES / "waves.dmm.json")
    n.rename_neuron("identity", "update-1", "first")
    assert n.weight(("self", "self", "delta"), ("identity", "first", "single")) == 1
    assert "identity/first" in n.layout and "first" in n.outputs["identity"]
    n.remove_neuron("identity", "first")
    assert ("identity", "first") not in n.neurons()
    assert "delta" not in n.matrix["self"]["self"]
    assert "identity/first" not in n.layout
    with pytest.raises(ValueError, match="Self cannot be removed"):
        n.remove_neuron("self", "self")
    with pytest.raises(ValueError, match="already a neuron"):
        n.rename_neuron("identity", "update-2", "update-3")


def test_machine_set_output_edits_the_running_state():
    m = load_network(EXAMPLES / "counter.dmm.json").machine(engine="reference")
    m.step(2)
    m.set_output("accum", "count", "single", 100)
    m.step()
    assert m.output("accum", "count", "single") == {":number": 101}


def test_set_weights_is_set_weight_one_at_a_time():
    import random

    from dmm_studio import vvalue as vv

    rng = random.Random(3)
    n = load_network(EXAMPLES / "waves.dmm.json")
    # an entry that is no wire (a number where a map belongs) stays as it is
    # (as a snapshot of a running state may hold: no edit makes one, the loader refuses it)
    n.outputs["self"]["self"]["network_matrix"] = vv.set_in(
        n.matrix, ("identity", "update-1", "single", "identity", "update-2", ":number"), 7
    )
    ports = [(f, m, o) for f, m in n.neurons() for o in ("single", "x")]
    changes = [(rng.choice(ports), rng.choice(ports), rng.choice([0, 0, 1, -2.5, 3])) for _ in range(300)]
    changes += [(to, frm, 0) for to, frm, _w in list(n.wires())[:5]]
    one = n.copy()
    for to, frm, w in changes:
        one.set_weight(to, frm, w)
    seen = []
    n.events.weightChanged.connect(lambda to, frm, old, new: seen.append((to, frm, old, new)))
    before = n.matrix
    n.set_weights(changes)
    assert n.matrix == one.matrix and n.matrix == vv.canon(n.matrix)
    assert before is not n.matrix
    assert {(to, frm): w for to, frm, w in n.wires()} == {(to, frm): w for to, frm, w in one.wires()}
    assert all(old != new for *_k, old, new in seen)
    for nid in n.neurons():
        assert sorted(n.wires_of(*nid)) == sorted(
            (to, frm, w) for to, frm, w in n.wires() if nid in (to[:2], frm[:2])
        )
    with pytest.raises(ValueError, match="must be a number"):
        n.set_weights([(ports[0], ports[1], 1), (ports[0], ports[2], "x")])
    assert n.weight(ports[0], ports[1]) == one.weight(ports[0], ports[1])  # nothing changed


def test_set_weights_never_touches_the_matrix_it_replaces():
    n = load_network(EXAMPLES / "waves.dmm.json")
    w = n.matrix
    frozen = repr(w)
    n.set_weights([(to, frm, 0) for to, frm, _w in n.wires()] + [(("identity", "x", "single"),) * 2 + (5,)])
    assert repr(w) == frozen


def test_each_change_has_its_own_typed_signal():
    n = Network.empty()  # arith.tanh: a type that declares a param (gain)
    got = []
    for name in ("neuronAdded", "neuronRemoved", "neuronMoved", "portsChanged", "probesChanged"):
        getattr(n.events, name).connect(lambda *a, name=name: got.append((name, *a)))
    n.events.weightChanged.connect(lambda to, frm, old, new: got.append(("weightChanged", to, frm, old, new)))
    n.events.paramChanged.connect(lambda nid, p, old, new: got.append(("paramChanged", nid, p, old, new)))
    n.add_neuron("arith.tanh", "a", pos=(1, 2))
    n.set_pos("arith.tanh", "a", (3, 4))
    n.set_ports("arith.tanh", "a", {"inputs": ["x"], "outputs": []})
    n.set_probes({"arith.tanh/a": [{"port": "single"}]})
    n.set_weight(("arith.tanh", "a", "x"), ("arith.tanh", "a", "single"), 2)
    n.set_param("arith.tanh", "a", "gain", 1)
    n.clear_param("arith.tanh", "a", "gain")
    n.remove_neuron("arith.tanh", "a")
    a = ("arith.tanh", "a")
    assert got == [
        ("neuronAdded", a),
        ("neuronMoved", a, (3.0, 4.0)),
        ("portsChanged", a),
        ("probesChanged",),
        ("weightChanged", (*a, "x"), (*a, "single"), 0, 2),
        ("paramChanged", a, "gain", None, 1),
        ("paramChanged", a, "gain", 1, None),
        ("weightChanged", (*a, "x"), (*a, "single"), 2, 0),  # a removal takes the wires first
        ("neuronRemoved", a),
    ]
    assert n.layout_ports(*a) == {"inputs": [], "outputs": []} and not n.probes() and n.params == {}


def test_connections_move_from_one_network_to_the_next_and_copies_carry_none():
    import pickle

    from dmm_studio.network import Connections

    got = []
    link = Connections({"neuronAdded": got.append})
    a, b = Network.empty(), Network.empty()
    link.bind(a)
    a.add_neuron("identity", "x")
    link.bind(b)
    a.add_neuron("identity", "y")  # no longer followed
    b.add_neuron("identity", "z")
    assert got == [("identity", "x"), ("identity", "z")]
    assert len(a.events.neuronAdded) == 0
    again = pickle.loads(pickle.dumps(b))
    assert again == b and len(again.events.neuronAdded) == 0
    assert len(b.copy().events.neuronAdded) == 0
    with pytest.raises(AttributeError, match="no 'neuronAdd'"):
        Connections({"neuronAdd": print})
