"""The neuron library: every type behaves as its doc says."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from dmm_studio_nodes import FAMILIES, neuron_types
from dmm_studio_nodes._util import label_token, token_label
from dmm_studio_nodes.data import from_items, list_items
from dmm_studio_nodes.synth import read_png, write_png

from dmm_studio import vvalue as vv
from dmm_studio.registry import default_registry

REG = default_registry()


def call(type_id, params=None, **inputs):
    return REG.get(type_id).call(inputs, params)


def num(v):
    return v.get(":number", 0)


# ------------------------------------------------------------------ registry


def test_every_type_is_documented_and_in_a_family():
    ids = [t.id for t in neuron_types()]
    assert len(ids) == len(set(ids))
    for t in neuron_types():
        assert len(t.doc) > 40, t.id
        assert t.family != "misc", t.id
    assert len(FAMILIES) == 7


def test_every_type_runs_on_empty_inputs():
    for t in neuron_types():
        if t.id in ("data.text_reader",):
            continue
        out = t.call({})
        assert isinstance(out, dict), t.id
        for o, v in out.items():
            assert t.has_output(o), (t.id, o)
            vv.canon(v)


# ------------------------------------------------------------------ arithmetic


def test_dot_of_sparse_vectors_and_tensors():
    assert num(call("arith.dot", left={"a": 2, "b": 3}, right={"b": 4, "c": 5})["out"]) == 12
    assert call("arith.dot", left={"a": 1}, right={"b": 1})["out"] == {}
    t = torch.tensor([1.0, 2.0])
    assert num(call("arith.dot", left={":tensor": t}, right={":tensor": t})["out"]) == 5.0
    assert num(call("arith.dot", left={"x": {"y": 2}}, right={"x": {"y": 3, "z": 1}})["out"]) == 6


def test_lincomb_and_sum():
    out = call("arith.lincomb", {"a": 2, "b": -1}, x={"p": 1}, y={"p": 1, "q": 3})["out"]
    assert out == {"p": 1, "q": -3}
    assert call("arith.sum", a={"x": 1}, b={"x": 2}, c={"y": 1})["out"] == {"x": 3, "y": 1}


def test_relu_and_tanh_leafwise():
    assert call("arith.relu", **{"in": {"a": -1, "b": 2, "c": {"d": -3}}})["out"] == {"b": 2}
    t = torch.tensor([-1.0, 0.5])
    assert torch.equal(
        call("arith.relu", **{"in": {":tensor": t}})["out"][":tensor"], torch.tensor([0.0, 0.5])
    )
    out = call("arith.tanh", {"gain": 2.0}, **{"in": {"a": 0.5}})["out"]
    assert out["a"] == pytest.approx(math.tanh(1.0))


@pytest.mark.parametrize(
    "g, expected", [(1, {"a": 2}), (0, {}), (0.5, {"a": 1}), (-1, {"a": -2}), (3, {"a": 6})]
)
def test_gate_turns_on_off_attenuates_amplifies_reverses(g, expected):
    assert call("arith.gate", **{"in": {"a": 2}, "gate": {":number": g} if g else {}})["out"] == expected


def test_gate_bias_and_switch():
    assert call("arith.gate", {"bias": 1.0}, **{"in": {"a": 2}})["out"] == {"a": 2}
    out = call("arith.switch", **{"in": {"a": 4}, "select": {":number": 0.25}})
    assert out == {"on": {"a": 1}, "off": {"a": 3}}


# ------------------------------------------------------------------ data


def test_cons_builds_a_list_head_first():
    lst = {}
    for item in ({"a": 1}, {}, {"b": 1}, {"c": 1}):
        out = call("data.cons", item=item, list=lst)
        lst = out["list"]
    assert list_items(lst) == [{"c": 1}, {"b": 1}, {"a": 1}]
    assert num(out["length"]) == 3
    assert lst == {"head": {"c": 1}, "tail": {"head": {"b": 1}, "tail": {"head": {"a": 1}}}}


def test_cons_keeps_at_most_max_length():
    lst = from_items([{"x": i} for i in range(1, 5)])
    out = call("data.cons", {"max_length": 3}, item={"x": 9}, list=lst)
    assert list_items(out["list"]) == [{"x": 9}, {"x": 1}, {"x": 2}]
    assert num(out["length"]) == 3


def test_uncons():
    out = call("data.uncons", list=from_items([{"a": 1}, {"b": 2}]))
    assert out == {"head": {"a": 1}, "tail": {"head": {"b": 2}}}


def test_word_count_normalises_and_accumulates():
    counts = {}
    for word in ("The", "cat", "the,", "CAT!", "sat"):
        out = call("data.word_count", words={word: 1}, counts=counts)
        counts = out["counts"]
    assert counts == {"the": 2, "cat": 2, "sat": 1}
    assert num(out["total"]) == 5
    out = call("data.word_count", {"lowercase": False, "strip": False}, words={"A": 2, "a.": 1}, counts={})
    assert out["counts"] == {"A": 2, "a.": 1}


def test_token_labels_escape_reserved_prefixes():
    for tok in (":", ":number", "\\x", "a"):
        label = token_label(tok)
        assert not label.startswith(":")
        assert label_token(label) == tok
        vv.canon({label: 1})


def test_text_reader_chars_words_end_and_loop():
    p = {"text": "ab:"}
    assert call("data.text_reader", p, t={})["token"] == {"a": 1}
    assert call("data.text_reader", p, t={":number": 2})["token"] == {"\\:": 1}
    past = call("data.text_reader", p, t={":number": 3})
    assert past["token"] == {} and num(past["done"]) == 1
    assert call("data.text_reader", {**p, "loop": True}, t={":number": 4})["token"] == {"b": 1}
    words = {"text": "to be  or", "mode": "words"}
    assert [call("data.text_reader", words, t={":number": i})["token"] for i in range(3)] == [
        {"to": 1},
        {"be": 1},
        {"or": 1},
    ]


def test_text_reader_reads_a_file_as_text(tmp_path):
    from dmm_studio.datafiles import file_access

    f = tmp_path / "in.txt"
    f.write_text("import os\n", encoding="utf-8")
    with file_access(tmp_path):  # the network's folder (Machine.step sets it)
        out = call("data.text_reader", {"path": "in.txt", "mode": "words"}, t={":number": 1})
        assert out["token"] == {"os": 1}
        with pytest.raises(ValueError, match="cannot read"):
            call("data.text_reader", {"path": "missing.txt"})


# ------------------------------------------------------------------ sources


def test_clock_counts_and_wraps():
    assert call("time.clock", tick={})["t"] == {":number": 1.0}
    assert call("time.clock", {"rate": 0.5}, tick={":number": 2})["t"] == {":number": 2.5}
    assert call("time.clock", {"period": 3.0}, tick={":number": 2})["t"] == {}


def test_constant_decodes_vvalues_and_tensors():
    assert call("time.constant", {"value": {"a": {"b": 2}}})["out"] == {"a": {"b": 2}}
    t = call("time.constant", {"value": {":tensor": {"shape": [2], "dtype": "float32", "data": [1, 2]}}})
    assert torch.equal(t["out"][":tensor"], torch.tensor([1.0, 2.0]))


def test_noise_is_deterministic_in_seed_and_step():
    a = call("time.noise", {"seed": 7}, t={":number": 5})["out"]
    assert a == call("time.noise", {"seed": 7}, t={":number": 5})["out"]
    assert a != call("time.noise", {"seed": 7}, t={":number": 6})["out"]
    assert a != call("time.noise", {"seed": 8}, t={":number": 5})["out"]
    assert abs(num(a)) <= 1
    img = call("time.noise", {"seed": 1, "shape": [4, 3], "dist": "normal", "scale": 0.1}, t={})["out"]
    assert img[":tensor"].shape == (4, 3) and img[":tensor"].dtype == torch.float32


# ------------------------------------------------------------------ synthesis


def test_image_patterns_and_files(tmp_path):
    for kind in ("gradient", "checker", "rings"):
        img = call("synth.image", {"pattern": kind, "size": [8, 12]})["image"][":tensor"]
        assert img.shape == (8, 12) and float(img.min()) >= 0 and float(img.max()) <= 1
        assert float(img.max() - img.min()) > 0.5
    checker = call("synth.image", {"pattern": "checker", "size": 4, "cells": 2})["image"][":tensor"]
    assert checker.tolist() == [[0, 0, 1, 1], [0, 0, 1, 1], [1, 1, 0, 0], [1, 1, 0, 0]]
    moved = call("synth.image", {"pattern": "checker", "size": 4, "cells": 2, "speed": 1.0}, t={":number": 2})
    assert torch.equal(moved["image"][":tensor"], torch.roll(checker, (2, 2), (0, 1)))
    a = np.linspace(0, 1, 20, dtype=np.float32).reshape(4, 5)
    write_png(tmp_path / "a.png", a)
    assert np.allclose(read_png(tmp_path / "a.png"), a, atol=1 / 255)
    np.save(tmp_path / "a.npy", a)
    for name in ("a.png", "a.npy"):
        img = call("synth.image", {"pattern": "file", "file": str(tmp_path / name)})["image"][":tensor"]
        assert np.allclose(img.numpy(), a, atol=1 / 255)
    with pytest.raises(ValueError, match="no image file"):
        call("synth.image", {"pattern": "file", "file": "nothing-here.npy"})


def test_png_reading_covers_colour_palette_16_bit_and_refuses_junk(tmp_path):
    from PIL import Image

    rgb = np.zeros((3, 4, 3), dtype=np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 255, 30, 0  # grey = mean of R, G, B
    Image.fromarray(rgb, mode="RGB").save(tmp_path / "rgb.png")
    assert np.allclose(read_png(tmp_path / "rgb.png"), 95 / 255, atol=1e-6)
    rgba = np.dstack([rgb, np.full((3, 4), 7, np.uint8)])  # alpha is dropped
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "rgba.png")
    assert np.allclose(read_png(tmp_path / "rgba.png"), 95 / 255, atol=1e-6)
    Image.fromarray(rgb, mode="RGB").convert("P").save(tmp_path / "pal.png")
    assert read_png(tmp_path / "pal.png").shape == (3, 4)
    Image.fromarray(np.full((2, 2), 65535, np.uint16)).save(tmp_path / "deep.png")
    assert np.allclose(read_png(tmp_path / "deep.png"), 1.0)
    Image.fromarray(np.full((2, 2), 9, np.uint8)).save(tmp_path / "interlaced.png", interlace=1)
    assert np.allclose(read_png(tmp_path / "interlaced.png"), 9 / 255)
    (tmp_path / "junk.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(ValueError, match="junk.png"):
        read_png(tmp_path / "junk.png")


def test_shipped_sample_images_load():
    from dmm_studio_nodes.synth import IMAGES

    files = sorted(IMAGES.glob("*.npy")) + sorted(IMAGES.glob("*.png"))
    assert len(files) >= 2
    for f in files:
        img = call("synth.image", {"pattern": "file", "file": f.name})["image"][":tensor"]
        assert img.ndim == 2 and 16 <= img.shape[0] <= 64


def test_matmul_and_shape_errors():
    a, b = torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0], [4.0]])
    assert call("synth.matmul", left={":tensor": a}, right={":tensor": b})["out"][":tensor"].item() == 11
    assert call("synth.matmul", left={":tensor": a})["out"] == {}
    with pytest.raises(ValueError, match="cannot multiply"):
        call("synth.matmul", left={":tensor": a}, right={":tensor": a})


def test_softmax_product_rows_and_columns():
    a, b = torch.randn(5, 4, generator=torch.Generator().manual_seed(0)), torch.randn(4, 3)
    out = call("synth.softmax_matmul", {"temperature": 0.5}, left={":tensor": a}, right={":tensor": b})
    expected = torch.softmax(a / 0.5, dim=1) @ torch.softmax(b / 0.5, dim=0)
    assert torch.allclose(out["out"][":tensor"], expected)
    # each entry is an average of right's softmaxed column entries: within [0, 1]
    assert float(out["out"][":tensor"].min()) >= 0 and float(out["out"][":tensor"].max()) <= 1
    with pytest.raises(ValueError, match="temperature"):
        call("synth.softmax_matmul", {"temperature": 0}, left={":tensor": a}, right={":tensor": b})


def test_sin_with_params_and_streams():
    x = torch.linspace(0, 1, 5)
    y = call("synth.sin", {"a": 2.0, "b": 0.5}, x={":tensor": x})["y"][":tensor"]
    assert torch.allclose(y, torch.sin(2 * x + 0.5))
    y = call("synth.sin", {"a": 0.0}, x={":tensor": x}, a={":number": 3}, b={":number": 1})["y"][":tensor"]
    assert torch.allclose(y, torch.sin(3 * x + 1))
    a = torch.full((5,), 2.0)
    y = call("synth.sin", {"a": 0.0}, x={":tensor": x}, a={":tensor": a})["y"][":tensor"]
    assert torch.allclose(y, torch.sin(2 * x))
    assert call("synth.sin", {"b": 0.5}, x={"p": 1.0})["y"]["p"] == pytest.approx(math.sin(1.5))
    assert call("synth.sin", {"b": 0.5})["y"] == {":number": pytest.approx(math.sin(0.5))}


def test_normalize_squeezes_only_above_the_limit():
    out = call("synth.normalize", **{"in": {"a": 4, "b": -2}})
    assert out["out"] == {"a": 1.0, "b": -0.5} and num(out["norm"]) == 4
    assert call("synth.normalize", **{"in": {"a": 0.5}})["out"] == {"a": 0.5}
    assert call("synth.normalize", {"mode": "always"}, **{"in": {"a": 0.5}})["out"] == {"a": 1.0}
    t = torch.tensor([[2.0, -8.0]])
    assert torch.equal(call("synth.normalize", **{"in": {":tensor": t}})["out"][":tensor"], t / 8)
    assert call("synth.normalize", **{"in": {}})["out"] == {}


def test_transpose_and_blend():
    t = torch.arange(6.0).reshape(2, 3)
    assert torch.equal(call("synth.transpose", **{"in": {":tensor": t}})["out"][":tensor"], t.T)
    out = call("synth.blend", {"mix": 0.25}, a={"x": 4}, b={"x": 8, "y": 4})["out"]
    assert out == {"x": 5.0, "y": 1.0}
    assert call("synth.blend", {"mix": 0.0}, a={"x": 4}, b={"y": 1}, mix={":number": 1})["out"] == {"y": 1}


# ------------------------------------------------------------------ self helpers

FRAGMENT = {"accum": {"c": {"delta": {"identity": {"one": {"single": 1}}}}}}


def test_patch_fires_once_or_periodically():
    p = {"fragment": FRAGMENT, "at": 3}
    fired = [t for t in range(10) if call("matrix.patch", p, t={":number": t} if t else {})["delta"]]
    assert fired == [3]
    p = {"fragment": FRAGMENT, "at": 2, "period": 3, "scale": -2.0}
    fired = [t for t in range(10) if call("matrix.patch", p, t={":number": t})["delta"]]
    assert fired == [2, 5, 8]
    assert call("matrix.patch", p, t={":number": 5})["delta"] == vv.scale(-2, FRAGMENT)


def test_summary_reads_a_matrix():
    w = {
        "self": {"self": {"accum": {"self": {"self": {"network_matrix": 1}}}}},
        "accum": {
            "c": {"delta": {"identity": {"one": {"single": -3}}}, "accum": {"accum": {"c": {"single": 1}}}}
        },
    }
    out = call("matrix.summary", {"row": "accum/c/delta"}, matrix=w)
    assert num(out["size"]) == 3 and num(out["neurons"]) == 3 and num(out["max_norm"]) == 3
    assert out["row"] == {"identity": {"one": {"single": -3}}}
    assert call("matrix.summary", {"row": "accum/x/delta"}, matrix=w)["row"] == {}
    with pytest.raises(ValueError, match="type/name/input"):
        call("matrix.summary", {"row": "accum"}, matrix=w)
