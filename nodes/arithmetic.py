"""Arithmetic and gating: dot product, linear combination, sum, relu, tanh,
and gates that multiply a stream by a scalar input (turn parts of a network
on and off, attenuate, amplify, reverse).

Every function here works leaf by leaf on whole V-values, so the same neuron
serves scalars, sparse vectors, and tensor streams (tensors stay on their
device)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from dmm_studio import vvalue as vv
from dmm_studio.registry import neuron

from ._util import as_number, dot, grad_kernel, map_leaves, number, scalar, torch

V = vv.VValue
P = Mapping[str, Any]
FAMILY = "arithmetic"


@neuron("arith.dot", inputs=["left", "right"], outputs=["out"], family=FAMILY, differentiable=grad_kernel("dot"))
def dot_product(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Dot product: out = the sum over the paths that left and right share of
    the products of their leaves (tensor leaves: the sum of the elementwise
    product), as a scalar. Two one-hot vectors give 1 when they are the same
    token and 0 otherwise, which makes this an equality detector."""
    return {"out": number(dot(x["left"], x["right"]))}


@neuron(
    "arith.lincomb",
    inputs=["x", "y"],
    outputs=["out"],
    params={"a": 1.0, "b": 1.0},
    family=FAMILY,
    differentiable=grad_kernel("lincomb"),
)
def lincomb(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Linear combination with coefficients as params: out = a*x + b*y.
    The coefficients are numeric params, so a modulating field can act on
    them (targets "param:a", "param:b")."""
    a, b = as_number(p["a"], "a"), as_number(p["b"], "b")
    return {"out": vv.add(vv.scale(a, x["x"]), vv.scale(b, x["y"]))}


@neuron("arith.sum", inputs=[], outputs=["out"], variadic_inputs=True, family=FAMILY,
    differentiable=grad_kernel("sum_"),
)
def sum_(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Sum of every input that reaches it (inputs may have any names):
    out = sum of the inputs."""
    return {"out": vv.add(*x.values())}


@neuron("arith.relu", inputs=["in"], outputs=["out"], family=FAMILY, differentiable=grad_kernel("relu"))
def relu(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Rectifier, leaf by leaf: out = max(0, in)."""
    return {"out": map_leaves(x["in"], lambda v: v if v > 0 else 0, lambda t: torch().relu(t))}


@neuron("arith.tanh", inputs=["in"], outputs=["out"], params={"gain": 1.0}, family=FAMILY,
    differentiable=grad_kernel("tanh"),
)
def tanh(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Hyperbolic tangent, leaf by leaf: out = tanh(gain * in). Bounded in
    (-1, 1), the classic activation of a recurrent net."""
    g = as_number(p["gain"], "gain")
    return {"out": map_leaves(x["in"], lambda v: math.tanh(g * v), lambda t: torch().tanh(g * t))}


@neuron("arith.gate", inputs=["in", "gate"], outputs=["out"], params={"bias": 0.0}, family=FAMILY,
    differentiable=grad_kernel("gate"),
)
def gate(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Gate: out = (bias + gate) * in, where gate is the scalar part of the
    gate input. Gate 1 passes the stream, 0 turns it off, 0.5 attenuates,
    2 amplifies, -1 reverses. With nothing on gate, out = bias * in."""
    g = as_number(p["bias"], "bias") + scalar(x["gate"])
    return {"out": vv.scale(g, x["in"])}


@neuron(
    "arith.switch",
    inputs=["in", "select"],
    outputs=["on", "off"],
    family=FAMILY,
    differentiable=grad_kernel("switch"),
)
def switch(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Fuzzy if-then-else: on = s * in, off = (1 - s) * in, where s is the
    scalar part of select. s = 1 routes the stream to on, s = 0 to off, and a
    value in between splits it."""
    s = scalar(x["select"])
    return {"on": vv.scale(s, x["in"]), "off": vv.scale(1 - s, x["in"])}


TYPES = [dot_product, lincomb, sum_, relu, tanh, gate, switch]
