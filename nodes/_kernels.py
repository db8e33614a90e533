"""Batched forms of the SPEC §5 types (the protocol: ``dmm_studio.engine._batched``).

Declared on the types in ``core.py`` through ``batched=``; imported on the
first batched call, so that loading the registry does not import torch.
"""

from __future__ import annotations

import torch

from dmm_studio import vvalue as vv
from dmm_studio.engine._batched import Batch, Column, ParamTable, add_columns, add_rows, kind_conflict


def identity(x: Batch, params: ParamTable) -> dict[str, Column]:
    """Every input to the output of the same name."""
    return dict(x.columns)


def accum(x: Batch, params: ParamTable) -> dict[str, Column] | None:
    """single = accum + delta, row by row."""
    s = add_columns(x["accum"], x["delta"])
    return None if s is None else {"single": s}


def max_norm(x: Batch, params: ParamTable) -> dict[str, Column]:
    """norm = the largest absolute leaf."""
    c = x["in"]
    out = c.num.abs()
    for rows, data in c.tensors.values():
        if data[0].numel():
            m = data.detach().abs().flatten(1).amax(1).double()
            out = out.index_put((rows,), torch.maximum(out[rows], m))
    if c.rest:
        out = out.clone()
        values = c.values()
        for r in c.rest:
            out[r] = float(vv.max_norm(values[r]))
    return {"norm": Column(out)}


def less_or_equal(x: Batch, params: ParamTable) -> dict[str, Column] | None:
    """true = 1, false = 0 when right - left has no negative leaf, else the reverse."""
    left, right = x["left"], x["right"]
    if kind_conflict(left, right):
        return None
    neg = (right.num - left.num) < 0
    for k in set(left.tensors) | set(right.tensors):
        lt, rt = left.tensors.get(k), right.tensors.get(k)
        if lt is None:
            assert rt is not None
            rows, diff = rt
        elif rt is None:
            rows, diff = lt[0], -lt[1]
        else:
            rows, diff = add_rows(rt[0], rt[1], lt[0], -lt[1])
        if diff[0].numel():
            neg = neg.index_put((rows,), neg[rows] | (diff.flatten(1) < 0).any(1))
    rest_rows = set(left.rest) | set(right.rest)
    if rest_rows:
        neg = neg.clone()
        lv, rv = left.values(), right.values()
        for r in rest_rows:
            neg[r] = vv.has_negative_leaf(vv.add(rv[r], vv.scale(-1, lv[r])))
    true = (~neg).double()
    return {"true": Column(true), "false": Column(1.0 - true)}


def mult_mask(x: Batch, params: ParamTable) -> dict[str, Column] | None:
    """single = main scaled by the mask, when every mask is a bare number (a
    mask leaf scales the whole subtree); other masks go instance by instance."""
    mask, main = x["mask"], x["main"]
    if mask.tensors or mask.rest or any(not d.dtype.is_floating_point for _, d in main.tensors.values()):
        return None
    m = mask.num
    # The reference fails on an empty mask over a non-empty main (mult_mask({}, v)
    # scales by None); the per-instance path reports that the same way.
    present = main.num != 0
    for rows, _ in main.tensors.values():
        present = present.index_fill(0, rows, True)
    if main.rest:
        present = present.index_fill(0, torch.tensor(list(main.rest), device=m.device), True)
    if bool(((m == 0) & present).any()):
        return None
    return {"single": main.scaled(m)}


__all__ = ["accum", "identity", "less_or_equal", "max_norm", "mult_mask"]
