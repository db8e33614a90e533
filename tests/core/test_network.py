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
    n.subscribe(lambda e, info: events.append(e))
    n.add_neuron("identity", "one", pos=(0, 0))
    n.add_neuron("accum", "count")
    n.set_output("identity", "one", "single", 1)
    n.set_weight(("identity", "one", "single"), ("identity", "one", "single"), 1)
    n.set_weight(("accum", "count", "accum"), ("accum", "count", "single"), 1)
    n.set_weight(("accum", "count", "delta"), ("identity", "one", "single"), 1)
    assert events[:2] == ["neuron_added", "neuron_added"] and events.count("weight") == 3
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
