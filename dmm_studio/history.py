"""The recent past of a running network: a ring buffer of states, and diffs
between network matrices.

``History`` keeps the last ``capacity`` states ``y_t`` (each holds its ``W_t``)
so that the studio can scrub back over them; its memory is bounded by the
capacity (and, when given, by ``max_bytes``) and reported by ``nbytes()``.
States are stored as the engine returns them: V-values are never mutated
(SPEC §1 and ``network.py``), so no copy is taken.

``matrix_diff(old, new)`` lists the weights that were added, removed or
changed between two matrices, as ``(to, from, old, new)``.

No Qt here: this module runs headless. It is thread-safe: a runner thread
pushes while the UI thread reads.
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .matrix import Port, State, Wire, matrix_entries, matrix_of, wires_of
from .vvalue import is_tensor

__all__ = ["Change", "History", "Port", "Wire", "estimate_bytes", "matrix_diff", "matrix_entries", "wires_of"]
ChangeKind = Literal["added", "removed", "changed"]

# what a dict entry and a float cost in CPython, roughly (64-bit): the
# estimate is for showing and bounding memory, not for accounting
_DICT_BASE = sys.getsizeof({})
_ENTRY = 48  # a slot of a dict's table, its key string shared
_FLOAT = sys.getsizeof(1.0)


def estimate_bytes(v: Any) -> int:
    """A rough size in bytes of a state or V-value (tensors by their storage)."""
    total = 0
    stack = [v]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            total += _DICT_BASE + _ENTRY * len(node)
            stack.extend(node.values())
        elif is_tensor(node):
            total += 64 + node.numel() * node.element_size()
        else:
            total += _FLOAT
    return total


@dataclass(frozen=True)
class Change:
    """One weight of the matrix that differs between two steps."""

    kind: ChangeKind
    to: Port
    frm: Port
    old: float
    new: float

    def __str__(self) -> str:
        a, b = "/".join(self.frm), "/".join(self.to)
        if self.kind == "added":
            return f"+ {a} -> {b}: {_num(self.new)}"
        if self.kind == "removed":
            return f"- {a} -> {b} (was {_num(self.old)})"
        return f"~ {a} -> {b}: {_num(self.old)} -> {_num(self.new)}"


def _num(x: float) -> str:
    return f"{x:.6g}" if isinstance(x, float) else str(x)


def matrix_diff(old: Mapping[str, Any], new: Mapping[str, Any], tol: float = 0.0) -> list[Change]:
    """The weights that differ from ``old`` to ``new``: added, removed, changed
    (by more than ``tol``), ordered by receiving port then sending port."""
    a, b = matrix_entries(old), matrix_entries(new)
    changes: list[Change] = []
    for key, wb in b.items():
        wa = a.get(key)
        if wa is None:
            changes.append(Change("added", key[0], key[1], 0, wb))
        elif _differs(wa, wb, tol):
            changes.append(Change("changed", key[0], key[1], wa, wb))
    for key, wa in a.items():
        if key not in b:
            changes.append(Change("removed", key[0], key[1], wa, 0))
    changes.sort(key=lambda c: (c.to, c.frm))
    return changes


def _differs(a: Any, b: Any, tol: float) -> bool:
    if is_tensor(a) or is_tensor(b):
        return not (is_tensor(a) and is_tensor(b) and a.shape == b.shape and bool((a == b).all()))
    if a != a and b != b:  # both NaN: no news
        return False
    return bool(abs(a - b) > tol) if tol else a != b


class History:
    """The last ``capacity`` states of a run, by step ``t``.

    ``push(t, state)`` after each step (``t`` grows by one; a ``t`` that does
    not follow the last one starts the buffer afresh, as after a reset).
    ``get(t)`` gives the state after step ``t`` while it is kept.
    ``max_bytes``, when set, drops the oldest states until the estimate fits
    (the newest state is always kept).
    """

    def __init__(self, capacity: int = 256, max_bytes: int | None = None) -> None:
        if capacity < 1:
            raise ValueError(f"a history keeps at least one state, not {capacity}")
        self._capacity = capacity
        self.max_bytes = max_bytes
        self._items: deque[tuple[int, State, int | None]] = deque()
        self._bytes = 0  # of the entries whose size is known
        self._lock = threading.Lock()
        # a copy of a history kept in the engine's process: its (first, last, count)
        # while only the latest steps are here (None: this is the whole history)
        self.remote: tuple[int, int, int] | None = None
        self.before: Mapping[str, Any] | None = None  # then W_{t-1} of the latest step t

    # ------------------------------------------------------------ writing
    @property
    def capacity(self) -> int:
        return self._capacity

    @capacity.setter
    def capacity(self, k: int) -> None:
        if k < 1:
            raise ValueError(f"a history keeps at least one state, not {k}")
        with self._lock:
            self._capacity = k
            self._trim()

    def push(self, t: int, state: State) -> None:
        size = estimate_bytes(state) if self.max_bytes is not None else None
        with self._lock:
            if self._items and t != self._items[-1][0] + 1:
                self._items.clear()
                self._bytes = 0
            self._items.append((t, state, size))
            if size is not None:
                self._bytes += size
            self._trim()

    def _trim(self) -> None:
        while len(self._items) > self._capacity:
            self._drop()
        if self.max_bytes is not None:
            while len(self._items) > 1 and self._known_bytes() > self.max_bytes:
                self._drop()

    def _drop(self) -> None:
        _, _, size = self._items.popleft()
        if size is not None:
            self._bytes -= size

    def _known_bytes(self) -> int:
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    # ------------------------------------------------------------ reading
    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, t: object) -> bool:
        first, last = self.span()
        return isinstance(t, int) and first is not None and first <= t <= last  # type: ignore[operator]

    def span(self) -> tuple[int | None, int | None]:
        """``(first, last)`` step kept, or ``(None, None)`` when empty."""
        with self._lock:
            if not self._items:
                return None, None
            return self._items[0][0], self._items[-1][0]

    def steps(self) -> list[int]:
        with self._lock:
            return [t for t, _, _ in self._items]

    def get(self, t: int) -> State:
        """The state after step ``t``; KeyError when it is not kept."""
        with self._lock:
            if not self._items:
                raise KeyError(f"step {t} is not kept (the history is empty)")
            first = self._items[0][0]
            i = t - first
            if not 0 <= i < len(self._items):
                raise KeyError(f"step {t} is not kept (kept: {first}..{self._items[-1][0]})")
            return self._items[i][1]

    def latest(self) -> tuple[int, State] | None:
        with self._lock:
            if not self._items:
                return None
            t, s, _ = self._items[-1]
            return t, s

    def matrix(self, t: int) -> Mapping[str, Any]:
        return matrix_of(self.get(t))

    def matrix_before(self, t: int) -> Mapping[str, Any]:
        """``W_{t-1}``: from the kept states, or (a copy of a remote history)
        ``before`` when ``t`` is the latest step; KeyError otherwise."""
        try:
            return self.matrix(t - 1)
        except KeyError:
            latest = self.latest()
            if self.before is not None and latest is not None and latest[0] == t:
                return self.before
            raise

    def changes(self, t: int) -> list[Change]:
        """What step ``t`` changed in the matrix (``W_t`` against ``W_{t-1}``);
        KeyError unless both are known."""
        return matrix_diff(self.matrix_before(t), self.matrix(t))

    def items(self) -> Iterator[tuple[int, State]]:
        with self._lock:
            snapshot = [(t, s) for t, s, _ in self._items]
        return iter(snapshot)

    def nbytes(self) -> int:
        """An estimate of the memory the kept states hold (sizes computed once
        per state, on first ask, when ``max_bytes`` did not need them)."""
        with self._lock:
            items = list(self._items)
        total = 0
        fresh: dict[int, int] = {}
        for t, s, size in items:
            if size is None:
                size = estimate_bytes(s)
                fresh[t] = size
            total += size
        if fresh:
            with self._lock:
                for j, (t, s, size) in enumerate(self._items):
                    if size is None and t in fresh:
                        self._items[j] = (t, s, fresh[t])
                        self._bytes += fresh[t]
        return total
