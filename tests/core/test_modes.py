"""Mute and bypass (dmm_studio.modes, docs/semantics.md "Mute and bypass"):
what they mean on small networks, both engines agreeing on random ones,
the design keeping them (file, undo-free model edits, signals), the running
machine taking them live, and params set for one step (pulses)."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dmm_studio import vvalue as vv
from dmm_studio.engine import NetworkHalted, StepError
from dmm_studio.fileformat import dumps_network, loads_network
from dmm_studio.jsonio import NetworkFileError
from dmm_studio.machine import Machine
from dmm_studio.modes import split_matrix
from dmm_studio.network import Network
from dmm_studio.registry import Registry, default_registry, neuron
from tests.core.test_compiled import assert_same
from tests.strategies import networks

COUNTER = {
    "format": "dmm-studio/1",
    "outputs": {
        "self": {
            "self": {
                "network_matrix": {
                    "self": {"self": {"accum": {"self": {"self": {"network_matrix": 1}}}}},
                    "accum": {
                        "count": {
                            "accum": {"accum": {"count": {"single": 1}}},
                            "delta": {"identity": {"one": {"single": 1}}},
                        }
                    },
                    "identity": {
                        "one": {"single": {"identity": {"one": {"single": 1}}}},
                        "copy": {"single": {"accum": {"count": {"single": 1}}}, "aux": {"identity": {"one": {"single": 2}}}},
                    },
                }
            }
        },
        "identity": {"one": {"single": 1}},
    },
}


def counter(**modes: str) -> Network:
    net = loads_network(json.dumps(COUNTER))
    for key, mode in modes.items():
        f, n = key.split("__")
        net.set_mode(f, n, mode)
    return net


def out(m: Machine, f: str, n: str, o: str) -> Any:
    return m.output(f, n, o).get(":number")


ENGINES = ["reference", "compiled"]


def machine(net: Network, engine: str) -> Machine:
    kw = {"device": "cpu", "threshold": 0} if engine == "compiled" else {}
    return net.machine(engine=engine, **kw)


# ------------------------------------------------------------------ what they mean


@pytest.mark.parametrize("engine", ENGINES)
def test_mute_takes_a_neuron_out_and_holds_its_outputs(engine: str) -> None:
    m = machine(counter(), engine)
    m.step(2)
    assert out(m, "accum", "count", "single") == 2
    m.set_mode("accum", "count", "mute")
    m.step(3)
    # the counter keeps what it had; its reader gets nothing from it
    assert out(m, "accum", "count", "single") == 2
    assert m.output("identity", "copy", "single") == {}
    assert out(m, "identity", "copy", "aux") == 2  # the other input still arrives
    # W keeps its rows and columns: unmuting resumes where it was
    assert vv.get_in(m.matrix, ("accum", "count", "delta", "identity", "one", "single")) == 1
    m.set_mode("accum", "count", None)
    m.step(1)
    assert out(m, "accum", "count", "single") == 3
    m.step(1)
    assert out(m, "identity", "copy", "single") == 3


@pytest.mark.parametrize("engine", ENGINES)
def test_mute_of_a_source_silences_its_readers(engine: str) -> None:
    m = machine(counter(identity__one="mute"), engine)
    m.step(4)
    assert m.output("accum", "count", "single") == {}  # 'one' never reaches it
    assert out(m, "identity", "one", "single") == 1  # held
    assert m.output("identity", "copy", "aux") == {}


@pytest.mark.parametrize("engine", ENGINES)
def test_bypass_passes_inputs_to_outputs_of_the_same_name(engine: str) -> None:
    # copy is an identity: bypassed it does what it did; count (accum -> single) gives nothing
    m = machine(counter(identity__copy="bypass"), engine)
    ref = machine(counter(), engine)
    m.step(4)
    ref.step(4)
    assert_same(ref.state, m.state, types=False)
    m = machine(counter(accum__count="bypass"), engine)
    m.step(3)
    assert m.output("accum", "count", "single") == {}
    assert m.output("identity", "copy", "single") == {}
    assert out(m, "identity", "copy", "aux") == 2


def _failing_registry() -> Registry:
    @neuron("test.broken", inputs=["x", "y"], outputs=["x", "z"])
    def broken(x: Any, p: Any) -> Any:
        raise RuntimeError("this neuron is broken")

    return Registry([*default_registry(), broken])


@pytest.mark.parametrize("engine", ENGINES)
def test_bypass_of_a_neuron_whose_function_fails(engine: str) -> None:
    # bypassed, its function never runs: x passes to x; y has no output, z no input
    reg = _failing_registry()
    net = Network.empty()
    net.registry = reg
    net.set_output("identity", "src", "single", {"a": 3})
    net.set_weight(("identity", "src", "single"), ("identity", "src", "single"), 1)
    net.set_weight(("test.broken", "b", "x"), ("identity", "src", "single"), 2)
    net.set_weight(("test.broken", "b", "y"), ("identity", "src", "single"), 1)
    net.set_weight(("identity", "sink", "single"), ("test.broken", "b", "x"), 1)
    net.set_weight(("identity", "sink", "other"), ("test.broken", "b", "z"), 1)
    m = Machine(net, engine=engine, registry=reg, **({"device": "cpu", "threshold": 0} if engine == "compiled" else {}))
    with pytest.raises(StepError, match="broken"):
        m.step(1)
    m.set_mode("test.broken", "b", "bypass")
    m.step(2)
    assert m.state["test.broken"]["b"] == {"x": {"a": 6}}
    assert m.state["identity"]["sink"] == {"single": {"a": 6}}


def test_bypass_gives_only_declared_outputs() -> None:
    net = Network.empty()
    net.set_output("identity", "src", "single", 5)
    net.set_weight(("identity", "src", "single"), ("identity", "src", "single"), 1)
    # max_norm: input 'in', output 'norm': no name in common
    net.set_weight(("max_norm", "mx", "in"), ("identity", "src", "single"), 1)
    net.set_weight(("identity", "sink", "single"), ("max_norm", "mx", "norm"), 1)
    net.set_mode("max_norm", "mx", "bypass")
    for engine in ENGINES:
        m = machine(net, engine)
        m.step(2)
        assert m.output("max_norm", "mx", "in") == {}
        assert m.output("max_norm", "mx", "norm") == {}
        assert m.output("identity", "sink", "single") == {}


@pytest.mark.parametrize("engine", ENGINES)
def test_muted_self_editor_edits_nothing(engine: str) -> None:
    # waves: update-1 moves Self's delta row; muted, the wave stands still
    from tests.conftest import EXAMPLES

    net = Network.load(EXAMPLES / "waves.dmm.json")
    free = machine(net, engine)
    free.step(2)
    net.set_mode("identity", "update-1", "mute")
    m = machine(net, engine)
    m.step(2)
    delta_row = vv.get_in(m.matrix, ("self", "self", "delta"))
    assert delta_row == vv.get_in(net.matrix, ("self", "self", "delta"))  # never moved
    assert vv.get_in(free.matrix, ("self", "self", "delta")) != delta_row


def test_everything_muted_runs_nothing_and_keeps_w() -> None:
    net = Network.empty()
    net.set_weight(("identity", "a", "single"), ("identity", "a", "single"), 1)
    net.set_output("identity", "a", "single", 4)
    # Self's accum row gone: only 'a' is in W, and it is muted
    net.set_weight(("self", "self", "accum"), ("self", "self", "network_matrix"), 0)
    net.set_mode("identity", "a", "mute")
    for engine in ENGINES:
        m = machine(net, engine)
        m.step(2)
        assert m.t == 2
        assert out(m, "identity", "a", "single") == 4
        assert vv.equal(m.matrix, net.matrix)


def test_a_failed_step_with_modes_changes_nothing() -> None:
    net = Network.empty()
    net.set_output("identity", "a", "single", {"x": 1})
    net.set_weight(("identity", "a", "single"), ("identity", "a", "single"), 1)
    net.set_weight(("identity", "b", "single"), ("identity", "a", "single"), 1)
    net.set_weight(("data.text_reader", "bad", "t"), ("identity", "a", "single"), 1)
    net.set_param("data.text_reader", "bad", "path", "/nonexistent/none.txt")
    net.set_mode("identity", "b", "mute")
    for engine in ENGINES:
        m = machine(net, engine)
        before = m.state
        with pytest.raises(StepError):
            m.step(1)
        assert m.t == 0
        assert_same(before, m.state)


def test_split_matrix_adds_up_and_shares() -> None:
    w = json.loads(json.dumps(COUNTER["outputs"]["self"]["self"]["network_matrix"]))
    keep, held, read = split_matrix(w, {("accum", "count")}, {("accum", "count")})
    assert vv.equal(vv.add(keep, held), w)
    assert "accum" not in keep
    assert vv.get_in(held, ("identity", "copy", "single", "accum", "count", "single")) == 1
    assert read == {("accum", "count")}
    assert w == COUNTER["outputs"]["self"]["self"]["network_matrix"]  # not changed


# ------------------------------------------------------------------ engines agree


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(), st.data())
def test_random_networks_with_modes_agree(y0: Any, data: Any) -> None:
    net = Network(outputs=y0)
    names = [nid for nid in net.neurons() if nid != ("self", "self")]
    modes = {}
    for nid in names:
        mode = data.draw(st.sampled_from([None, None, "mute", "bypass"]))
        if mode:
            modes[nid] = mode
    ms = [Machine(net, engine=e, **({"device": "cpu", "threshold": 0} if e == "compiled" else {})) for e in ENGINES]
    for m in ms:
        m.modes = dict(modes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for step in range(6):
            errs = []
            for m in ms:
                try:
                    m.step(1)
                    errs.append(None)
                except (NetworkHalted, StepError) as e:
                    errs.append(type(e))
            assert errs[0] == errs[1], f"step {step + 1}: {errs}"
            assert ms[0].t == ms[1].t
            assert_same(ms[0].state, ms[1].state, types=False)
            if errs[0] is not None:
                break
            if step == 2 and names:  # change a mode mid-run, as the studio does live
                nid = data.draw(st.sampled_from(names))
                mode = data.draw(st.sampled_from([None, "mute", "bypass"]))
                for m in ms:
                    m.set_mode(*nid, mode)


# ------------------------------------------------------------------ the design keeps them


def test_modes_save_and_load() -> None:
    net = counter(accum__count="mute", identity__copy="bypass")
    text = dumps_network(net)
    data = json.loads(text)
    assert data["layout"]["accum/count"] == {"mode": "mute"}
    assert data["layout"]["identity/copy"] == {"mode": "bypass"}
    back = loads_network(text)
    assert back.modes() == {("accum", "count"): "mute", ("identity", "copy"): "bypass"}
    # a file without modes (every older file) runs as designed
    assert loads_network(json.dumps(COUNTER)).modes() == {}


def test_a_bad_mode_is_refused_by_path() -> None:
    data = json.loads(json.dumps(COUNTER))
    data["layout"] = {"accum/count": {"mode": "off"}}
    with pytest.raises(NetworkFileError) as e:
        loads_network(json.dumps(data), source="x.dmm.json")
    assert str(e.value) == "x.dmm.json at $.layout[\"accum/count\"].mode: 'mode' is 'mute' or 'bypass', not 'off'"


def test_set_mode_signals_and_refuses_self() -> None:
    net = counter()
    seen: list[Any] = []
    net.events.modeChanged.connect(lambda *a: seen.append(a))
    net.set_mode("accum", "count", "mute")
    net.set_mode("accum", "count", "mute")  # no change, no signal
    net.set_mode("accum", "count", "bypass")
    net.set_mode("accum", "count", None)
    assert seen == [
        (("accum", "count"), None, "mute"),
        (("accum", "count"), "mute", "bypass"),
        (("accum", "count"), "bypass", None),
    ]
    assert "accum/count" not in net.layout  # an entry that only held the mode goes
    with pytest.raises(ValueError, match="Self"):
        net.set_mode("self", "self", "mute")
    with pytest.raises(ValueError, match="mode"):
        net.set_mode("accum", "count", "solo")


def test_mode_follows_rename_and_layout_entry_undo() -> None:
    net = counter(accum__count="mute")
    net.set_pos("accum", "count", (1, 2))
    net.rename_neuron("accum", "count", "total")
    assert net.mode("accum", "total") == "mute"
    seen: list[Any] = []
    net.events.modeChanged.connect(lambda *a: seen.append(a))
    entry = net.layout_entry("accum", "total")
    net.set_layout_entry("accum", "total", None)
    net.set_layout_entry("accum", "total", entry)
    assert seen == [(("accum", "total"), "mute", None), (("accum", "total"), None, "mute")]


def test_snapshot_keeps_the_modes_of_the_run() -> None:
    net = counter(accum__count="mute")
    m = net.machine(engine="reference")
    m.set_mode("accum", "count", None)
    m.set_mode("identity", "copy", "bypass")
    snap = m.snapshot()
    assert snap.modes() == {("identity", "copy"): "bypass"}
    assert net.modes() == {("accum", "count"): "mute"}  # the design is not changed
    m.reset()
    assert m.modes == {("accum", "count"): "mute"}


def test_machine_refuses_bad_modes() -> None:
    m = counter().machine(engine="reference")
    with pytest.raises(ValueError):
        m.set_mode("self", "self", "mute")
    with pytest.raises(ValueError):
        m.set_mode("accum", "count", "loud")


# ------------------------------------------------------------------ params for one step


@pytest.mark.parametrize("engine", ENGINES)
def test_param_once_holds_for_one_step_each_in_turn(engine: str) -> None:
    net = Network.empty()
    net.set_weight(("identity", "seen", "single"), ("time.constant", "c", "out"), 1)
    net.set_param("time.constant", "c", "value", 0)
    m = machine(net, engine)
    m.set_param_once("time.constant", "c", "value", 5)
    m.set_param_once("time.constant", "c", "value", 7)
    got = []
    for _ in range(4):
        m.step(1)
        got.append(m.output("time.constant", "c", "out").get(":number", 0))
    assert got == [5, 7, 0, 0]
    assert m.engine.params["time.constant"]["c"]["value"] == 0
