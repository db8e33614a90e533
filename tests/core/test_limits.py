"""Runaway networks are bounded: a step that would cross a bound (weights of
W, active neurons, the state's memory) is not taken, the last good state is
kept, and the error names the neuron whose output grew W."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dmm_studio.cli import main
from dmm_studio.engine import StepError
from dmm_studio.fileformat import NetworkFileError, dumps_network, load_network, loads_network
from dmm_studio.limits import Limits
from dmm_studio.network import Network, self_accum_row
from dmm_studio.registry import Registry, default_registry, neuron
from dmm_studio.vvalue import add, size

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@neuron("test.double", inputs=["matrix", "n"], outputs=["delta", "n"])
def double(x, p):
    """Reads W; for every identity/k... in it, two new ones (named with the
    step count n, which it keeps on its own loop): W about doubles each step."""
    n = x["n"].get(":number", 0)
    ks = list(x["matrix"].get("identity", {}))
    frag = {f"{k}{c}{n}": {"single": {"identity": {f"{k}{c}{n}": {"single": 1}}}} for k in ks for c in "ab"}
    return {"delta": {"identity": frag} if frag else {}, "n": {":number": n + 1}}


def registry() -> Registry:
    return Registry([*default_registry(), double])


def doubling() -> Network:
    w = add(
        self_accum_row(),
        {"identity": {"k": {"single": {"identity": {"k": {"single": 1}}}}}},
        {"test.double": {"d": {"matrix": {"self": {"self": {"network_matrix": 1}}}}}},
        {"test.double": {"d": {"n": {"test.double": {"d": {"n": 1}}}}}},
        {"self": {"self": {"delta": {"test.double": {"d": {"delta": 1}}}}}},
    )
    return Network(outputs={"self": {"self": {"network_matrix": w}}, "identity": {"k": {"single": 1}}})


def run_to_the_bound(m, steps=60):
    with pytest.raises(StepError) as e:
        m.step(steps)
    return e.value


ENGINES = [("reference", {}), ("compiled", {}), ("compiled", {"threshold": 0})]


def test_the_defaults_are_on_and_documented():
    assert Limits() == Limits(max_weights=1_000_000, max_active=1_000_000, max_state_mb=2048)
    assert doubling().machine(registry=registry()).limits == Limits()
    doc = (Path(__file__).resolve().parents[2] / "docs" / "semantics.md").read_text()
    assert "max_weights" in doc and "1,000,000" in doc and "max_state_mb" in doc


@pytest.mark.parametrize("engine, kw", ENGINES)
def test_a_doubling_network_stops_before_crossing_max_weights(engine, kw):
    m = doubling().machine(engine=engine, registry=registry(), limits=Limits(max_weights=300), **kw)
    e = run_to_the_bound(m)
    assert e.neuron == ("test.double", "d")
    assert "max_weights = 300" in str(e) and "test.double/d's output 'delta'" in str(e)
    assert e.t == m.t + 1  # the step that would have crossed, not taken
    kept = size(m.matrix)
    assert 100 < kept <= 300  # the last good state: W about doubles each step
    grown = int(str(e).split("would have ")[1].split(" weights")[0].replace(",", ""))
    assert grown > 300
    # the same machine is intact: a bigger bound lets it go on
    m.limits = Limits(max_weights=10_000)
    m.step()
    assert size(m.matrix) == grown


@pytest.mark.parametrize("engine, kw", ENGINES[:2])
def test_max_active_and_the_memory_budget(engine, kw):
    m = doubling().machine(
        engine=engine, registry=registry(), limits=Limits(max_weights=None, max_active=200), **kw
    )
    e = run_to_the_bound(m)
    assert e.neuron == ("test.double", "d") and "max_active = 200" in str(e)
    assert len(m.active()) <= 200
    # 0.25 MiB: about 260 weights at the estimate's 1,000 bytes a weight
    m = doubling().machine(
        engine=engine, registry=registry(), limits=Limits(None, None, max_state_mb=0.25), **kw
    )
    e = run_to_the_bound(m)
    assert e.neuron == ("test.double", "d") and "max_state_mb = 0.25" in str(e) and "MiB" in str(e)
    assert 60 < size(m.matrix) <= 262


def test_an_output_that_outgrows_the_budget_stops_the_run():
    """data.cons pushing its own list onto itself doubles the list each step:
    W does not grow, the state does; the run stops the step after it crossed."""
    w = add(
        self_accum_row(),
        {
            "data.cons": {
                "l": {"item": {"data.cons": {"l": {"list": 1}}}, "list": {"data.cons": {"l": {"list": 1}}}}
            }
        },
    )
    net = Network(
        outputs={"self": {"self": {"network_matrix": w}}, "data.cons": {"l": {"list": {"head": 1}}}}
    )
    net.params = {"data.cons": {"l": {"max_length": 0}}}
    m = net.machine(engine="reference", limits=Limits(max_state_mb=0.1))
    e = run_to_the_bound(m, 40)
    assert "max_state_mb" in str(e) and e.neuron == ("data.cons", "l"), str(e)
    assert 8 <= m.t <= 12


def test_limits_are_set_in_the_file_and_saved(tmp_path):
    net = load_network(EXAMPLES / "counter.dmm.json")
    assert net.limits == {}
    net.limits = {"max_weights": 10, "max_state_mb": None}
    again = loads_network(dumps_network(net))
    assert again.limits == {"max_weights": 10, "max_state_mb": None}
    assert again.machine().limits == Limits(max_weights=10, max_state_mb=None)
    for bad, what in [
        ({"max_wheights": 3}, "unknown limit 'max_wheights'"),
        ({"max_weights": -1}, "limit 'max_weights' must be a whole number >= 0"),
        ({"max_active": 1.5}, "whole number"),
        ([], "'limits' must be an object"),
    ]:
        data = json.loads(dumps_network(net))
        data["limits"] = bad
        with pytest.raises(NetworkFileError, match=what):
            loads_network(json.dumps(data), "x.dmm.json")


def test_the_cli_stops_a_network_that_grows_past_its_files_bound(tmp_path, capsys):
    """live_edit adds wires for accum/total at t = 60: with the file's bound at
    the weights it has before, the run stops there, naming matrix.patch/grow."""
    data = json.loads((EXAMPLES / "live_edit.dmm.json").read_text())
    before = load_network(EXAMPLES / "live_edit.dmm.json").machine(engine="reference")
    before.step(40)
    data["limits"] = {"max_weights": size(before.matrix)}
    f = tmp_path / "live.dmm.json"
    f.write_text(json.dumps(data))
    trace = tmp_path / "t.jsonl"
    assert main(["run", str(f), "--steps", "100", "--trace", str(trace)]) == 1
    cap = capsys.readouterr()
    assert cap.err.count("\n") == 1
    assert "neuron matrix.patch/grow" in cap.err and "max_weights" in cap.err, cap.err
    t = int(cap.err.split("step ")[1].split(":")[0])
    assert 60 <= t <= 62
    assert len(trace.read_text().splitlines()) == t - 1  # every good step, none after


def test_a_memory_error_inside_a_step_is_one_clean_line(monkeypatch):
    m = doubling().machine(engine="reference", registry=registry())
    from dmm_studio.engine import reference

    def boom(*a, **k):
        raise MemoryError()

    monkeypatch.setattr(reference, "up_movement", boom)
    with pytest.raises(StepError, match="step 1: out of memory"):
        m.step()
    assert m.t == 0


def test_the_count_without_building_w_is_a_lower_bound_and_exact_when_it_says_so():
    """W_{t+1} = W + delta is counted without building it (a runaway's check
    would otherwise take as much memory as its step): on random matrices and
    deltas, the count never exceeds the true size, and equals it when exact."""
    import random

    from dmm_studio.limits import _new_and_hits
    from dmm_studio.vvalue import canon

    rng = random.Random(7)

    def value(depth):
        if depth == 0 or rng.random() < 0.3:
            return rng.choice([1, -1, 2])
        out = {rng.choice("abc"): value(depth - 1) for _ in range(rng.randint(1, 3))}
        if rng.random() < 0.3:
            out[":number"] = rng.choice([1, -1])
        return out

    exact_seen = 0
    for _ in range(500):
        w = canon(value(3) if rng.random() < 0.9 else {})
        v = canon(value(3))
        if not isinstance(w, dict) or not isinstance(v, dict) or not v:
            continue
        new, hits = _new_and_hits(v, w)
        true = size(add(w, v))
        assert size(w) - hits + new <= true, (w, v)
        if hits == 0:
            exact_seen += 1
            assert size(w) + new == true, (w, v)
    assert exact_seen > 50
