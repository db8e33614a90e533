"""Runs that go wrong end cleanly: NaN/Inf reported (the CLI stops unless told
to go on), exact integers beyond float range a step error naming the neuron."""

from __future__ import annotations

import json

import pytest

from dmm_studio.cli import main
from dmm_studio.engine import StepError
from dmm_studio.fileformat import save_network
from dmm_studio.network import Network, self_accum_row
from dmm_studio.vvalue import add

ENGINES = [("reference", {}), ("compiled", {}), ("compiled", {"threshold": 0})]


def nan_network(scalars: int = 0) -> Network:
    """accum/x gets 1e200 * 1e200 = inf at step 2 (then NaN); ``scalars`` more
    constant neurons make the network large enough to run compiled."""
    w = add(
        self_accum_row(),
        {"identity": {"big": {"single": {"identity": {"big": {"single": 1}}}}}},
        {"accum": {"x": {"delta": {"identity": {"big": {"single": 1e200}}}}}},
        {"accum": {"x": {"accum": {"accum": {"x": {"single": 1e200}}}}}},
        {"identity": {f"c{k}": {"single": {"identity": {f"c{k}": {"single": 1}}}} for k in range(scalars)}},
    )
    outputs = {"self": {"self": {"network_matrix": w}}, "identity": {"big": {"single": 1.0}}}
    outputs["identity"].update({f"c{k}": {"single": float(k + 1)} for k in range(scalars)})
    return Network(outputs=outputs)


def counter(self_weight: int) -> Network:
    """accum/c: c = self_weight * c + 1, exact ints on the reference's code."""
    w = add(
        self_accum_row(),
        {"identity": {"one": {"single": {"identity": {"one": {"single": 1}}}}}},
        {"accum": {"c": {"accum": {"accum": {"c": {"single": self_weight}}}}}},
        {"accum": {"c": {"delta": {"identity": {"one": {"single": 1}}}}}},
    )
    return Network(outputs={"self": {"self": {"network_matrix": w}}, "identity": {"one": {"single": 1}}})


@pytest.mark.parametrize("engine, kw", ENGINES)
@pytest.mark.parametrize("scalars", [0, 80])
def test_machine_names_the_first_non_finite_value(engine, kw, scalars):
    m = nan_network(scalars).machine(engine=engine, **kw)
    m.step()
    assert m.non_finite() is None
    m.step()
    hit = m.non_finite()
    assert hit is not None and hit.t == 2 and hit.neuron == ("accum", "x") and hit.output == "single"
    assert "inf in accum/x/single" in hit.message


def test_the_cli_stops_at_the_first_non_finite_step(tmp_path, capsys):
    f = tmp_path / "nan.dmm.json"
    save_network(nan_network(), f)
    trace = tmp_path / "t.jsonl"
    assert main(["run", str(f), "--steps", "10", "--trace", str(trace)]) == 1
    cap = capsys.readouterr()
    assert cap.err.count("\n") == 1
    assert "step 2: neuron accum/x: inf in accum/x/single" in cap.err and "--allow-nonfinite" in cap.err
    assert "2 steps" in cap.out
    # the trace keeps the finite steps before it, valid JSON
    assert [json.loads(line)["step"] for line in trace.read_text().splitlines()] == [1]


def test_the_cli_goes_on_when_asked_and_reports_once(tmp_path, capsys):
    f = tmp_path / "nan.dmm.json"
    save_network(nan_network(), f)
    assert main(["run", str(f), "--steps", "10", "--allow-nonfinite"]) == 0
    cap = capsys.readouterr()
    assert cap.err.count("\n") == 1 and "warning: step 2: neuron accum/x" in cap.err
    assert "10 steps" in cap.out


@pytest.mark.parametrize("engine", ["reference", "compiled"])
def test_an_exact_integer_beyond_float_range_is_a_step_error_naming_the_neuron(engine):
    m = counter(10**300).machine(engine=engine)
    m.step(2)
    assert m.output("accum", "c", "single") == {":number": 10**300 + 1}
    with pytest.raises(StepError, match=r"step 3: neuron accum/c: output 'single': an exact integer") as e:
        m.step()
    assert e.value.neuron == ("accum", "c")
    assert m.t == 2  # the last good state is kept
    assert m.output("accum", "c", "single") == {":number": 10**300 + 1}


def test_the_cli_reports_an_integer_beyond_float_range_in_one_line(tmp_path, capsys):
    f = tmp_path / "big.dmm.json"
    save_network(counter(10**300), f)
    trace = tmp_path / "t.jsonl"
    assert main(["run", str(f), "--steps", "20", "--trace", str(trace)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "step 3: neuron accum/c" in err and "float range" in err
    assert len(trace.read_text().splitlines()) == 2


def test_the_check_walks_values_nested_deeper_than_the_recursion_limit():
    """A data.cons list of 10,000 items is 20,000 levels deep: the NaN/Inf check
    (on by default in the CLI) finds a NaN at its bottom, and passes it when finite."""
    from dmm_studio.nonfinite import NonFiniteWatch, first_non_finite

    def deep(bottom: float) -> dict:
        # V-values are never changed in place (the walks remember what they saw
        # in a value by identity): the NaN one is a value of its own
        v: dict = {}
        node = v
        for _ in range(20_000):
            node["tail"] = {"head": 1.5}
            node = node["tail"]
        node["head"] = bottom
        return v

    assert first_non_finite(deep(1.5)) is None
    v = deep(float("nan"))
    path, x = first_non_finite(v)
    assert x != x and len(path) == 20_001 and path[-1] == "head"
    hit = NonFiniteWatch().check(3, {"data.cons": {"l": {"list": v}}})
    assert hit.neuron == ("data.cons", "l") and hit.output == "list"


def test_a_compiled_integer_that_outgrows_float_range_is_reported_not_a_crash(tmp_path, capsys):
    """Compiled, numbers are float64: the counter's int sum becomes inf, which
    the NaN/Inf check names (the reference refuses the step, see above)."""
    net = counter(10**300)
    w = net.outputs["self"]["self"]["network_matrix"]
    consts = {"identity": {f"c{k}": {"single": {"identity": {f"c{k}": {"single": 1}}}} for k in range(80)}}
    net.outputs["self"]["self"]["network_matrix"] = add(w, consts)
    net.outputs["identity"].update({f"c{k}": {"single": k + 1} for k in range(80)})
    f = tmp_path / "big.dmm.json"
    save_network(net, f)
    assert main(["run", str(f), "--steps", "5", "--engine", "compiled"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "step 3: neuron accum/c: inf in accum/c/single" in err, err
