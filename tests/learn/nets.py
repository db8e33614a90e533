"""Small random networks of differentiable built-in types (for tests/learn)."""

from __future__ import annotations

import random

from dmm_studio.network import Network

# type -> (inputs, outputs)
TYPES = {
    "identity": (["single"], ["single"]),
    "accum": (["accum", "delta"], ["single"]),
    "max_norm": (["in"], ["norm"]),
    "less_or_equal": (["left", "right"], ["true", "false"]),
    "mult_mask": (["mask", "main"], ["single"]),
    "arith.dot": (["left", "right"], ["out"]),
    "arith.lincomb": (["x", "y"], ["out"]),
    "arith.relu": (["in"], ["out"]),
    "arith.tanh": (["in"], ["out"]),
    "arith.gate": (["in", "gate"], ["out"]),
    "arith.switch": (["in", "select"], ["on", "off"]),
    "arith.sum": (["p", "q"], ["out"]),
    "time.clock": (["tick"], ["t"]),
    "synth.sin": (["x", "a", "b"], ["y"]),
    "synth.blend": (["a", "b", "mix"], ["out"]),
}
LABELS = ["a", "b", "c"]


def value(rng: random.Random, vector: bool = True) -> object:
    if not vector or rng.random() < 0.4:
        return round(rng.uniform(-1.5, 1.5), 3)
    return {k: round(rng.uniform(-1.5, 1.5), 3) for k in rng.sample(LABELS, rng.randint(1, 3))}


def random_network(seed: int, types: list[str] | None = None, n: int = 7, wires: int = 16) -> Network:
    """A random network of ``n`` neurons of ``types`` (plus two identity
    constants holding vectors), random wires and initial outputs."""
    rng = random.Random(seed)
    types = types or list(TYPES)
    net = Network.empty()
    neurons = [("identity", "k0"), ("identity", "k1")]
    neurons += [(rng.choice(types), f"n{i}") for i in range(n)]
    for f, nm in neurons[:2]:
        net.set_weight((f, nm, "single"), (f, nm, "single"), 1.0)
        net.set_output(f, nm, "single", value(rng))
    outs = [(f, nm, o) for f, nm in neurons for o in TYPES[f][1]]
    ins = [(f, nm, i) for f, nm in neurons[2:] for i in TYPES[f][0]]
    for _ in range(wires):
        net.set_weight(rng.choice(ins), rng.choice(outs), round(rng.uniform(-1, 1), 3))
    for f, nm in neurons[2:]:
        if rng.random() < 0.5:
            net.set_output(f, nm, TYPES[f][1][0], value(rng))
        if f == "synth.sin":
            net.set_param(f, nm, "a", round(rng.uniform(0.2, 2), 3))
            net.set_param(f, nm, "b", round(rng.uniform(-1, 1), 3))
        if f == "arith.tanh":
            net.set_param(f, nm, "gain", round(rng.uniform(0.2, 2), 3))
        if f == "arith.gate":
            net.set_param(f, nm, "bias", round(rng.uniform(-1, 1), 3))
    return net
