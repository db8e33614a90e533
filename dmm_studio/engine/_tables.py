"""The compiled engine's tables: ports and neurons interned to numbers.

A :class:`TypeTable` holds the neurons of one type (their places, and their
ports by input and output name as arrays over the places); a :class:`Plan`
is what one step's batched call of a type needs, rebuilt from the table
(numpy, no per-neuron Python) when its version changes. :class:`Grow` is the
growable array they are kept in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import torch

from ._batched import Index
from .base import Port


class Grow:
    """A growable int64 array (its capacity doubles); ``fill`` where nothing was put."""

    __slots__ = ("a", "n", "fill")

    def __init__(self, fill: int = 0) -> None:
        self.a, self.n, self.fill = np.full(16, fill, np.int64), 0, fill

    def append(self, v: int) -> None:
        self.put(self.n, v)

    def put(self, k: int, v: int) -> None:
        self.reserve(k + 1)
        self.a[k] = v
        self.n = max(self.n, k + 1)

    def reserve(self, size: int) -> None:
        if size > len(self.a):
            self.a = np.concatenate([self.a, np.full(max(size, 2 * len(self.a)) - len(self.a), self.fill)])

    def view(self) -> np.ndarray:
        return self.a[: self.n]

    def at(self, places: np.ndarray) -> np.ndarray:
        """``self[places]`` (``places`` sorted), the fill beyond what was put."""
        if len(places):
            self.reserve(int(places[-1]) + 1)
        return self.a[places]


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
        """The active instances' names: listed when first asked for (params, errors)."""
        return [self.all_names[j] for j in self.local.tolist()]


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
