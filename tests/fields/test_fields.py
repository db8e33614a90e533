"""Modulating fields: the format's validation, the gains, and engines applying them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dmm_studio import vvalue as vv
from dmm_studio.engine import ENGINES
from dmm_studio.fields import compute_gains, field_value, validate_fields
from dmm_studio.network import Network

LAYOUT = {
    "self/self": {"pos": [0, 0]},
    "synth.sin/u1": {"pos": [100, 0]},
    "synth.sin/u2": {"pos": [200, 0]},
    "synth.sin/u3": {"pos": [0, 300]},
    "time.clock/clock": {"pos": [-100, 0]},
    "identity/nowhere": {},
}


def no_output(f, n, o):
    return {}


def entry(**kw):
    base = {"name": "f", "source": {"kind": "constant", "value": 1.0}, "targets": ["outputs"]}
    base.update(kw)
    return base


# ------------------------------------------------------------------ validation


def test_a_good_list_validates():
    validate_fields(
        [
            entry(name="a", source={"kind": "plane", "direction": [1, 1], "wavelength": 300, "speed": 10}),
            entry(name="b", source={"kind": "radial", "center": [0, 0], "decay": 500}, targets=["inputs"]),
            entry(name="c", source={"kind": "bump", "width": 50, "velocity": [1, 0]}, targets=["param:a"]),
            entry(
                name="d", source={"kind": "oscillation", "frequency": 0.1}, covers={"types": ["synth.sin"]}
            ),
            entry(
                name="e",
                source={
                    "kind": "sum",
                    "of": [{"kind": "constant"}, {"kind": "induced", "neuron": "time.clock/c"}],
                },
                covers={"neurons": ["synth.sin/u1"], "region": {"center": [0, 0], "radius": 10}},
                strength=-0.5,
                enabled=False,
            ),
        ]
    )
    validate_fields([])


@pytest.mark.parametrize(
    "fields, message",
    [
        ({}, "'fields' must be a list"),
        ([3], r"fields\[0\]: a field is an object"),
        ([{"source": {"kind": "constant"}, "targets": ["outputs"]}], "needs a 'name'"),
        ([entry(colour="red")], "field 'f' .*unknown key 'colour'"),
        ([entry(source={"kind": "laser"})], "field 'f' .*'kind' must be one of"),
        (
            [entry(source={"kind": "plane", "wavelength": -3})],
            "'wavelength' must be a positive number, not -3",
        ),
        ([entry(source={"kind": "plane", "direction": [0, 0]})], "'direction' must not be"),
        ([entry(source={"kind": "radial", "centre": [0, 0]})], "a radial source has no 'centre'"),
        ([entry(source={"kind": "bump", "center": [1]})], "'center' must be \\[x, y\\]"),
        ([entry(source={"kind": "induced"})], "an induced source needs 'neuron'"),
        ([entry(source={"kind": "induced", "neuron": "noslash"})], "'neuron' must be 'type/name'"),
        ([entry(source={"kind": "induced", "neuron": "a/b", "falloff": "cubic"})], "'falloff' must be"),
        ([entry(source={"kind": "sum", "of": []})], "a sum needs 'of'"),
        ([entry(source={"kind": "sum", "of": [{"kind": "bump", "width": 0}]})], r"source\.of\[0\]: 'width'"),
        ([entry(targets=[])], "'targets' must be a non-empty list"),
        ([entry(targets=["brightness"])], "a target is one of"),
        ([entry(strength="big")], "'strength' must be a finite number"),
        ([entry(strength=float("nan"))], "'strength' must be a finite number"),
        ([entry(covers={"types": "synth.sin"})], "'types' must be a list"),
        ([entry(covers={"region": {"center": [0, 0], "radius": -1}})], "'radius' must be a positive"),
        ([entry(covers={"near": 1})], "unknown key 'near'"),
        ([entry(enabled="yes")], "'enabled' must be true or false"),
        ([entry(), entry()], r"field 'f' \(fields\[1\]\): another field has this name"),
    ],
)
def test_bad_fields_are_refused_naming_the_field_and_the_fault(fields, message):
    with pytest.raises(ValueError, match=message):
        validate_fields(fields)


# ------------------------------------------------------------------ gains


def test_a_plane_wave_gives_the_gain_at_each_position_and_never_touches_self():
    f = entry(source={"kind": "plane", "direction": [1, 0], "wavelength": 400, "speed": 100}, strength=0.5)
    for t in (0, 1, 3):
        g = compute_gains([f], LAYOUT, t, no_output)
        assert ("self", "self") not in g.outputs and ("identity", "nowhere") not in g.outputs
        for key, pos in (("synth.sin/u1", 100), ("synth.sin/u2", 200), ("time.clock/clock", -100)):
            expected = 1 + 0.5 * math.sin(2 * math.pi * (pos - 100 * t) / 400)
            assert g.outputs[tuple(key.split("/"))] == pytest.approx(expected)
        assert not g.inputs and not g.params


def test_covers_targets_and_products():
    fields = [
        entry(
            name="a",
            source={"kind": "constant", "value": 1},
            strength=1.0,
            covers={"types": ["synth.sin"]},
            targets=["inputs", "param:a"],
        ),
        entry(
            name="b",
            source={"kind": "constant", "value": 1},
            strength=2.0,
            covers={"neurons": ["synth.sin/u1"]},
            targets=["weights"],
        ),
        entry(
            name="c",
            source={"kind": "constant", "value": 1},
            strength=5.0,
            covers={"region": {"center": [0, 300], "radius": 10}},
            targets=["outputs"],
        ),
        entry(name="off", source={"kind": "constant", "value": 1}, strength=9.0, enabled=False),
    ]
    g = compute_gains(fields, LAYOUT, 0, no_output)
    assert g.inputs == {("synth.sin", "u1"): 6.0, ("synth.sin", "u2"): 2.0, ("synth.sin", "u3"): 2.0}
    assert g.params == {("synth.sin", n, "a"): 2.0 for n in ("u1", "u2", "u3")}
    assert g.outputs == {("synth.sin", "u3"): 6.0}


def test_radial_bump_and_oscillation_values():
    pts = np.array([[0.0, 0.0], [300.0, 400.0]])
    r = field_value(
        entry(source={"kind": "radial", "center": [0, 0], "wavelength": 1000, "decay": 500}), pts, 0
    )
    assert r == pytest.approx([0.0, math.sin(2 * math.pi * 0.5) * math.exp(-1)])
    b = field_value(
        entry(source={"kind": "bump", "width": 500, "velocity": [30, 40], "amplitude": 2}), pts, 10
    )
    assert b == pytest.approx([2 * math.exp(-(500**2) / (2 * 500**2)), 2.0])
    o = field_value(entry(source={"kind": "oscillation", "frequency": 0.25, "amplitude": 3}), pts, 1)
    assert o == pytest.approx([3.0, 3.0])
    s = field_value(entry(source={"kind": "sum", "of": [{"kind": "constant", "value": 1}] * 3}), pts, 0)
    assert s == pytest.approx([3.0, 3.0])


def test_an_induced_field_follows_the_emitting_neurons_output():
    f = entry(
        source={"kind": "induced", "neuron": "time.clock/clock", "output": "t", "width": 100},
        covers={"types": ["synth.sin"]},
        strength=0.1,
    )
    outputs = {("time.clock", "clock", "t"): {":number": 4}}
    g = compute_gains([f], LAYOUT, 0, lambda f_, n, o: outputs.get((f_, n, o), {}))
    d1, d2 = 200.0, 300.0
    assert g.outputs[("synth.sin", "u1")] == pytest.approx(1 + 0.1 * 4 * math.exp(-(d1**2) / 2e4))
    assert g.outputs[("synth.sin", "u2")] == pytest.approx(1 + 0.1 * 4 * math.exp(-(d2**2) / 2e4))
    silent = compute_gains([f], LAYOUT, 0, no_output)
    assert set(silent.outputs.values()) == {1.0}


def test_gains_follow_layout_edits():
    f = entry(source={"kind": "plane", "direction": [1, 0], "wavelength": 400})
    layout = {"synth.sin/u": {"pos": [100, 0]}}
    assert compute_gains([f], layout, 0, no_output).outputs[("synth.sin", "u")] == pytest.approx(2.0)
    layout["synth.sin/u"]["pos"] = [0, 0]
    assert compute_gains([f], layout, 0, no_output).outputs[("synth.sin", "u")] == pytest.approx(1.0)


# ------------------------------------------------------------------ engines


def modulated_counter(fields):
    """accum/count adds time.constant/one (1) each step; a clock ticks beside it."""
    net = Network.empty()
    net.set_weight(("accum", "count", "accum"), ("accum", "count", "single"), 1)
    net.set_weight(("accum", "count", "delta"), ("time.constant", "one", "out"), 1)
    net.set_weight(("time.clock", "clock", "tick"), ("time.clock", "clock", "t"), 1)
    net.set_weight(("synth.sin", "osc", "x"), ("time.clock", "clock", "t"), 1)
    net.set_pos("time.constant", "one", (100, 0))
    net.set_pos("accum", "count", (0, 0))
    net.set_pos("time.clock", "clock", (0, 500))
    net.set_pos("synth.sin", "osc", (0, 600))
    net.set_pos("self", "self", (100, 0))
    net.fields = fields
    return net


OSC = entry(
    name="osc",
    source={"kind": "oscillation", "frequency": 0.125},
    strength=0.5,
    covers={"neurons": ["time.constant/one", "self/self"]},
)


def test_the_reference_engine_applies_output_gains():
    m = modulated_counter([OSC]).machine(engine="reference")
    count = 0.0
    for t in range(12):
        m.step()
        if t >= 1:  # time.constant's first output is read at the step from t = 1
            count += 1 + 0.5 * math.sin(2 * math.pi * 0.125 * t)
        assert m.output("accum", "count", "single").get(":number", 0) == pytest.approx(count)
    # the clock is untouched, and Self's matrix is not changed by the field
    assert m.output("time.clock", "clock", "t") == {":number": 12.0}
    assert vv.equal(m.matrix, modulated_counter([]).matrix)


def test_the_reference_engine_applies_param_gains():
    f = entry(
        name="pa",
        source={"kind": "constant", "value": 1},
        strength=1.0,
        targets=["param:a"],
        covers={"types": ["synth.sin"]},
    )
    net = modulated_counter([f])
    net.set_param("synth.sin", "osc", "a", 0.5)
    m = net.machine(engine="reference")
    m.step(5)
    # a = 0.5 * (1 + 1) = 1: osc reads the clock's t = 4 at the step from t = 4
    assert m.output("synth.sin", "osc", "y")[":number"] == pytest.approx(math.sin(4.0))


def test_input_gains_scale_the_incoming_wires():
    f = entry(
        name="in",
        source={"kind": "constant", "value": 1},
        strength=-0.5,
        targets=["inputs"],
        covers={"neurons": ["accum/count"]},
    )
    m = modulated_counter([f]).machine(engine="reference")
    m.step(6)
    # count_{t+1} = 0.5 * (count_t + 1) from t = 1 on: 0.5, 0.75, 0.875, ...
    assert m.output("accum", "count", "single")[":number"] == pytest.approx(1 - 0.5**5)


OTHER_ENGINES = sorted(set(ENGINES) - {"reference"})


@pytest.mark.skipif(not OTHER_ENGINES, reason="only the reference engine is registered")
@pytest.mark.parametrize("engine", OTHER_ENGINES)
def test_engines_agree_on_fields(engine):
    fields = [
        OSC,
        entry(
            name="pa",
            source={"kind": "plane", "direction": [0, 1], "wavelength": 800, "speed": 30},
            strength=0.3,
            targets=["param:a", "inputs"],
            covers={"types": ["synth.sin"]},
        ),
        entry(
            name="ind",
            source={"kind": "induced", "neuron": "time.clock/clock", "output": "t", "width": 300},
            strength=0.01,
            targets=["weights"],
            covers={"neurons": ["accum/count"]},
        ),
    ]
    net = modulated_counter(fields)
    ref, other = net.machine(engine="reference"), net.machine(engine=engine)
    for _ in range(20):
        ref.step()
        other.step()
        assert vv.equal(ref.state, other.state, tol=1e-5) or _close(ref.state, other.state)


def _close(a, b):
    for f, names in a.items():
        for n, outs in names.items():
            for o, v in outs.items():
                if not vv.equal(v, vv.get_in(b, (f, n, o)) or {}, tol=1e-4):
                    return False
    return True


@pytest.mark.parametrize("kind", ["plane", "radial", "bump", "oscillation", "constant", "sum"])
def test_source_templates_are_valid(kind):
    from dmm_studio.fields import source_defaults

    validate_fields([entry(source=source_defaults(kind))])


def test_an_induced_template_names_a_placeholder_neuron():
    from dmm_studio.fields import source_defaults

    src = source_defaults("induced")
    assert src["neuron"] == "type/name"
    validate_fields([entry(source=src)])
    with pytest.raises(ValueError, match="unknown field source kind"):
        source_defaults("laser")


def test_the_schemas_source_defaults_are_the_ones_fields_evaluate_with():
    from dmm_studio.fields import _SOURCES
    from dmm_studio.schema import schema

    defs = schema()["$defs"]
    for kind, params in _SOURCES.items():
        props = defs[kind]["properties"]
        assert set(props) - {"kind"} == set(params), kind
        for key, default in params.items():
            if default is None:
                assert key in defs[kind]["required"], (kind, key)
            else:
                assert props[key]["default"] == default, (kind, key)
