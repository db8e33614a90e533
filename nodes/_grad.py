"""Differentiable kernels of the built-in types, for training (``dmm_studio.learn``).

The protocol is ``dmm_studio/learn/kernels.py``: inputs ``[E, n, B]`` in the
run's basis (index 0 the scalar, 1.. one level of labels), numeric params
``[E, n]``, outputs ``[E, n, B]``. Each kernel computes what the type's
``fn`` computes on such values (checked against the reference engine by
``tests/learn``), with torch operations only, so gradients flow. Declared
on the types through ``differentiable=``; imported on the first call, so
that loading the registry does not import torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

T = torch.Tensor
X = Mapping[str, T]


def _root(s: T, like: T) -> T:
    """A scalar per row ``[E, n]`` as V-values ``[E, n, B]`` (the scalar at index 0)."""
    out = torch.zeros_like(like)
    return torch.cat([s.unsqueeze(-1), out[..., 1:]], dim=-1)


def _any(x: X) -> T:
    return next(iter(x.values()))


def identity(x: X, p: X, ctx: Any) -> dict[str, T]:
    return dict(x)


def accum(x: X, p: X, ctx: Any) -> dict[str, T]:
    return {"single": x["accum"] + x["delta"]}


def max_norm(x: X, p: X, ctx: Any) -> dict[str, T]:
    v = x["in"]
    return {"norm": _root(v.abs().amax(-1), v)}


def less_or_equal(x: X, p: X, ctx: Any) -> dict[str, T]:
    """true = 1 when right - left has no negative leaf: ``step(min(right - left))``
    with the run's surrogate gradient (``Context.step``)."""
    left, right = x["left"], x["right"]
    true = ctx.step((right - left).amin(-1))
    return {"true": _root(true, left), "false": _root(1.0 - true, left)}


def mult_mask(x: X, p: X, ctx: Any) -> dict[str, T]:
    """A mask without children scales the whole of main by its scalar; a mask
    with children multiplies leaf by leaf when main has children too, and
    gives 0 over a bare number (map x leaf is 0)."""
    mask, main = x["mask"], x["main"]
    mask_children = (mask[..., 1:] != 0).any(-1, keepdim=True)
    main_children = (main[..., 1:] != 0).any(-1, keepdim=True)
    by_leaf = torch.where(main_children, mask * main, torch.zeros_like(main))
    return {"single": torch.where(mask_children, by_leaf, mask[..., :1] * main)}


def dot(x: X, p: X, ctx: Any) -> dict[str, T]:
    left, right = x["left"], x["right"]
    return {"out": _root((left * right).sum(-1), left)}


def lincomb(x: X, p: X, ctx: Any) -> dict[str, T]:
    return {"out": p["a"].unsqueeze(-1) * x["x"] + p["b"].unsqueeze(-1) * x["y"]}


def sum_(x: X, p: X, ctx: Any) -> dict[str, T]:
    out = ctx.like
    for v in x.values():
        out = out + v
    return {"out": out}


def relu(x: X, p: X, ctx: Any) -> dict[str, T]:
    return {"out": torch.relu(x["in"])}


def tanh(x: X, p: X, ctx: Any) -> dict[str, T]:
    return {"out": torch.tanh(p["gain"].unsqueeze(-1) * x["in"])}


def gate(x: X, p: X, ctx: Any) -> dict[str, T]:
    g = p["bias"] + x["gate"][..., 0]
    return {"out": g.unsqueeze(-1) * x["in"]}


def switch(x: X, p: X, ctx: Any) -> dict[str, T]:
    s = x["select"][..., :1]
    return {"on": s * x["in"], "off": (1 - s) * x["in"]}


def clock(x: X, p: X, ctx: Any) -> dict[str, T]:
    tick = x["tick"]
    t = tick[..., 0] + p["rate"]
    period = p["period"]
    t = torch.where(period > 0, torch.remainder(t, torch.where(period > 0, period, 1.0)), t)
    return {"t": _root(t, tick)}


def constant(x: X, p: X, ctx: Any) -> dict[str, T]:
    raw = ctx.raw("value")
    like = ctx.like
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw):
        return {"out": _root(p["value"], like)}
    rows = torch.stack([ctx.vector(v) for v in raw])  # [n, B]
    return {"out": rows.expand_as(like).clone()}


def sin_unit(x: X, p: X, ctx: Any) -> dict[str, T]:
    """y = sin(a x + b) on the leaves x has; sin(b) at the scalar when x is zero."""
    v = x["x"]
    a = (p["a"] + x["a"][..., 0]).unsqueeze(-1)
    b = (p["b"] + x["b"][..., 0]).unsqueeze(-1)
    present = v != 0
    y = torch.where(present, torch.sin(a * v + b), torch.zeros_like(v))
    empty = ~present.any(-1)
    return {"y": torch.where(empty.unsqueeze(-1), _root(torch.sin(b[..., 0]), v), y)}


def blend(x: X, p: X, ctx: Any) -> dict[str, T]:
    m = (p["mix"] + x["mix"][..., 0]).unsqueeze(-1)
    return {"out": (1 - m) * x["a"] + m * x["b"]}


__all__ = [
    "accum",
    "blend",
    "clock",
    "constant",
    "dot",
    "gate",
    "identity",
    "less_or_equal",
    "lincomb",
    "max_norm",
    "mult_mask",
    "relu",
    "sin_unit",
    "sum_",
    "switch",
    "tanh",
]
