"""The compiled engine's tables: ports and neurons interned to numbers.

A :class:`TypeTable` holds the neurons of one type (their places, and their
ports by input and output name as arrays over the places); a :class:`Plan`
is what one step's batched call of a type needs, rebuilt from the table
(numpy, no per-neuron Python) when its version changes. :class:`Grow` is the
growable array they are kept in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from functools import cached_property

import numpy as np
import torch

from ._batched import Index, ParamTable
from .base import Port


class Grow:
    """A growable int64 array (its capacity doubles); ``fill`` where nothing
    was put. Puts past the end go to a list (cheap one by one, as when W is
    first interned), moved into the array when it is next read."""

    __slots__ = ("_buf", "_n", "tail", "fill")

    def __init__(self, fill: int = 0) -> None:
        self._buf, self._n, self.tail, self.fill = np.full(16, fill, np.int64), 0, [], fill

    @property
    def n(self) -> int:
        return self._n + len(self.tail)

    def append(self, v: int) -> None:
        self.tail.append(v)

    def put(self, k: int, v: int) -> None:
        if k < self._n:
            self._buf[k] = v
            return
        k -= self._n
        tail = self.tail
        if k >= len(tail):
            tail.extend([self.fill] * (k - len(tail)))
            tail.append(v)
        else:
            tail[k] = v

    def reserve(self, size: int) -> None:
        if size > len(self._buf):
            grown = np.full(max(size, 2 * len(self._buf)), self.fill, np.int64)
            grown[: self._n] = self._buf[: self._n]
            self._buf = grown

    def view(self) -> np.ndarray:
        if self.tail:
            n = self.n
            self.reserve(n)
            self._buf[self._n : n] = self.tail
            self._n, self.tail = n, []
        return self._buf[: self._n]

    def at(self, places: np.ndarray) -> np.ndarray:
        """``self[places]`` (``places`` sorted), the fill beyond what was put."""
        self.view()
        if len(places):
            self.reserve(int(places[-1]) + 1)
        return self._buf[places]


@dataclass
class Ports:
    """Ports interned to indices (the rows or the columns of A), with their neuron."""

    index: dict[Port, int] = field(default_factory=dict)
    keys: list[Port] = field(default_factory=list)
    nid: Grow = field(default_factory=Grow)


@dataclass
class Plan:
    """One type's batched call: its instances and where their values are.

    Its members are the instances active when it was built; one that goes
    inactive since stays a *dormant* member (its rows of x are empty, so it
    reads zeros; its outputs are zeroed) and wakes again in O(1), as long as
    it wakes with no row the plan lacks. New instances, and more than an
    eighth of the members dormant, build a new plan."""

    type_id: str
    local: np.ndarray  # the members' places in the TypeTable
    inputs: dict[str, Index]  # input -> rows of x (slice, or tensor with -1 for no row)
    outputs: dict[str, Index]  # output -> ports of y
    out_ports: dict[str, np.ndarray]  # the same, as an array
    all_names: list[str]  # the TypeTable's names
    in_rows: dict[str, np.ndarray] = field(default_factory=dict)  # the inputs as arrays
    dormant: dict[int, None] = field(default_factory=dict)  # members now inactive (their positions)
    _dormant_t: torch.Tensor | None = None
    _params: ParamTable | None = None

    def toggle(self, place: int, active: bool, rows: list[tuple[str, int]]) -> bool:
        """A member goes dormant or wakes (``rows``: its rows whose entries came
        or went, by input name); False when the plan cannot take it."""
        at = int(np.searchsorted(self.local, place))
        if at == len(self.local) or self.local[at] != place:
            return False
        if active:
            if any(i not in self.in_rows or self.in_rows[i][at] != r for i, r in rows):
                return False
            self.dormant.pop(at, None)
        elif len(self.dormant) >= max(16, len(self.local) // 8):
            return False
        else:
            self.dormant[at] = None
        self._dormant_t = None
        return True

    def dormant_rows(self, device: torch.device) -> torch.Tensor:
        if self._dormant_t is None:
            self._dormant_t = torch.tensor(list(self.dormant), dtype=torch.long, device=device)
        return self._dormant_t

    @cached_property
    def names(self) -> list[str]:
        """The members' names: listed when first asked for (params, errors)."""
        return [self.all_names[j] for j in self.local.tolist()]

    def params(self, defaults: Mapping[str, Any], overrides: Mapping[str, Any], device: Any) -> ParamTable:
        """The members' params (the last table again while it read no column)."""
        p = self._params
        if p is None or p.overrides is not overrides or p.defaults is not defaults or p.columns:
            p = self._params = ParamTable(defaults, overrides, lambda: self.names, device)
        return p


@dataclass
class TypeTable:
    """The neurons of one type: their names, numbers, and ports by name."""

    type_id: str
    declared: tuple[str, ...] = ()  # the type's declared outputs
    mirror: bool = False
    names: list[str] = field(default_factory=list)
    local: dict[str, int] = field(default_factory=dict)
    nids: Grow = field(default_factory=Grow)
    inputs: dict[str, Grow] = field(default_factory=dict)  # input -> place -> row (-1: none)
    outputs: dict[str, Grow] = field(default_factory=dict)  # output -> place -> column (-1)
    version: int = 0
    plan: tuple[int, Plan] | None = None


def port_index(ports: np.ndarray, device: torch.device) -> Index:
    """Ports as a slice when evenly spaced (a view, no gather), else a tensor."""
    n = len(ports)
    if n and ports[0] >= 0:
        step = int(ports[1] - ports[0]) if n > 1 else 1
        if step > 0 and (n == 1 or np.array_equal(ports, np.arange(ports[0], ports[0] + step * n, step))):
            return slice(int(ports[0]), int(ports[0]) + step * (n - 1) + 1, step)
    return torch.from_numpy(ports).to(device)
