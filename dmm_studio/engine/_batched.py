"""Columns of V-values, and batched forms of the SPEC §5 neuron types.

The compiled engine computes a neuron type once per step for every active
instance of the type. This module defines what such a *batched* function
receives and returns, so that any neuron type can offer one
(``NeuronType.batched``); types without one are called instance by instance.

The batched protocol
--------------------
``batched(x: Batch, params: ParamTable) -> dict[str, Column] | None``

* ``x`` holds the inputs of the type's ``x.n`` active instances (row ``r`` is
  one instance). ``x[name]`` is the :class:`Column` of one input (a column of
  zeros when no instance receives it); ``x.names`` lists the inputs that some
  instance has a row of W for (for variadic types, every such name; else the
  declared inputs).
* ``params[name]`` is a float64 tensor ``[n]`` of a numeric param (its default
  where the instance sets none), ``params.isint(name)`` says where it is a
  Python int; ``params.row(r)`` is one instance's params (a dict).
* It returns one Column per output, each of length ``x.n``; a row whose value
  is zero means "no output". Returning ``None`` says "not this batch" (e.g. an
  input shape it does not handle): the engine then calls ``NeuronType.fn`` per
  instance, which is always right, only slower.
* It must not change its inputs (no in-place ops on their tensors): columns
  share storage with the state of the previous step.

A :class:`Column` splits each V-value ``v`` into the parts that can be batched
and the rest: ``num`` (float64 ``[n]``) is ``v[":number"]`` (0 when absent) and
``isint`` (bool ``[n]``) says whether the reference engine would hold that
number as a Python ``int`` (True where ``num`` is 0); it is computed from
``ints``, which is None when every number of the column is a float (the
common case: a kernel that keeps ``ints=None`` when its inputs have it costs
nothing for int tracking); ``tensors`` maps a stream
kind ``(shape, dtype)`` to ``(rows, data)``: the instances whose ``v`` has a
root tensor of that kind and the tensors stacked (``data[k]`` belongs to row
``rows[k]``); ``rest`` maps a row to the children of ``v`` (the non-reserved
keys, as a canonical nested dict: word counts, matrix fragments, ...). Every
V-value operation that acts key by key (add, scale) acts on the parts
separately.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from .. import vvalue as vv
from ..vvalue import NUMBER, TENSOR

Kind = tuple[tuple[int, ...], torch.dtype]
Rows = dict[Kind, tuple[torch.Tensor, torch.Tensor]]


def kind_of(t: torch.Tensor) -> Kind:
    return (tuple(t.shape), t.dtype)


@dataclass
class Column:
    """The values of one port for ``n`` rows (see the module docstring)."""

    num: torch.Tensor
    ints: torch.Tensor | None = None
    tensors: Rows = field(default_factory=dict)
    rest: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def isint(self) -> torch.Tensor:
        """Where the number is an int, or 0 (bool [n])."""
        return self.num == 0 if self.ints is None else self.ints

    @property
    def n(self) -> int:
        return int(self.num.shape[0])

    @staticmethod
    def zeros(n: int, device: torch.device | str = "cpu") -> Column:
        return Column(torch.zeros(n, dtype=torch.float64, device=device))

    @staticmethod
    def from_values(values: list[Any], device: torch.device | str = "cpu") -> Column:
        """A column from canonical V-values (``{}``/None for zero)."""
        nums: list[float] = []
        ints: list[bool] = []
        by_kind: dict[Kind, tuple[list[int], list[torch.Tensor]]] = {}
        rest: dict[int, dict[str, Any]] = {}
        for r, v in enumerate(values):
            x = v.get(NUMBER, 0) if v else 0
            nums.append(x)
            ints.append(type(x) is int)
            if not v:
                continue
            t = v.get(TENSOR)
            if t is not None:
                rows, ts = by_kind.setdefault(kind_of(t), ([], []))
                rows.append(r)
                ts.append(t.to(device))
            if len(v) > (NUMBER in v) + (TENSOR in v):
                rest[r] = {k: c for k, c in v.items() if k != NUMBER and k != TENSOR}
        tensors = {
            k: (torch.tensor(rows, dtype=torch.long, device=device), torch.stack(ts))
            for k, (rows, ts) in by_kind.items()
        }
        return Column(
            torch.tensor(nums, dtype=torch.float64, device=device),
            torch.tensor(ints, dtype=torch.bool, device=device),
            tensors,
            rest,
        )

    def present_rows(self) -> list[int]:
        """The rows with a value (sorted)."""
        rows = set(torch.nonzero(self.num).flatten().tolist())
        for r, _ in self.tensors.values():
            rows.update(r.tolist())
        rows.update(self.rest)
        return sorted(rows)

    def values(self) -> list[dict[str, Any]]:
        """Every row as a canonical V-value (``{}`` for zero)."""
        out: list[dict[str, Any]] = [{} for _ in range(self.n)]
        for r, children in self.rest.items():
            out[r] = dict(children)
        nz = torch.nonzero(self.num).flatten()
        if nz.numel():
            vals = self.num[nz].tolist()
            ints = self.isint[nz].tolist() if self.ints is not None else [False] * len(vals)
            for r, x, i in zip(nz.tolist(), vals, ints, strict=True):
                out[r][NUMBER] = int(x) if i else x
        for rows, data in self.tensors.values():
            for r, t in zip(rows.tolist(), data.unbind(0), strict=True):
                out[r][TENSOR] = t
        return out

    def take(self, idx: torch.Tensor, complete: bool = False, inverse: torch.Tensor | None = None) -> Column:
        """Rows ``idx`` of this column (``-1`` gives a zero row; ``complete``
        promises there is no ``-1``). ``inverse`` (row of this column -> its
        place in ``idx``, -1 if none; length ``n + 1``) may be passed when the
        caller keeps it: it is only needed for tensors and children."""
        n = self.n
        if complete:
            out = Column(self.num[idx], None if self.ints is None else self.ints[idx])
        else:
            ext = idx.clamp(min=-1) % (n + 1)  # -1 -> n, the zero row appended below
            zero = torch.zeros(1, dtype=torch.float64, device=self.num.device)
            ints = None
            if self.ints is not None:
                ints = torch.cat([self.ints, torch.ones(1, dtype=torch.bool, device=self.num.device)])[ext]
            out = Column(torch.cat([self.num, zero])[ext], ints)
        if not self.tensors and not self.rest:
            return out
        if inverse is None:
            inverse = inverse_index(idx, n)
        for k, (rows, data) in self.tensors.items():
            new_rows = inverse[rows]
            keep = new_rows >= 0
            if bool(keep.all()):
                out.tensors[k] = (new_rows, data)
            elif bool(keep.any()):
                out.tensors[k] = (new_rows[keep], data[keep])
        if self.rest:
            keys = list(self.rest)
            where = inverse[torch.tensor(keys, dtype=torch.long, device=idx.device)].tolist()
            for r, w in zip(keys, where, strict=True):
                if w >= 0:
                    out.rest[w] = self.rest[r]
        return out


def inverse_index(idx: torch.Tensor, n: int) -> torch.Tensor:
    """For ``take``: row r of an n-row column -> its place in ``idx`` (or -1)."""
    inverse = torch.full((n + 1,), -1, dtype=torch.long, device=idx.device)
    inverse[idx.clamp(min=-1) % (n + 1)] = torch.arange(idx.shape[0], device=idx.device)
    inverse[n] = -1
    return inverse


class ParamTable:
    """The params of a type's active instances: ``[name]`` a float64 column
    (numeric params only), ``row(r)`` one instance's params (defaults merged).
    Built lazily: a type that reads no params costs nothing."""

    def __init__(
        self,
        defaults: Mapping[str, Any],
        overrides: Mapping[str, Mapping[str, Any]],
        names: list[str],
        device: torch.device | str = "cpu",
    ) -> None:
        self._defaults = defaults
        self._overrides = overrides
        self._names = names
        self._device = device
        self._columns: dict[str, torch.Tensor] = {}

    def row(self, r: int) -> dict[str, Any]:
        p = dict(self._defaults)
        own = self._overrides.get(self._names[r])
        if own:
            p.update(own)
        return p

    def isint(self, name: str) -> torch.Tensor:
        """Whether each instance's value of a param is a Python int (bool [n])."""
        values = [type(self.row(r)[name]) is int for r in range(len(self._names))]
        return torch.tensor(values, dtype=torch.bool, device=self._device)

    def __getitem__(self, name: str) -> torch.Tensor:
        col = self._columns.get(name)
        if col is None:
            values = [float(self.row(r)[name]) for r in range(len(self._names))]
            col = torch.tensor(values, dtype=torch.float64, device=self._device)
            self._columns[name] = col
        return col


class Batch:
    """The inputs of ``n`` instances of one type, one Column per input name."""

    def __init__(self, n: int, columns: Mapping[str, Column], device: torch.device | str = "cpu") -> None:
        self.n = n
        self.columns = dict(columns)
        self.device = device

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def __getitem__(self, name: str) -> Column:
        col = self.columns.get(name)
        return col if col is not None else Column.zeros(self.n, self.device)


# ------------------------------------------------------------ column algebra


def _kind_conflict(a: Column, b: Column) -> bool:
    """Whether some row holds tensors of two different kinds in a and b (the
    reference then promotes dtypes or raises: left to the per-instance path)."""
    if not a.tensors or not b.tensors:
        return False
    mark = torch.full((a.n,), -1, dtype=torch.long, device=a.num.device)
    ids = {k: i for i, k in enumerate({**a.tensors, **b.tensors})}
    for k, (rows, _) in a.tensors.items():
        mark[rows] = ids[k]
    for k, (rows, _) in b.tensors.items():
        seen = mark[rows]
        if bool(((seen >= 0) & (seen != ids[k])).any()):
            return True
    return False


def _add_rows(ra: torch.Tensor, da: torch.Tensor, rb: torch.Tensor, db: torch.Tensor) -> tuple[Any, Any]:
    if ra.shape == rb.shape and torch.equal(ra, rb):
        return ra, da + db
    rows, inverse = torch.unique(torch.cat([ra, rb]), return_inverse=True)
    out = torch.zeros((rows.shape[0], *da.shape[1:]), dtype=da.dtype, device=da.device)
    out.index_add_(0, inverse, torch.cat([da, db]))
    return rows, out


def add_columns(a: Column, b: Column) -> Column | None:
    """Row-wise ``add(a, b)``; None when rows mix tensor kinds."""
    if _kind_conflict(a, b):
        return None
    num = a.num + b.num
    isint = None if a.ints is None and b.ints is None else (a.isint & b.isint) | (num == 0)
    tensors = dict(a.tensors)
    for k, (rb, db) in b.tensors.items():
        if k in tensors:
            ra, da = tensors[k]
            tensors[k] = _add_rows(ra, da, rb, db)
        else:
            tensors[k] = (rb, db)
    rest = dict(a.rest)
    for r, v in b.rest.items():
        s = vv._add(rest.get(r), v)
        if s is None:
            rest.pop(r, None)
        else:
            rest[r] = s
    return Column(num, isint, tensors, rest)


# ------------------------------------------------------------ built-in kernels


def identity_batched(x: Batch, params: ParamTable) -> dict[str, Column]:
    """identity: every input to the output of the same name."""
    return dict(x.columns)


def _sum_kernel(output: str) -> Callable[[Batch, ParamTable], dict[str, Column] | None]:
    def kernel(x: Batch, params: ParamTable) -> dict[str, Column] | None:
        s = add_columns(x["accum"], x["delta"])
        return None if s is None else {output: s}

    kernel.__doc__ = f"{output} = accum + delta, row by row."
    return kernel


accum_batched = _sum_kernel("single")
self_batched = _sum_kernel("network_matrix")


def max_norm_batched(x: Batch, params: ParamTable) -> dict[str, Column]:
    """norm = the largest absolute leaf. As the reference does, the result is
    an int when it is an int number strictly larger than every tensor element."""
    c = x["in"]
    num = c.num.abs()
    tmax = torch.full_like(num, -1.0)
    for rows, data in c.tensors.values():
        if data[0].numel() == 0:
            continue
        m = data.detach().abs().flatten(1).amax(1).double()
        tmax = tmax.index_put((rows,), torch.maximum(tmax[rows], m))
    isint = (c.isint & (num > tmax)) | (torch.maximum(num, tmax) <= 0)
    out = torch.maximum(num, tmax.clamp(min=0))
    if c.rest:
        out, isint = out.clone(), isint.clone()
        values = c.values()
        for r in c.rest:
            best = vv.max_norm(values[r])
            out[r] = float(best)
            isint[r] = type(best) is int or best == 0
    return {"norm": Column(out, isint)}


def less_or_equal_batched(x: Batch, params: ParamTable) -> dict[str, Column] | None:
    """true = 1, false = 0 when right - left has no negative leaf, else the reverse."""
    left, right = x["left"], x["right"]
    if _kind_conflict(left, right):
        return None
    neg = (right.num - left.num) < 0
    kinds = set(left.tensors) | set(right.tensors)
    for k in kinds:
        lt, rt = left.tensors.get(k), right.tensors.get(k)
        if lt is None:
            assert rt is not None
            rows, diff = rt
        elif rt is None:
            rows, diff = lt[0], -lt[1]
        else:
            rows, diff = _add_rows(rt[0], rt[1], lt[0], -lt[1])
        if diff[0].numel():
            neg = neg.index_put((rows,), neg[rows] | (diff.flatten(1) < 0).any(1), accumulate=False)
    rest_rows = set(left.rest) | set(right.rest)
    if rest_rows:
        neg = neg.clone()
        lv, rv = left.values(), right.values()
        for r in rest_rows:
            neg[r] = vv.has_negative_leaf(vv.add(rv[r], vv.scale(-1, lv[r])))
    ones = torch.ones_like(neg)
    true = (~neg).double()
    return {"true": Column(true, ones), "false": Column(1.0 - true, ones)}


def mult_mask_batched(x: Batch, params: ParamTable) -> dict[str, Column] | None:
    """single = main scaled by the mask, when every mask is a bare number (a
    mask leaf scales the whole subtree); other masks go instance by instance."""
    mask, main = x["mask"], x["main"]
    if mask.tensors or mask.rest:
        return None
    if any(not d.dtype.is_floating_point for _, d in main.tensors.values()):
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
    num = m * main.num
    isint = None if mask.ints is None and main.ints is None else (mask.isint & main.isint) | (num == 0)
    tensors: Rows = {}
    for k, (rows, data) in main.tensors.items():
        scale = m[rows]
        keep = scale != 0
        if not bool(keep.all()):
            rows, data, scale = rows[keep], data[keep], scale[keep]
        if rows.numel():
            shape = (-1,) + (1,) * (data.dim() - 1)
            tensors[k] = (rows, data * scale.to(data.dtype).reshape(shape))
    rest: dict[int, dict[str, Any]] = {}
    if main.rest:
        factors = m.tolist()
        ints = mask.isint.tolist() if mask.ints is not None else [False] * len(factors)
        for r, v in main.rest.items():
            f = factors[r]
            if f != 0:
                s = vv._scale(int(f) if ints[r] else f, v)
                if s is not None:
                    rest[r] = s
    return {"single": Column(num, isint, tensors, rest)}


BUILTIN_KERNELS: dict[str, Callable[[Batch, ParamTable], dict[str, Column] | None]] = {
    "identity": identity_batched,
    "accum": accum_batched,
    "self": self_batched,
    "max_norm": max_norm_batched,
    "less_or_equal": less_or_equal_batched,
    "mult_mask": mult_mask_batched,
}
