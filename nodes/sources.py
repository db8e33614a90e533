"""Time and sources: a clock, constants, and seeded noise.

Neuron functions are pure, so time is a stream: a clock is a neuron whose
output is wired back to its own input, and neurons that need time (noise,
text readers, patches, animations) read the clock's output."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from dmm_studio import vvalue as vv
from dmm_studio.registry import neuron

from ._util import as_number, grad_kernel, number, scalar, torch, vvalue_param

V = vv.VValue
P = Mapping[str, Any]
FAMILY = "sources"


@neuron("time.clock", inputs=["tick"], outputs=["t"], params={"rate": 1.0, "period": 0.0}, family=FAMILY,
    differentiable=grad_kernel("clock"),
)
def clock(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Clock: t = tick + rate. Wire t back to tick with weight 1: starting
    from nothing, t is rate, 2*rate, ... after steps 1, 2, ... With period > 0
    it counts modulo period (a sawtooth)."""
    t = scalar(x["tick"]) + as_number(p["rate"], "rate")
    period = as_number(p["period"], "period")
    if period > 0:
        t = t % period
    return {"t": number(t)}


@neuron("time.constant", inputs=[], outputs=["out"], params={"value": 1}, family=FAMILY,
    differentiable=grad_kernel("constant"),
)
def constant(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Constant: out = the param value, any V-value written as JSON (a
    number, a nested object, a tensor {":tensor": {...}}). It needs no
    feedback wire; it is active while something reads it."""
    return {"out": vvalue_param(p["value"], "value")}


def _seed_sequence(seed: Any, t: float) -> np.random.SeedSequence:
    step = int(round(t))
    return np.random.SeedSequence([int(seed) & 0xFFFFFFFF, step & 0xFFFFFFFF, (step >> 32) & 0xFFFFFFFF])


@neuron(
    "time.noise",
    inputs=["t"],
    outputs=["out"],
    params={"seed": 0, "scale": 1.0, "shape": [], "dist": "uniform"},
    family=FAMILY,
)
def noise(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Seeded noise, deterministic given seed and step: out is a function of
    (seed, t) only, where t is the input (wire a clock). dist "uniform"
    draws from [-scale, scale], "normal" from N(0, scale^2). shape [] gives a
    scalar, [h, w] a float32 tensor."""
    shape = p["shape"]
    if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ValueError(f"param 'shape' must be a list of sizes, not {shape!r}")
    scale = as_number(p["scale"], "scale")
    rng = np.random.default_rng(_seed_sequence(as_number(p["seed"], "seed"), scalar(x["t"])))
    dist = p["dist"]
    if dist == "uniform":
        values = rng.uniform(-1.0, 1.0, size=shape or None)
    elif dist == "normal":
        values = rng.standard_normal(size=shape or None)
    else:
        raise ValueError(f"param 'dist' must be 'uniform' or 'normal', not {dist!r}")
    if not shape:
        return {"out": number(float(values) * scale)}
    return {"out": {vv.TENSOR: torch().from_numpy((values * scale).astype(np.float32))}}


TYPES = [clock, constant, noise]
