"""Synthesis on tensor streams: images as matrices, matrix products (plain
and the softmax product of the talk), the unit generator sin(a*x + b),
normalise/squeeze, transpose and blend.

Tensors stay on the device of the input tensors: nothing here moves data
between devices, except the image source, which makes its image on the
device named by its param."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from dmm_studio import vvalue as vv
from dmm_studio.registry import neuron

from ._util import as_number, grad_kernel, map_leaves, number, number_or_tensor, scalar, tensor_of, torch

V = vv.VValue
P = Mapping[str, Any]
FAMILY = "synthesis"
IMAGES = Path(__file__).resolve().parent.parent / "resources" / "images"
PATTERNS = ("gradient", "checker", "rings", "file")


# ------------------------------------------------------------------ images


def read_png(path: Path) -> np.ndarray:
    """A PNG (any bit depth, palette, grey, RGB, with or without alpha) as a
    float32 array of shape (H, W) in [0, 1], colours averaged to grey (alpha
    dropped). Decoded by Pillow; runs nothing.

    Raises ValueError naming the file when it is not a PNG Pillow can decode
    (or is a decompression bomb, over Pillow's pixel limit)."""
    try:
        with Image.open(path, formats=["PNG"]) as img:
            img.load()
            mode = img.mode
            if mode in ("I;16", "I;16B", "I;16L", "I"):
                grey = np.asarray(img, dtype=np.float32) / 65535.0
                return np.clip(grey, 0.0, 1.0).astype(np.float32)
            if mode in ("1", "L", "LA", "La"):
                rgb = np.asarray(img.convert("L"), dtype=np.float32)[:, :, None]
            else:
                rgb = np.asarray(img.convert("RGB"), dtype=np.float32)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise ValueError(f"{path.name} is not a PNG file that can be read ({e})") from None
    return (rgb / 255.0).mean(axis=2).astype(np.float32)


def write_png(path: Path, image: np.ndarray) -> None:
    """Write a 2-D array in [0, 1] (values outside are clipped) as an 8-bit
    grey PNG (Pillow)."""
    a = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
    Image.fromarray(a, mode="L").save(path, format="PNG", optimize=True)


def pattern(kind: str, h: int, w: int, cells: float = 4.0) -> np.ndarray:
    """A procedural image in [0, 1]: gradient, checker or rings."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    if kind == "gradient":
        img = (x / max(w - 1, 1) + y / max(h - 1, 1)) / 2
    elif kind == "checker":
        img = ((np.floor(x * cells / w) + np.floor(y * cells / h)) % 2).astype(np.float64)
    elif kind == "rings":
        r = np.hypot(x - (w - 1) / 2, y - (h - 1) / 2) / (min(h, w) / 2)
        img = 0.5 + 0.5 * np.cos(2 * math.pi * cells * r)
    else:
        raise ValueError(f"param 'pattern' must be one of {', '.join(PATTERNS)}, not {kind!r}")
    return img.astype(np.float32)


def _image_path(name: str) -> Path:
    p = Path(name)
    if not p.is_absolute():
        p = IMAGES / p
    if p.suffix.lower() not in (".npy", ".png"):
        raise ValueError(f"image file {name!r} must be a .npy or .png file")
    if not p.is_file():
        raise ValueError(f"no image file {name!r} (looked at {p})")
    return p


@functools.lru_cache(maxsize=64)
def _load_image(path: str, mtime_ns: int) -> np.ndarray:
    p = Path(path)
    if p.suffix.lower() == ".npy":
        a = np.load(p, allow_pickle=False)
        if a.ndim == 3:
            a = a.mean(axis=2)
        if a.ndim != 2:
            raise ValueError(f"{p.name} holds an array of shape {list(a.shape)}, not an image")
        return a.astype(np.float32)
    return read_png(p)


@functools.lru_cache(maxsize=64)
def _image(kind: str, h: int, w: int, cells: float, file: str, device: str) -> Any:
    if kind == "file":
        p = _image_path(file)
        img = _load_image(str(p), p.stat().st_mtime_ns)
    else:
        img = pattern(kind, h, w, cells)
    return torch().from_numpy(np.ascontiguousarray(img)).to(device)


def _size(value: Any) -> tuple[int, int]:
    if isinstance(value, int) and value > 0:
        return value, value
    if isinstance(value, list) and len(value) == 2 and all(isinstance(n, int) and n > 0 for n in value):
        return value[0], value[1]
    raise ValueError(f"param 'size' must be n or [height, width], not {value!r}")


@neuron(
    "synth.image",
    inputs=["t"],
    outputs=["image"],
    params={"pattern": "rings", "size": [32, 32], "cells": 4.0, "file": "", "speed": 0.0, "device": "cpu"},
    family=FAMILY,
)
def image(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Image source: a float32 matrix in [0, 1]. pattern is "gradient",
    "checker" (cells squares a side), "rings" (cells rings) or "file" (the
    .npy or .png named by file, looked up in resources/images/ unless the
    path is absolute). size is [height, width] for the procedural ones.
    With speed != 0 the image scrolls by speed * t pixels (t: the input,
    from a clock), which animates it. device: where the tensor lives."""
    h, w = _size(p["size"])
    img = _image(str(p["pattern"]), h, w, as_number(p["cells"], "cells"), str(p["file"]), str(p["device"]))
    shift = int(round(as_number(p["speed"], "speed") * scalar(x["t"])))
    if shift:
        img = torch().roll(img, shifts=(shift, shift), dims=(0, 1))
    return {"image": {vv.TENSOR: img}}


# ------------------------------------------------------------------ products


def _matrix(v: V, name: str) -> Any:
    t = tensor_of(v)
    if t is None:
        return None
    if t.ndim != 2:
        raise ValueError(f"input {name!r} must be a matrix, not a tensor of shape {list(t.shape)}")
    return t


def _check_product(a: Any, b: Any) -> None:
    if a.shape[1] != b.shape[0]:
        raise ValueError(
            f"cannot multiply a {a.shape[0]}x{a.shape[1]} matrix by a {b.shape[0]}x{b.shape[1]} one"
        )


@neuron("synth.matmul", inputs=["left", "right"], outputs=["out"], family=FAMILY)
def matmul(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Matrix product: out = left @ right (2-D tensors; nothing comes out
    while either is missing)."""
    a, b = _matrix(x["left"], "left"), _matrix(x["right"], "right")
    if a is None or b is None:
        return {"out": {}}
    _check_product(a, b)
    return {"out": {vv.TENSOR: a @ b}}


@neuron(
    "synth.softmax_matmul",
    inputs=["left", "right"],
    outputs=["out"],
    params={"temperature": 1.0},
    family=FAMILY,
)
def softmax_matmul(x: Mapping[str, V], p: P) -> dict[str, V]:
    """The richer, more fine-grained product of the talk: softmax on the rows
    of left and on the columns of right, then the matrix product,
    out = softmax_rows(left / T) @ softmax_cols(right / T), T = temperature.
    Each entry is then an average of right's columns weighted by left's row:
    bounded, and sharper as T goes to 0."""
    a, b = _matrix(x["left"], "left"), _matrix(x["right"], "right")
    if a is None or b is None:
        return {"out": {}}
    _check_product(a, b)
    temp = as_number(p["temperature"], "temperature")
    if temp <= 0:
        raise ValueError(f"param 'temperature' must be > 0, not {temp}")
    th = torch()
    return {"out": {vv.TENSOR: th.softmax(a / temp, dim=1) @ th.softmax(b / temp, dim=0)}}


# ------------------------------------------------------------------ elementwise


def _coefficient(stream: V, base: float) -> Any:
    v = number_or_tensor(stream)
    return base + v


@neuron(
    "synth.sin",
    inputs=["x", "a", "b"],
    outputs=["y"],
    params={"a": 1.0, "b": 0.0},
    family=FAMILY,
    differentiable=grad_kernel("sin_unit"),
)
def sin_unit(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Unit generator, elementwise: y = sin(a * x + b) on every leaf of x
    (numbers and tensors). a = param a + the a input, b = param b + the b
    input, so each is a param, a stream, or both (set the param to 0 to
    drive it by the stream alone); a stream may be a scalar or a tensor of
    x's shape. Nothing on x reads as 0, so y = sin(b)."""
    a = _coefficient(x["a"], as_number(p["a"], "a"))
    b = _coefficient(x["b"], as_number(p["b"], "b"))
    th = torch() if vv.is_tensor(a) or vv.is_tensor(b) else None

    def on_number(v: float) -> Any:
        if th is not None:
            return th.sin(a * v + b)
        return math.sin(a * v + b)

    if not x["x"]:
        return {"y": vv.canon(on_number(0.0))}
    return {"y": map_leaves(x["x"], on_number, lambda t: torch().sin(a * t + b))}


@neuron(
    "synth.normalize",
    inputs=["in"],
    outputs=["out", "norm"],
    params={"limit": 1.0, "mode": "above"},
    family=FAMILY,
)
def normalize(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Normalise / squeeze: divide by the largest absolute element so that
    it becomes limit. mode "above" (squeeze) only divides when the largest
    absolute element is above limit, so values within [-limit, limit] pass
    unchanged; mode "always" always rescales. norm is the largest absolute
    element of the input (max_norm)."""
    limit = as_number(p["limit"], "limit")
    mode = p["mode"]
    if mode not in ("above", "always"):
        raise ValueError(f"param 'mode' must be 'above' or 'always', not {mode!r}")
    m = vv.max_norm(x["in"])
    out = x["in"]
    if m > 0 and (mode == "always" or m > limit):
        out = vv.scale(limit / m, out)
    return {"out": out, "norm": number(m)}


@neuron("synth.transpose", inputs=["in"], outputs=["out"], family=FAMILY)
def transpose(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Transpose every tensor leaf (its last two dimensions); numbers pass."""
    return {"out": map_leaves(x["in"], lambda v: v, lambda t: t.transpose(-1, -2) if t.ndim >= 2 else t)}


@neuron("synth.blend", inputs=["a", "b", "mix"], outputs=["out"], params={"mix": 0.5}, family=FAMILY,
    differentiable=grad_kernel("blend"),
)
def blend(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Blend: out = (1 - m) * a + m * b, with m = param mix + the scalar of
    the mix input (a cross-fade: m = 0 is a, m = 1 is b)."""
    m = as_number(p["mix"], "mix") + scalar(x["mix"])
    return {"out": vv.add(vv.scale(1 - m, x["a"]), vv.scale(m, x["b"]))}


TYPES = [image, matmul, softmax_matmul, sin_unit, normalize, transpose, blend]
