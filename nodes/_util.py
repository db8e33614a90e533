"""Small helpers shared by the library's neuron families (not neuron types).

They work on canonical V-values (see ``dmm_studio.vvalue``) and never mutate
their arguments. torch is imported lazily, so that loading the registry does
not pay for it until a tensor neuron runs.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

from dmm_studio import vvalue as vv

NUMBER = vv.NUMBER
TENSOR = vv.TENSOR


def torch() -> Any:
    """The torch module (imported on first use)."""
    mod = sys.modules.get("torch")
    if mod is None:
        import torch as mod
    return mod


def scalar(v: Any) -> float:
    """The scalar part of a V-value (its ``":number"``), 0 when absent."""
    if isinstance(v, dict):
        x = v.get(NUMBER, 0)
        return x if vv.is_number(x) else 0
    return v if vv.is_number(v) else 0


def tensor_of(v: Any) -> Any:
    """The tensor at the top of a V-value, or None."""
    if isinstance(v, dict):
        return v.get(TENSOR)
    return v if vv.is_tensor(v) else None


def number_or_tensor(v: Any) -> Any:
    """The top leaf of a V-value: its tensor when it has one, else its scalar."""
    t = tensor_of(v)
    return t if t is not None else scalar(v)


def map_leaves(v: Any, on_number: Callable[[float], Any], on_tensor: Callable[[Any], Any]) -> vv.VValue:
    """Apply a function to every leaf of a V-value (numbers and tensors)."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(x) for k, x in node.items()}
        if vv.is_tensor(node):
            return on_tensor(node)
        return on_number(node)

    return vv.canon(walk(vv.canon(v)))


def dot(a: Any, b: Any) -> float:
    """The dot product of two V-values: the sum over their common leaves of
    the products (tensor leaves: the sum of the elementwise product)."""

    def walk(x: Any, y: Any) -> float:
        if isinstance(x, dict) or isinstance(y, dict):
            if not isinstance(x, dict):
                x = {TENSOR: x} if vv.is_tensor(x) else {NUMBER: x}
            if not isinstance(y, dict):
                y = {TENSOR: y} if vv.is_tensor(y) else {NUMBER: y}
            return sum(walk(x[k], y[k]) for k in x.keys() & y.keys())
        if vv.is_tensor(x) or vv.is_tensor(y):
            return float((x * y).sum())
        return x * y

    return walk(vv.canon(a), vv.canon(b))


def as_number(value: Any, name: str) -> float:
    if not vv.is_number(value):
        raise ValueError(f"param {name!r} must be a number, not {value!r}")
    return float(value)


@functools.lru_cache(maxsize=256)
def _vvalue_from_text(text: str) -> vv.VValue:
    return vv.from_json(json.loads(text))


def vvalue_param(value: Any, name: str) -> vv.VValue:
    """A V-value param given as JSON (numbers, objects, tensors as in SPEC §1),
    decoded once and cached. The result is shared: never mutate it."""
    if vv.is_number(value):
        return vv.canon(value)
    try:
        text = json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        raise ValueError(f"param {name!r} is not JSON data") from None
    try:
        return _vvalue_from_text(text)
    except vv.VValueError as e:
        raise ValueError(f"param {name!r} is not a V-value: {e}") from None


def token_label(token: str) -> str:
    """A token (a character or a word) as a V-value label.

    Labels may not start with ':' (reserved), so a token that starts with ':'
    or with the escape character '\\' gets a '\\' in front.
    """
    return "\\" + token if token.startswith((":", "\\")) else token


def label_token(label: str) -> str:
    """The inverse of ``token_label``."""
    return label[1:] if label.startswith("\\") else label


def number(x: float) -> vv.VValue:
    """A scalar as a canonical V-value (``{}`` for 0)."""
    return {NUMBER: x} if x else {}


def grad_kernel(name: str) -> Any:
    """The differentiable kernel ``name`` of ``_grad`` (imported on the first
    call: it needs torch, which loading the registry does not)."""

    def kernel(x: Any, p: Any, ctx: Any) -> Any:
        from . import _grad

        return getattr(_grad, name)(x, p, ctx)

    kernel.__name__ = kernel.__qualname__ = f"{name}_differentiable"
    return kernel
