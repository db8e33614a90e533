"""The reference engine, SPEC §2-5, step by step on small networks."""

from __future__ import annotations

from pathlib import Path

import pytest

from dmm_studio import Network, NetworkHalted, StepError, load_network
from dmm_studio.engine.reference import ReferenceEngine, step
from dmm_studio.network import self_accum_row
from dmm_studio.registry import Registry, default_registry, neuron, self_neuron
from dmm_studio.vvalue import add, scale

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

SELF_ROW = self_accum_row()


def net(w_extra, **outputs) -> Network:
    """A network whose W_0 is Self's accum row plus ``w_extra``; outputs by 'type/name/out'."""
    state = {"self": {"self": {"network_matrix": add(SELF_ROW, w_extra)}}}
    for key, v in outputs.items():
        f, n, o = key.split("__")
        state.setdefault(f, {}).setdefault(n, {})[o] = v
    return Network(outputs=state)


def const_loop(name: str) -> dict:
    return {"identity": {name: {"single": {"identity": {name: {"single": 1}}}}}}


def test_counter_counts_step_by_step():
    m = load_network(EXAMPLES / "counter.dmm.json").machine(engine="reference")
    for t in range(1, 11):
        m.step()
        assert m.t == t
        assert m.output("accum", "count", "single") == {":number": t}
        assert m.output("identity", "one", "single") == {":number": 1}
    assert set(m.active()) == {("self", "self"), ("accum", "count"), ("identity", "one")}


def test_waves_move_self_delta_row():
    m = load_network(EXAMPLES / "waves.dmm.json").machine(engine="reference")
    expected = ["update-2", "update-3", "update-1"]
    for t in range(1, 13):
        m.step()
        row = m.matrix["self"]["self"]["delta"]
        assert row == {"identity": {expected[(t - 1) % 3]: {"single": 1}}}
        # the rest of W is unchanged: Self's accum row and the three self-loops
        assert m.matrix["self"]["self"]["accum"] == SELF_ROW["self"]["self"]["accum"]
        assert set(m.matrix["identity"]) == {"update-1", "update-2", "update-3"}


def test_inputs_sum_weighted_v_values():
    w = add(
        const_loop("a"),
        const_loop("b"),
        {"identity": {"sum": {"single": {"identity": {"a": {"single": 2}, "b": {"single": -1}}}}}},
    )
    m = net(w, identity__a__single={"x": 1, "y": {"z": 3}}, identity__b__single={"x": 2, "w": 1}).machine(
        engine="reference"
    )
    m.step()
    assert m.output("identity", "sum", "single") == {"y": {"z": 6}, "w": -1}  # x cancels


def test_neuron_leaves_the_active_part():
    # killer's one-shot output (it has no self-loop) is a delta that removes x's
    # self-loop: x is active at step 1, gone from W_1, so it has no output at step 2
    kill = {"identity": {"x": {"single": {"identity": {"x": {"single": -1}}}}}}
    w = add(const_loop("x"), {"self": {"self": {"delta": {"identity": {"killer": {"single": 1}}}}}})
    m = net(w, identity__x__single=5, identity__killer__single=kill).machine(engine="reference")
    m.step()
    assert m.output("identity", "x", "single") == {":number": 5}
    assert ("identity", "x") not in m.active()
    m.step()
    assert m.output("identity", "x", "single") == {}
    assert "x" not in m.state.get("identity", {})
    assert set(m.active()) == {("self", "self"), ("identity", "killer")}


def test_neuron_enters_the_active_part():
    grow = const_loop("born")
    w = add(const_loop("g"), {"self": {"self": {"delta": {"identity": {"g": {"single": 1}}}}}})
    m = net(w, identity__g__single=grow, identity__born__single=7).machine(engine="reference")
    # born is not in W_0: it has no output at t=1 even though y_0 held one
    m.step()
    assert m.output("identity", "born", "single") == {}
    assert ("identity", "born") in m.active()
    # W_1 wires born to itself, but its output is gone: it stays {} (and its loop keeps it active)
    m.step()
    assert m.output("identity", "born", "single") == {}
    assert m.matrix["identity"]["born"] == {"single": {"identity": {"born": {"single": 2}}}}


def test_cancellation_to_zero_halts():
    w0 = add(SELF_ROW, const_loop("k"), {"self": {"self": {"delta": {"identity": {"k": {"single": 1}}}}}})
    # k emits -W_0, so W_1 = W_0 - W_0 = {}
    state = {"self": {"self": {"network_matrix": w0}}, "identity": {"k": {"single": scale(-1, w0)}}}
    m = Network(outputs=state).machine(engine="reference")
    m.step()
    assert m.matrix == {}
    assert m.stats()["active"] == 0
    with pytest.raises(NetworkHalted, match="after step 1"):
        m.step()
    assert m.t == 1


def test_network_without_self_row_halts_after_one_step():
    m = Network(
        outputs={"self": {"self": {"network_matrix": const_loop("a")}}, "identity": {"a": {"single": 1}}}
    ).machine(engine="reference")
    m.step()
    assert m.output("identity", "a", "single") == {":number": 1}
    with pytest.raises(NetworkHalted):
        m.step()


def test_builtins_in_a_network():
    w = add(
        const_loop("l"),
        const_loop("r"),
        const_loop("v"),
        {
            "less_or_equal": {
                "cmp": {
                    "left": {"identity": {"l": {"single": 1}}},
                    "right": {"identity": {"r": {"single": 1}}},
                }
            },
            "max_norm": {"n": {"in": {"identity": {"v": {"single": 1}}}}},
            "mult_mask": {
                "mm": {"mask": {"identity": {"l": {"single": 1}}}, "main": {"identity": {"v": {"single": 1}}}}
            },
        },
    )
    m = net(
        w,
        identity__l__single={"a": 2},
        identity__r__single={"a": 3, "b": -1},
        identity__v__single={"a": -4, "b": 1},
    ).machine(engine="reference")
    m.step()
    # right - left = {a: 1, b: -1} has a negative leaf
    assert m.output("less_or_equal", "cmp", "true") == {}
    assert m.output("less_or_equal", "cmp", "false") == {":number": 1}
    assert m.output("max_norm", "n", "norm") == {":number": 4}
    assert m.output("mult_mask", "mm", "single") == {"a": -8}


def test_source_only_neuron_is_active_and_runs_on_empty_inputs():
    calls = []

    @neuron("probe", inputs=["in"], outputs=["out"])
    def probe(x, p):
        calls.append(dict(x))
        return {"out": {":number": 42}}

    reg = Registry([self_neuron, probe, *[t for t in default_registry() if t.id != "self"]])
    w = add(SELF_ROW, {"identity": {"sink": {"single": {"probe": {"p": {"out": 1}}}}}})
    y = step({"self": {"self": {"network_matrix": w}}}, {}, reg)
    assert calls == [{"in": {}}]
    assert y["probe"]["p"]["out"] == {":number": 42}
    assert "sink" not in y.get("identity", {})  # its input read {} (probe had no output at t=0)


def test_a_failing_neuron_is_named():
    @neuron("boom", inputs=["in"], outputs=["out"])
    def boom(x, p):
        raise ZeroDivisionError("division by zero")

    reg = Registry([self_neuron, boom])
    w = add(SELF_ROW, {"boom": {"b": {"in": {"self": {"self": {"network_matrix": 1}}}}}})
    e = ReferenceEngine({"self": {"self": {"network_matrix": w}}}, registry=reg)
    with pytest.raises(StepError) as err:
        e.step()
    assert err.value.neuron == ("boom", "b")
    assert "boom/b" in str(err.value) and "ZeroDivisionError" in str(err.value)


def test_unknown_type_written_into_w_at_run_time_is_reported():
    # identity/g's output reaches Self's delta: a weight nosuch/z/single <- identity/g/single
    # (six labels down; nested deeper it would be no weight, SPEC §2, and name no neuron)
    delta = {"nosuch": {"z": {"single": {"identity": {"g": {"single": 1}}}}}}
    w = add(const_loop("g"), {"self": {"self": {"delta": {"identity": {"g": {"single": 1}}}}}})
    m = net(w, identity__g__single=delta).machine(engine="reference")
    m.step()
    with pytest.raises(StepError, match="unknown neuron type 'nosuch'") as err:
        m.step()
    assert err.value.neuron == ("nosuch", "z")


def test_step_is_pure():
    n = load_network(EXAMPLES / "waves.dmm.json")
    before = repr(n.outputs)
    y1 = step(n.outputs, {}, default_registry())
    assert repr(n.outputs) == before
    assert y1 != n.outputs


def test_machine_live_edits_and_snapshot(tmp_path):
    m = load_network(EXAMPLES / "counter.dmm.json").machine(engine="reference")
    m.step(3)
    m.set_weight(("accum", "count", "delta"), ("identity", "one", "single"), 10)
    m.step()
    assert m.output("accum", "count", "single") == {":number": 13}
    m.edit_matrix({"accum": {"count": {"delta": {"identity": {"one": {"single": -10}}}}}})
    m.step()
    assert m.output("accum", "count", "single") == {":number": 13}  # delta row removed
    snap = m.snapshot()
    snap.save(tmp_path / "snap.dmm.json")
    again = load_network(tmp_path / "snap.dmm.json").machine(engine="reference")
    again.step()
    assert again.output("accum", "count", "single") == {":number": 13}
    m.reset()
    assert m.t == 0 and m.output("accum", "count", "single") == {}


@pytest.mark.parametrize("engine", ["reference", "compiled"])
def test_edit_matrix_between_steps_is_a_delta(engine):
    m = load_network(EXAMPLES / "counter.dmm.json").machine(engine=engine)
    m.step(2)
    m.edit_matrix({"accum": {"count": {"delta": {"identity": {"one": {"single": 2}}}}}})
    assert m.matrix["accum"]["count"]["delta"] == {"identity": {"one": {"single": 3}}}
    m.step()
    assert m.output("accum", "count", "single") == {":number": 5}
    # a new wire and a new neuron arrive through the same path
    m.edit_matrix({"accum": {"other": {"delta": {"identity": {"one": {"single": 1}}}}}})
    m.step(2)
    assert m.output("accum", "other", "single") == {":number": 1}
    m.edit_matrix({"accum": {"other": {"delta": {"identity": {"one": {"single": -1}}}}}})
    assert ("accum", "other") not in m.active()


@pytest.mark.parametrize("engine", ["reference", "compiled"])
def test_tensors_of_two_shapes_into_one_input_is_a_step_error(engine, tmp_path, capsys):
    import torch

    w = add(
        const_loop("a"),
        const_loop("b"),
        {"identity": {"mix": {"single": {"identity": {"a": {"single": 1}, "b": {"single": 1}}}}}},
    )
    n = net(
        w, identity__a__single={":tensor": torch.ones(2, 2)}, identity__b__single={":tensor": torch.ones(3)}
    )
    m = n.machine(engine=engine)
    with pytest.raises(StepError) as err:
        m.step()
    assert "[2, 2]" in str(err.value) and "[3]" in str(err.value)
    if engine == "reference":
        assert err.value.neuron == ("identity", "mix")
    # the CLI names it in one line and exits 1, never a traceback
    from dmm_studio.cli import main

    n.save(tmp_path / "mix.dmm.json")
    assert main(["run", str(tmp_path / "mix.dmm.json"), "--steps", "2", "--engine", engine]) == 1
    err_text = capsys.readouterr().err
    assert err_text.count("\n") == 1 and "step 1" in err_text and "Traceback" not in err_text


@pytest.mark.parametrize("engine,kw", [("reference", {}), ("compiled", {}), ("compiled", {"threshold": 0})])
def test_a_state_view_is_y_t_and_stays_it_while_the_run_goes_on(engine, kw):
    """What the inspectors keep after every step (no copy): engines replace their
    state, never change it in place, so a kept view is still that step's y_t."""
    import copy

    m = load_network(Path(__file__).resolve().parents[2] / "examples" / "waves.dmm.json").machine(
        engine=engine, **kw
    )
    m.step(2)
    view = m.engine.state_view()
    assert view == m.engine.state()
    kept = copy.deepcopy(view)
    m.step(3)
    m.edit_matrix({"identity": {"update-1": {"single": {"identity": {"update-2": {"single": 0.5}}}}}})
    m.set_output("identity", "update-1", "single", {"v": 7})
    m.step(1)
    assert view == kept
