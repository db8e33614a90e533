"""Tensor neurons compute on the device of their input tensors.

torch's "meta" device (shapes without data) stands in for a second device on
machines without a GPU; with CUDA the same checks run on the GPU.
"""

from __future__ import annotations

import pytest
import torch

from dmm_studio.registry import default_registry

REG = default_registry()


def call(type_id, params=None, **inputs):
    return REG.get(type_id).call(inputs, params)


def T(x):
    return {":tensor": x}


CASES = [
    (
        "synth.sin",
        {"a": 2.0},
        lambda d: {"x": T(torch.ones(3, 4, device=d)), "b": T(torch.ones(3, 4, device=d))},
        "y",
    ),
    (
        "synth.matmul",
        None,
        lambda d: {"left": T(torch.ones(3, 4, device=d)), "right": T(torch.ones(4, 2, device=d))},
        "out",
    ),
    (
        "synth.softmax_matmul",
        {"temperature": 0.5},
        lambda d: {"left": T(torch.ones(3, 4, device=d)), "right": T(torch.ones(4, 2, device=d))},
        "out",
    ),
    ("synth.transpose", None, lambda d: {"in": T(torch.ones(3, 4, device=d))}, "out"),
    (
        "synth.blend",
        None,
        lambda d: {"a": T(torch.ones(3, device=d)), "b": T(torch.zeros(3, device=d))},
        "out",
    ),
    ("arith.relu", None, lambda d: {"in": T(torch.ones(3, device=d))}, "out"),
    ("arith.tanh", None, lambda d: {"in": T(torch.ones(3, device=d))}, "out"),
    ("arith.gate", {"bias": 2.0}, lambda d: {"in": T(torch.ones(3, device=d))}, "out"),
]


@pytest.mark.parametrize("type_id, params, inputs, output", CASES, ids=[c[0] for c in CASES])
def test_outputs_stay_on_the_inputs_device(type_id, params, inputs, output):
    out = call(type_id, params, **inputs("meta"))[output][":tensor"]
    assert out.device.type == "meta"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
@pytest.mark.parametrize("type_id, params, inputs, output", CASES, ids=[c[0] for c in CASES])
def test_outputs_stay_on_the_gpu(type_id, params, inputs, output):
    out = call(type_id, params, **inputs("cuda"))[output][":tensor"]
    assert out.device.type == "cuda"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_image_source_and_squeeze_on_the_gpu():
    img = call("synth.image", {"pattern": "rings", "size": 16, "device": "cuda"})["image"][":tensor"]
    assert img.device.type == "cuda"
    out = call("synth.normalize", {"mode": "always"}, **{"in": T(img * 3)})["out"][":tensor"]
    assert out.device.type == "cuda" and float(out.abs().max()) == pytest.approx(1.0)
