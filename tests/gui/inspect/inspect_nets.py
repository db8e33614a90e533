"""Small networks for the inspector tests (no files needed)."""

from __future__ import annotations

import math

import torch
from dmm_studio_nodes import core

from dmm_studio import Network
from dmm_studio.network import self_accum_row
from dmm_studio.registry import Registry, neuron, self_neuron
from dmm_studio.vvalue import add


@neuron("test.frame", inputs=["tick"], outputs=["image", "cube", "words", "mixed"], family="test")
def frame(x, p):
    """A 2-D image, a 3-D tensor, a word-count vector and a mixed value, all depending on the tick."""
    t = float(x["tick"].get(":number", 0)) if x["tick"] else 0.0
    yy, xx = torch.meshgrid(torch.arange(24.0), torch.arange(32.0), indexing="ij")
    image = torch.sin(xx / 4 + t) * torch.cos(yy / 5)
    words = {
        w: 1 + ((i * 7 + int(t)) % 11)
        for i, w in enumerate(
            [
                "alpha",
                "beta",
                "gamma",
                "delta",
                "epsilon",
                "zeta",
                "eta",
                "theta",
                "iota",
                "kappa",
                "lambda",
                "mu",
                "nu",
                "xi",
                "omicron",
                "pi",
                "rho",
                "sigma",
                "tau",
                "upsilon",
                "phi",
                "chi",
                "psi",
                "omega",
            ]
        )
    }
    return {
        "image": {":tensor": image},
        "cube": {":tensor": torch.arange(24.0).reshape(4, 3, 2) * (t + 1)},
        "words": words,
        "mixed": {"count": t, "img": torch.ones(2, 2) * t, "sub": {"a": 1, "b": -2}},
    }


def registry() -> Registry:
    return Registry([self_neuron, *core.TYPES, frame])


def counter_with_frames() -> Network:
    """accum/count counts steps; test.frame/f reads it as its tick."""
    w = add(
        self_accum_row(),
        {"identity": {"one": {"single": {"identity": {"one": {"single": 1}}}}}},
        {
            "accum": {
                "count": {
                    "accum": {"accum": {"count": {"single": 1}}},
                    "delta": {"identity": {"one": {"single": 1}}},
                }
            }
        },
        {"test.frame": {"f": {"tick": {"accum": {"count": {"single": 1}}}}}},
    )
    return Network(outputs={"self": {"self": {"network_matrix": w}}, "identity": {"one": {"single": 1}}})


def nan_network() -> Network:
    """accum/x gets 1e200 * 1e200 = inf at step 1 (then NaN): the break names accum/x."""
    w = add(
        self_accum_row(),
        {"identity": {"big": {"single": {"identity": {"big": {"single": 1}}}}}},
        {"accum": {"x": {"delta": {"identity": {"big": {"single": 1e200}}}}}},
        {"accum": {"x": {"accum": {"accum": {"x": {"single": 1}}}}}},
        {"accum": {"y": {"delta": {"identity": {"big": {"single": 1}}}}}},
    )
    return Network(
        outputs={"self": {"self": {"network_matrix": w}}, "identity": {"big": {"single": {"v": 1e200}}}}
    )


def slow_nan_network(after: int) -> Network:
    """accum/x doubles from 1 until it overflows to inf (after ~1024 steps): set
    the start so that it happens after ``after`` steps."""
    start = 2.0 ** (1024 - after)
    w = add(
        self_accum_row(),
        {
            "accum": {
                "x": {"accum": {"accum": {"x": {"single": 1}}}, "delta": {"accum": {"x": {"single": 1}}}}
            }
        },
    )
    assert math.isfinite(start)
    return Network(outputs={"self": {"self": {"network_matrix": w}}, "accum": {"x": {"single": start}}})
