"""NaN and infinities in a running state: where the first one is.

Lean, because it runs after every step (the CLI's check, the studio's NaN/Inf
break): floats by ``x - x != 0`` (true only for NaN and infinities), ints
never, tensors by their sum first; outputs that are the very objects seen
finite at the step before are not walked again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .matrix import MATRIX_OUTPUT, SELF_ID, SELF_NAME, SELF_TYPE, NeuronId
from .vvalue import get_in, is_number, is_tensor, scan


def first_non_finite(
    v: Any, seen: dict[int, Any] | None = None, keep: dict[int, Any] | None = None
) -> tuple[tuple[str, ...], Any] | None:
    """The path and value of the first NaN or infinite leaf in a V-value.

    Runs after every step, so it is lean: floats by ``x - x != 0`` (true only
    for NaN and infinities), ints never, tensors by their sum first (~4 us; a
    sum is finite only if every element is), then element by element; paths
    are built only once something is found. ``seen``: tensors found finite
    before, ``{id: (tensor, version)}``, not summed again while unchanged
    (a constant image); the finite ones summed now go into ``keep``."""
    if type(v) is dict and _all_finite(v, seen, keep):
        return None
    # depth first, in order; a path is kept as links to its parent's (a deep
    # value would otherwise copy its path at every level)
    links: list[tuple[int, str]] = [(-1, "")]

    def path_of(i: int, *more: str) -> tuple[str, ...]:
        keys: list[str] = []
        while i > 0:
            i, k = links[i]
            keys.append(k)
        return (*reversed(keys), *more)

    stack: list[tuple[int, Any]] = [(0, v)]
    while stack:
        at, node = stack.pop()
        t = type(node)
        if t is dict:
            for k, x in reversed(node.items()):
                tx = type(x)
                if tx is int:
                    continue
                if tx is float:
                    if x - x != 0:
                        return path_of(at, k), x
                    continue
                links.append((at, k))
                stack.append((len(links) - 1, x))
        elif t is float:
            if node - node != 0:
                return path_of(at), node
        elif is_tensor(node):
            found = _tensor_non_finite(node)
            if found is not None:
                return path_of(at, *found[0]), found[1]
        elif is_number(node) and not math.isfinite(node):
            return path_of(at), node
    return None


def _all_finite(node: dict[str, Any], seen: dict[int, Any] | None, keep: dict[int, Any] | None) -> bool:
    """Whether every leaf under ``node`` is finite: ``vvalue.scan``'s walk
    (any depth; remembered, and shared with the size bounds and the engine's
    check of exact integers), then the tensors it found, each by its sum."""
    found = scan(node)
    if not found.finite:
        return False
    return all(_leaf_finite(x, seen, keep) for x in found.odd)


def _leaf_finite(x: Any, seen: dict[int, Any] | None, keep: dict[int, Any] | None) -> bool:
    tx = type(x)
    if tx is float:
        return x - x == 0
    if tx is int:
        return True
    if is_tensor(x):
        if seen is not None:
            e = seen.get(id(x))
            if e is not None and e[0] is x and e[1] == x._version:
                keep[id(x)] = e  # type: ignore[index]
                return True
        if _tensor_non_finite(x) is not None:
            return False
        if keep is not None:
            keep[id(x)] = (x, x._version)
        return True
    return bool(math.isfinite(x))


def _tensor_non_finite(leaf: Any) -> tuple[tuple[str, ...], float] | None:
    if not (leaf.is_floating_point() or leaf.is_complex()) or leaf.numel() == 0:
        return None
    if math.isfinite(abs(complex(leaf.sum())) if leaf.is_complex() else leaf.sum().item()):
        return None
    import torch

    bad = ~torch.isfinite(leaf)
    if not bool(bad.any()):
        return None  # the sum overflowed, every element is finite
    idx = [int(i) for i in bad.nonzero()[0]]
    return (f"[{','.join(map(str, idx))}]",), float(leaf[tuple(idx)])


@dataclass(frozen=True)
class NonFiniteValue:
    """The first NaN or infinity of a state: after step ``t``, in output
    ``output`` of ``neuron``, at ``path`` inside the V-value."""

    t: int
    neuron: NeuronId
    output: str
    path: tuple[str, ...]
    value: Any

    @property
    def message(self) -> str:
        f, n = self.neuron
        where = f"{f}/{n}/{self.output}" + (f" at {'/'.join(self.path)}" if self.path else "")
        return f"{self.value} in {where}"


@dataclass
class NonFiniteWatch:
    """Finds the first NaN or infinity of each state it is shown, skipping the
    outputs it saw finite at the check before (keep one per run)."""

    _seen: dict[int, Any] = field(default_factory=dict, repr=False)
    _tseen: dict[int, Any] = field(default_factory=dict, repr=False)

    def check(self, t: int, state: Mapping[str, Any]) -> NonFiniteValue | None:
        # outputs that are the very objects checked at the step before (a constant
        # stream, an engine that keeps unchanged values) are not walked again
        seen, self._seen = self._seen, {}
        tseen, self._tseen = self._tseen, {}
        # neurons other than Self first: a NaN that reached the matrix came from one of them.
        # The matrix is looked at only when it can change (it has a delta row): else it
        # is W_0, which a file cannot hold non-finite.
        order = [(f, n) for f, names in state.items() for n in names if (f, n) != SELF_ID]
        if get_in(state, (SELF_TYPE, SELF_NAME, MATRIX_OUTPUT, SELF_TYPE, SELF_NAME, "delta")) is not None:
            order.append(SELF_ID)
        for f, n in order:
            for o, v in state[f][n].items():
                key = id(v)
                if seen.get(key) is v:
                    self._seen[key] = v
                    continue
                found = first_non_finite(v, tseen, self._tseen)
                if found is None:
                    self._seen[key] = v  # kept alive, so the id is not reused
                else:
                    return NonFiniteValue(t, (f, n), o, found[0], found[1])
        return None
