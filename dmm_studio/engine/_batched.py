"""Columns of V-values: what a batched neuron function receives and returns.

The compiled engine computes a neuron type once per step for every active
instance of the type. A type may offer a *batched* form
(``@neuron(..., batched=...)``, see ``NeuronType.batched``); types without
one are called instance by instance.

The batched protocol
--------------------
``batched(x: Batch, params: ParamTable) -> dict[str, Column] | None``

* ``x`` holds the inputs of the type's ``x.n`` active instances (row ``r`` is
  one instance). ``x[name]`` is the :class:`Column` of one input (zeros when
  no instance receives it); ``x.names`` lists the inputs some instance has a
  row of W for.
* ``params[name]`` is a float64 tensor ``[n]`` of a numeric param (its default
  where the instance sets none); ``params.row(r)`` is one instance's params.
* It returns one Column per output, each of length ``x.n``; a row whose value
  is zero means "no output". ``None`` says "not this batch" (an input it does
  not handle): the engine then calls ``NeuronType.fn`` per instance.
* It must not change its inputs in place: columns share storage with the state.

A :class:`Column` splits each V-value ``v`` into the parts that batch:
``num`` (float64 ``[n]``) is ``v[":number"]`` (0 when absent; numbers are
float64 throughout, int or float is not part of a V-value's meaning);
``tensors`` maps a stream kind ``(shape, dtype)`` to ``(rows, data)``, the
rows whose ``v`` has a root tensor of that kind and those tensors stacked;
``rest`` maps a row to the children of ``v`` (the non-reserved keys as a
canonical nested dict: word counts, matrix fragments). add and scale act on
the parts separately.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from .. import vvalue as vv
from ..vvalue import NUMBER, TENSOR

Kind = tuple[tuple[int, ...], torch.dtype]
Rows = dict[Kind, tuple[torch.Tensor, torch.Tensor]]
Index = torch.Tensor | slice  # rows of a column: an index tensor (-1: none) or a slice


@dataclass(slots=True)
class Column:
    """The values of one port for ``n`` rows (see the module docstring)."""

    num: torch.Tensor
    tensors: Rows = field(default_factory=dict)
    rest: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.num.shape[0])

    @staticmethod
    def from_values(values: list[Any], device: torch.device | str = "cpu") -> Column:
        """A column from canonical V-values (``{}``/None for zero)."""
        by_kind: dict[Kind, tuple[list[int], list[torch.Tensor]]] = {}
        rest: dict[int, dict[str, Any]] = {}
        for r, v in enumerate(values):
            t = v.get(TENSOR) if v else None
            if t is not None:
                rows, ts = by_kind.setdefault((tuple(t.shape), t.dtype), ([], []))
                rows.append(r)
                ts.append(t)
            if v and len(v) > (NUMBER in v) + (t is not None):
                rest[r] = {k: c for k, c in v.items() if k != NUMBER and k != TENSOR}
        nums = [float(v.get(NUMBER, 0)) if v else 0.0 for v in values]
        num = torch.tensor(nums, dtype=torch.float64, device=device)
        tensors = {
            k: (torch.tensor(rows, dtype=torch.long, device=device), torch.stack([t.to(device) for t in ts]))
            for k, (rows, ts) in by_kind.items()
        }
        return Column(num, tensors, rest)

    def value(self, r: int) -> dict[str, Any]:
        """Row ``r`` as a canonical V-value (``{}`` for zero); O(1) in the rows."""
        out = dict(self.rest.get(r, {}))
        x = float(self.num[r])
        if x:
            out[NUMBER] = x
        for rows, data in self.tensors.values():
            at = torch.nonzero(rows == r)
            if at.numel():
                out[TENSOR] = data[int(at[0, 0])]
        return out

    def values(self) -> list[dict[str, Any]]:
        """Every row as a canonical V-value (``{}`` for zero)."""
        out: list[dict[str, Any]] = [{} for _ in range(self.n)]
        for r, children in self.rest.items():
            out[r] = dict(children)
        nz = torch.nonzero(self.num).flatten()
        for r, x in zip(nz.tolist(), self.num[nz].tolist(), strict=True):
            out[r][NUMBER] = x
        for rows, data in self.tensors.values():
            for r, t in zip(rows.tolist(), data.unbind(0), strict=True):
                out[r][TENSOR] = t
        return out

    def take(self, idx: Index) -> Column:
        """Rows ``idx`` of this column (a slice, or an index tensor where -1
        gives a zero row)."""
        if isinstance(idx, slice):
            if not self.tensors and not self.rest:
                return Column(self.num[idx])  # a view, no gather
            idx = torch.arange(self.n, device=self.num.device)[idx]
        n = self.n
        at = torch.where(idx < 0, n, idx)
        out = Column(torch.cat([self.num, self.num.new_zeros(1)])[at])
        if not self.tensors and not self.rest:
            return out
        place = torch.full((n + 1,), -1, dtype=torch.long, device=idx.device)  # row -> its place in idx
        place[at] = torch.arange(idx.shape[0], device=idx.device)
        place[n] = -1
        for k, (rows, data) in self.tensors.items():
            new_rows = place[rows]
            keep = new_rows >= 0
            if bool(keep.all()):
                out.tensors[k] = (new_rows, data)
            elif bool(keep.any()):
                out.tensors[k] = (new_rows[keep], data[keep])
        if self.rest:
            where = place[torch.tensor(list(self.rest), dtype=torch.long, device=self.num.device)].tolist()
            out.rest = {w: v for v, w in zip(self.rest.values(), where, strict=True) if w >= 0}
        return out

    def zeroed(self, rows: torch.Tensor) -> Column:
        """These rows zero (a copy of ``num``; the other parts filtered)."""
        tensors: Rows = {}
        for kind, (at, data) in self.tensors.items():
            keep = ~torch.isin(at, rows)
            if bool(keep.any()):
                tensors[kind] = (at[keep], data[keep])
        drop = set(rows.tolist())
        rest = {r: v for r, v in self.rest.items() if r not in drop}
        return Column(self.num.index_fill(0, rows, 0.0), tensors, rest)

    def scaled(self, g: torch.Tensor) -> Column:
        """Row r times ``g[r]`` (float64 [n]), as ``vvalue.scale`` does it."""
        tensors: Rows = {}
        for kind, (rows, data) in self.tensors.items():
            s = g[rows]
            keep = s != 0
            if not bool(keep.all()):
                rows, data, s = rows[keep], data[keep], s[keep]
            if rows.numel():
                tensors[kind] = (rows, data * s.to(data.dtype).reshape((-1,) + (1,) * (data.dim() - 1)))
        factors = g[torch.tensor(list(self.rest), device=g.device)].tolist() if self.rest else []
        rest = {
            r: s2
            for (r, children), c in zip(self.rest.items(), factors, strict=True)
            if c != 0 and (s2 := vv._scale(c, children)) is not None
        }
        return Column(self.num * g, tensors, rest)


@dataclass
class ParamTable:
    """The params of a type's active instances: ``[name]`` a float64 column
    (numeric params only), ``row(r)`` one instance's params (defaults merged).
    Built lazily: a type that reads no params costs nothing."""

    defaults: Mapping[str, Any]
    overrides: Mapping[str, Mapping[str, Any]]  # instance name -> its params
    names: Callable[[], Sequence[str]]  # the instances' names, listed when first read
    device: torch.device | str = "cpu"
    columns: dict[str, torch.Tensor] = field(default_factory=dict)

    def row(self, r: int) -> dict[str, Any]:
        return {**self.defaults, **self.overrides.get(self.names()[r], {})}

    def __getitem__(self, name: str) -> torch.Tensor:
        col = self.columns.get(name)
        if col is None:
            default = self.defaults.get(name)
            values = [float(self.overrides.get(n, {}).get(name, default)) for n in self.names()]
            col = self.columns[name] = torch.tensor(values, dtype=torch.float64, device=self.device)
        return col


@dataclass
class Batch:
    """The inputs of ``n`` instances of one type, one Column per input name."""

    n: int
    columns: dict[str, Column]
    device: torch.device | str = "cpu"

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def __getitem__(self, name: str) -> Column:
        col = self.columns.get(name)
        return (
            col if col is not None else Column(torch.zeros(self.n, dtype=torch.float64, device=self.device))
        )


# ------------------------------------------------------------ column algebra


def kind_conflict(a: Column, b: Column) -> bool:
    """Whether some row holds tensors of two different kinds in a and b (the
    reference then promotes dtypes or raises: left to the per-instance path)."""
    return any(
        ka != kb and bool(torch.isin(ra, rb).any())
        for ka, (ra, _) in a.tensors.items()
        for kb, (rb, _) in b.tensors.items()
    )


def add_rows(ra: torch.Tensor, da: torch.Tensor, rb: torch.Tensor, db: torch.Tensor) -> tuple[Any, Any]:
    """Two stacks of one kind added row by row: ``(rows, data)``."""
    if ra.shape == rb.shape and torch.equal(ra, rb):
        return ra, da + db
    rows, inverse = torch.unique(torch.cat([ra, rb]), return_inverse=True)
    out = torch.zeros((rows.shape[0], *da.shape[1:]), dtype=da.dtype, device=da.device)
    out.index_add_(0, inverse, torch.cat([da, db]))
    return rows, out


def add_columns(a: Column, b: Column) -> Column | None:
    """Row-wise ``add(a, b)``; None when rows mix tensor kinds."""
    if kind_conflict(a, b):
        return None
    tensors = dict(a.tensors)
    for k, (rb, db) in b.tensors.items():
        tensors[k] = add_rows(*tensors[k], rb, db) if k in tensors else (rb, db)
    rest = dict(a.rest)
    for r, v in b.rest.items():
        s = vv._add(rest.get(r), v)
        if s is None:
            rest.pop(r, None)
        else:
            rest[r] = s
    return Column(a.num + b.num, tensors, rest)
