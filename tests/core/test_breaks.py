"""Break conditions (dmm_studio.breaks): what fires, when, and who is at fault."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from dmm_studio import Network
from dmm_studio.breaks import (
    Breaks,
    MatrixBound,
    NonFinite,
    ProbeCondition,
    TopologyChange,
    condition_from_dict,
    first_non_finite,
    matrix_writers,
)
from dmm_studio.fileformat import load_network
from dmm_studio.network import self_accum_row
from dmm_studio.vvalue import add

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_until(machine, breaks: Breaks, limit: int = 100):
    """Step until a condition fires; returns the hit (or None)."""
    prev = machine.state
    for _ in range(limit):
        machine.step()
        state = machine.state
        hit = breaks.check(machine.t, state, prev)
        if hit:
            return hit
        prev = state
    return None


def nan_network() -> Network:
    """accum/x adds huge*huge (= inf) to itself, then inf - inf (= NaN) via a -1 wire:
    identity/big is a constant 1e200; x.accum <- x.single (1) and x.delta <- big (1e200)."""
    w = add(
        self_accum_row(),
        {"identity": {"big": {"single": {"identity": {"big": {"single": 1}}}}}},
        {"accum": {"x": {"delta": {"identity": {"big": {"single": 1e200}}}}}},
        {"accum": {"x": {"accum": {"accum": {"x": {"single": 1}}}}}},
    )
    return Network(
        outputs={"self": {"self": {"network_matrix": w}}, "identity": {"big": {"single": {"v": 1e200}}}}
    )


def test_non_finite_names_the_neuron_output_and_path():
    hit = run_until(nan_network().machine(engine="reference"), Breaks([NonFinite()]))
    assert hit is not None
    assert hit.t == 1
    assert hit.neuron == ("accum", "x")
    assert hit.port == "single"
    assert hit.path == ("v",)
    assert "inf in accum/x/single at v" in hit.message


def test_non_finite_trusts_the_engines_all_finite_and_walks_only_when_it_cannot_tell():
    """Breaks.check asks the engine's cheap all_finite at most once: True spares the
    walk, False or None (cannot tell) walk the state and name the value."""
    state = {"identity": {"w": {"single": math.nan}}}
    asked = []

    def answer(a):
        return lambda: asked.append(a) or a

    breaks = Breaks([NonFinite(), NonFinite()])
    assert breaks.check(1, state, None, answer(True)) is None
    assert asked == [True]  # once for both conditions
    assert breaks.check(2, state, None, answer(False)).neuron == ("identity", "w")
    assert breaks.check(3, state, None, answer(None)).neuron == ("identity", "w")
    assert Breaks([TopologyChange()]).check(4, state, None, answer(True)) is None
    assert asked == [True, False, None]  # not asked when no NaN/Inf condition is on


def test_non_finite_break_through_a_recorder_on_the_compiled_engine():
    """The host's path (EngineTap.after_step passes engine.all_finite): a compiled
    engine's NaN is still named, with the neuron, at the step it appears."""
    from dmm_studio.recorder import EngineTap, Recorder

    m = nan_network().machine(engine="compiled", threshold=0)
    tap = EngineTap(Recorder(breaks=Breaks([NonFinite()])), raise_on_break=False)
    tap.attach(m.engine, wrap=False)
    hits = []
    for _ in range(5):
        m.step()
        hit = tap.after_step(m.engine)
        if hit is not None:
            hits.append(hit)
            break
    assert hits and hits[0].t == 1 and hits[0].neuron == ("accum", "x")


def test_non_finite_finds_nan_too_and_tensor_elements():
    torch = pytest.importorskip("torch")
    assert first_non_finite({"a": {"b": math.nan}})[0] == ("a", "b")
    t = torch.zeros(3, 4)
    t[1, 2] = math.nan
    path, x = first_non_finite({"img": t})
    assert path == ("img", "[1,2]") and math.isnan(x)
    assert first_non_finite({"img": torch.ones(2, 2)}) is None
    hit = NonFinite().check(5, {"identity": {"cam": {"single": {"img": t}}}}, None)
    assert hit.neuron == ("identity", "cam") and hit.t == 5


def test_non_finite_sums_an_unchanged_tensor_once_but_sees_it_change_in_place():
    torch = pytest.importorskip("torch")
    img = torch.ones(4, 4)
    cond = NonFinite()
    calls = []
    real_sum = torch.Tensor.sum

    def counting_sum(self, *a, **k):
        calls.append(1)
        return real_sum(self, *a, **k)

    def state():  # a new dict each step around the same tensor (a constant image)
        return {"synth.image": {"face": {"image": {":tensor": img}}}}

    torch.Tensor.sum = counting_sum
    try:
        assert cond.check(1, state(), None) is None
        assert cond.check(2, state(), None) is None
        assert len(calls) == 1  # summed at step 1 only
        img[2, 3] = math.nan  # the same object, changed in place: looked at again
        hit = cond.check(3, state(), None)
    finally:
        torch.Tensor.sum = real_sum
    assert hit is not None and hit.t == 3 and hit.path == (":tensor", "[2,3]")


def test_non_finite_blames_a_neuron_before_self():
    bad = {"x": math.inf}
    state = {"self": {"self": {"network_matrix": bad}}, "identity": {"w": {"single": bad}}}
    assert NonFinite().check(1, state, None).neuron == ("identity", "w")


def test_counter_has_nothing_to_report():
    m = load_network(EXAMPLES / "counter.dmm.json").machine(engine="reference")
    assert run_until(m, Breaks([NonFinite(), TopologyChange(), MatrixBound(max_norm=10)]), 30) is None


def test_probe_condition_on_a_scalar_output():
    m = load_network(EXAMPLES / "counter.dmm.json").machine(engine="reference")
    cond = ProbeCondition(("accum", "count", "single"), ">", 7)
    hit = run_until(m, Breaks([cond]))
    assert hit.t == 8
    assert hit.neuron == ("accum", "count") and hit.port == "single"
    assert "accum/count/single > 7" in hit.message and "value 8" in hit.message
    # a disabled condition never fires
    cond.enabled = False
    assert not Breaks([cond])
    assert run_until(m, Breaks([cond]), 5) is None


def test_probe_condition_reads_inside_a_vvalue():
    cond = ProbeCondition(("identity", "v", "single"), "<=", -1, path=("a", "b"))
    state = {"identity": {"v": {"single": {"a": {"b": -2, "c": 5}}}}}
    assert cond.check(3, state, None).neuron == ("identity", "v")
    assert cond.check(3, {"identity": {"v": {"single": {"a": {"b": 1}}}}}, None) is None
    with pytest.raises(ValueError, match="unknown comparison"):
        ProbeCondition(("a", "b", "c"), "~", 1)


def test_topology_change_on_waves_names_the_writer():
    m = load_network(EXAMPLES / "waves.dmm.json").machine(engine="reference")
    hit = run_until(m, Breaks([TopologyChange()]))
    # step 1 applies update-1's delta: self.delta now reads update-2 (was update-1)
    assert hit.t == 1
    assert hit.neuron == ("identity", "update-1")
    assert hit.wire[0] == ("self", "self", "delta")
    assert "written by identity/update-1" in hit.message
    hit2 = run_until(m, Breaks([TopologyChange()]))
    assert hit2.t == 2 and hit2.neuron == ("identity", "update-2")


def test_matrix_writers_follow_selfs_delta_row():
    net = load_network(EXAMPLES / "waves.dmm.json")
    y0 = net.outputs
    path = ("self", "self", "delta", "identity", "update-2", "single")
    assert matrix_writers(y0, path) == [("identity", "update-1")]
    assert matrix_writers(y0, ("nothing",)) == []
    assert matrix_writers(None, path) == []


def test_matrix_bounds_norm_and_size():
    m = load_network(EXAMPLES / "waves.dmm.json").machine(engine="reference")
    # waves keeps 5 weights; size > 4 fires at once, naming no writer before the run
    hit = MatrixBound(max_size=4).check(0, m.state, None)
    assert hit and "5 weights > 4" in hit.message
    assert MatrixBound(max_size=5).check(0, m.state, None) is None
    # a counter whose matrix grows: set a weight of 3 and bound the norm at 2
    c = load_network(EXAMPLES / "counter.dmm.json").machine(engine="reference")
    c.set_weight(("accum", "count", "delta"), ("identity", "one", "single"), 3)
    hit = MatrixBound(max_norm=2).check(c.t, c.state, None)
    assert hit.wire == (("accum", "count", "delta"), ("identity", "one", "single"))
    assert hit.neuron == ("accum", "count")  # no writer: the receiver is named
    assert "max-norm 3 > 2" in hit.message


def test_conditions_round_trip_through_dicts():
    conds = Breaks(
        [
            NonFinite(),
            MatrixBound(max_norm=5.0, max_size=100),
            TopologyChange(enabled=False),
            ProbeCondition(("accum", "count", "single"), ">=", 3.5, ("a",)),
        ]
    )
    data = conds.to_list()
    back = Breaks.from_list(data)
    assert back.to_list() == data
    assert isinstance(back.conditions[3], ProbeCondition) and back.conditions[3].port == (
        "accum",
        "count",
        "single",
    )
    with pytest.raises(ValueError, match="unknown break condition"):
        condition_from_dict({"kind": "nope"})
