"""The differentiable run without gradients is the ordinary run: traces equal
the reference engine's on random networks of every differentiable built-in
type, with and without modulating fields."""

from __future__ import annotations

import math

import pytest
import torch

from dmm_studio.learn.run import DiffError, DiffNet
from dmm_studio.network import Network
from tests.learn.nets import TYPES, random_network

STEPS = 6


def flat(state: dict) -> dict:
    out = {}
    for f, ns in state.items():
        if f == "self":
            continue
        for n, outs in ns.items():
            for o, v in outs.items():
                for k, x in (v.items() if isinstance(v, dict) else [(":number", v)]):
                    out[(f, n, o, k)] = x
    return out


def assert_same_trace(net: Network, steps: int = STEPS) -> DiffNet:
    d = DiffNet(net)
    m = net.machine(engine="reference")
    with torch.no_grad():
        for t, y in d.run(steps):
            m.step()
            ref, got = flat(m.state), flat(d.state(y))
            assert set(ref) == {k for k, x in got.items() if x != 0} | (set(ref) - set(got)), t
            for key in set(ref) | set(got):
                assert math.isclose(ref.get(key, 0.0), got.get(key, 0.0), rel_tol=1e-9, abs_tol=1e-12), (
                    t,
                    key,
                )
    return d


@pytest.mark.parametrize("seed", range(24))
def test_random_networks_match_the_reference(seed: int) -> None:
    assert_same_trace(random_network(seed))


@pytest.mark.parametrize("kind", sorted(TYPES))
def test_each_type_matches_the_reference(kind: str) -> None:
    for seed in range(3):
        assert_same_trace(random_network(100 + seed, types=[kind], n=3, wires=8))


FIELDS = [
    {"name": "p", "source": {"kind": "plane", "direction": [1, 0.5], "wavelength": 300, "speed": 20},
     "strength": 0.5, "targets": ["param:a", "outputs"]},
    {"name": "r", "source": {"kind": "radial", "center": [50, 0], "wavelength": 250, "decay": 400},
     "strength": 0.3, "targets": ["inputs"]},
    {"name": "b", "source": {"kind": "bump", "center": [0, 0], "width": 150, "velocity": [5, 0]},
     "strength": -0.4, "targets": ["param:gain", "param:bias"]},
    {"name": "o", "source": {"kind": "sum", "of": [{"kind": "oscillation", "frequency": 0.1},
                                                  {"kind": "constant", "value": 0.2}]},
     "strength": 0.2, "targets": ["weights"], "covers": {"types": ["accum", "arith.dot"]}},
    {"name": "i", "source": {"kind": "induced", "neuron": "identity/k0", "output": "single", "width": 200},
     "strength": 0.5, "targets": ["outputs"]},
]  # fmt: skip


@pytest.mark.parametrize("seed", range(8))
def test_fields_match_the_reference(seed: int) -> None:
    net = random_network(seed)
    for k, (f, n) in enumerate(sorted({(f, n) for f, ns in net.outputs.items() for n in ns})):
        net.set_pos(f, n, (60.0 * k - 200, 40.0 * (k % 3)))
    for f, ns in net.matrix.items():
        for k, n in enumerate(ns):
            net.set_pos(f, n, (-150.0 + 70 * k, 30.0 * len(f)))
    net.fields = FIELDS
    d = assert_same_trace(net)
    assert d.fields is not None and len(d.fields.entries) >= 3


def test_what_it_cannot_hold_is_refused_in_one_line() -> None:
    net = Network.empty()
    net.set_weight(("self", "self", "delta"), ("identity", "a", "single"), 1.0)
    with pytest.raises(DiffError, match="holds W fixed"):
        DiffNet(net)
    net = Network.empty()
    net.set_weight(("data.cons", "c", "item"), ("identity", "a", "single"), 1.0)
    with pytest.raises(DiffError, match="'data.cons' has no differentiable kernel"):
        DiffNet(net)
    net = Network.empty()
    net.set_weight(("identity", "b", "single"), ("identity", "a", "single"), 1.0)
    net.set_output("identity", "a", "single", {"x": {"y": 1}})
    with pytest.raises(DiffError, match="one level of labels"):
        DiffNet(net)


@pytest.mark.parametrize("seed", range(4))
def test_the_sparse_down_movement_is_the_dense_one(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import dmm_studio.learn.run as run

    monkeypatch.setattr(run, "DENSE_CELLS", 0)
    assert_same_trace(random_network(seed, wires=10))
