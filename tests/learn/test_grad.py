"""Gradients of the differentiable run against finite differences
(torch.autograd.gradcheck, float64) for every differentiable built-in type
and for the fields' numbers; the straight-through step of less_or_equal."""

from __future__ import annotations

import pytest
import torch
from torch.func import functional_call

from dmm_studio.learn.run import DiffNet
from dmm_studio.network import Network
from dmm_studio.registry import default_registry
from tests.learn.nets import TYPES, random_network

STEPS = 3


def differentiable_types() -> list[str]:
    return sorted(t for t in default_registry().ids() if default_registry().get(t).differentiable is not None)


def test_every_differentiable_builtin_is_checked() -> None:
    assert set(differentiable_types()) <= set(TYPES) | {"time.constant"}


def check(model: DiffNet, names: list[str], steps: int = STEPS) -> None:
    params = dict(model.named_parameters())
    base = {k: v.detach().clone() for k, v in params.items()}
    inputs = tuple(base[k].clone().requires_grad_(True) for k in names)

    def f(*xs: torch.Tensor) -> torch.Tensor:
        return functional_call(model, {**base, **dict(zip(names, xs, strict=True))}, (steps,))

    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("kind", sorted(TYPES))
def test_gradcheck_per_type(kind: str) -> None:
    net = random_network(7, types=[kind], n=3, wires=9)
    reg = default_registry()
    numeric = {
        (f, n): [p for p, d in reg.get(f).params.items() if isinstance(d, float)]
        for f, ns in net.matrix.items() if f != "self" for n in ns
    }  # fmt: skip
    model = DiffNet(net, train_params={k: v for k, v in numeric.items() if v}, surrogate="sigmoid", temperature=0.5)
    names = [k for k, _ in model.named_parameters()]
    assert "w" in names
    check(model, names)


def test_gradcheck_constant_value() -> None:
    net = Network.empty()
    net.set_weight(("accum", "a", "accum"), ("time.constant", "c", "out"), 0.7)
    net.set_weight(("accum", "a", "delta"), ("accum", "a", "single"), 0.5)
    net.set_param("time.constant", "c", "value", 1.3)
    model = DiffNet(net, train_params={("time.constant", "c"): ["value"]})
    check(model, [k for k, _ in model.named_parameters()])


def test_gradcheck_fields() -> None:
    net = random_network(3, types=["synth.sin", "arith.tanh", "accum", "arith.gate"], n=5, wires=12)
    for k, (f, n) in enumerate(sorted({(f, n) for f, ns in net.matrix.items() if f != "self" for n in ns})):
        net.set_pos(f, n, (80.0 * k - 250, 30.0 * (k % 4)))
    net.fields = [
        {"name": "p", "source": {"kind": "plane", "direction": [1, 0.4], "wavelength": 300, "speed": 20,
                                 "phase": 0.3},
         "strength": 0.5, "targets": ["param:a", "outputs"]},
        {"name": "r", "source": {"kind": "radial", "center": [40, 10], "wavelength": 250, "speed": 5},
         "strength": 0.3, "targets": ["inputs"]},
        {"name": "b", "source": {"kind": "bump", "center": [10, 0], "width": 150, "velocity": [5, 1]},
         "strength": -0.4, "targets": ["param:gain"]},
    ]  # fmt: skip
    train = {
        "p": ["strength", "source.wavelength", "source.speed", "source.phase", "source.direction"],
        "r": ["strength", "source.center", "source.wavelength", "source.speed"],
        "b": ["strength", "source.center", "source.width", "source.velocity"],
    }
    model = DiffNet(net, train_fields=train)
    names = [k for k, _ in model.named_parameters() if k.startswith("fields.")]
    assert len(names) == 13
    check(model, names, steps=2)


def test_straight_through_step() -> None:
    """Forward: the exact step (as the engines); backward: the sigmoid's gradient."""
    net = Network.empty()
    net.set_weight(("identity", "k", "single"), ("identity", "k", "single"), 1.0)
    net.set_output("identity", "k", "single", 1.0)
    net.set_weight(("less_or_equal", "le", "left"), ("identity", "k", "single"), 0.95)
    for surrogate in ("straight_through", "sigmoid"):
        model = DiffNet(net, surrogate=surrogate, temperature=0.1)
        y = model(1)[0, 0]
        true = y[model.col_index[("less_or_equal", "le", "true")], 0]
        # right (nothing) - left (0.95) < 0: false
        assert (float(true.detach()) == 0.0) == (surrogate == "straight_through")
        true.backward()
        s = torch.sigmoid(torch.tensor(-0.95 / 0.1, dtype=torch.float64))
        k = model.entries.index((("less_or_equal", "le", "left"), ("identity", "k", "single")))
        assert torch.isclose(model.w.grad[k], -s * (1 - s) / 0.1)
