"""The running state: what the machine shows while it runs, as a small model
of its own that the canvas, the Self view and the inspector read.

- ``matrix``: the running matrix ``W_t`` (None at design time: before the
  first step, after Reset, or when another file is opened);
- ``wires``: its weights as ``{(to, from): weight}`` (None at design time);
- ``active``: the neurons of ``W_t`` (the active part);
- ``t``: the step it belongs to (None when not known);
- ``runtime_neurons(design)``: the neurons ``W_t`` has that the design lacks
  (the network made them through Self's delta).

It is fed from the runner's frames (``show``), from live edits of ``W_t``
alone (``set_weight``) and from Reset (``clear``), and announces each change
on ``changed`` (psygnal, Qt-free like the design model). A frame whose
``W_t`` equals the last one changes nothing and announces nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from psygnal import Signal

from ..matrix import NeuronId, Port, matrix_neurons, matrix_wires

WireKey = tuple[Port, Port]


class RunningState:
    """``W_t`` and what is read from it; see the module docstring."""

    changed = Signal()
    """``W_t`` (or the design-time state) changed."""

    def __init__(self) -> None:
        self.matrix: dict[str, Any] | None = None
        self.wires: dict[WireKey, Any] | None = None
        self.active: frozenset[NeuronId] = frozenset()
        self.t: int | None = None

    @property
    def running(self) -> bool:
        """Whether a ``W_t`` is shown (False at design time)."""
        return self.matrix is not None

    def show(self, w: dict[str, Any], active: Iterable[NeuronId] | None = None, t: int | None = None) -> bool:
        """Follow a frame's ``W_t`` (``active``: its neurons when the caller has
        them). Returns False, announcing nothing, when ``W_t`` equals the last one."""
        if self.matrix is not None and _same(w, self.matrix):
            self.t = t if t is not None else self.t
            return False
        self.matrix = w
        self.wires = {(to, frm): x for to, frm, x in matrix_wires(w)}
        self.active = frozenset(active) if active is not None else frozenset(matrix_neurons(w))
        self.t = t
        self.changed.emit()
        return True

    def clear(self, always: bool = False) -> None:
        """Back to design time (Reset; ``always``: announce it even when already
        there, as when another file is opened and ``W_0`` is another one)."""
        if self.matrix is None and self.wires is None and not always:
            return
        self.matrix = None
        self.wires = None
        self.active = frozenset()
        self.t = None
        self.changed.emit()

    def weight(self, key: WireKey) -> Any:
        """The weight of a wire in ``W_t`` (0: none; None at design time)."""
        if self.wires is None:
            return None
        return self.wires.get(key, 0)

    def set_weight(self, key: WireKey, w: Any) -> None:
        """A weight of ``W_t`` edited by hand, before the next frame confirms it."""
        if self.wires is None:
            return
        if w:
            self.wires[key] = w
        else:
            self.wires.pop(key, None)

    def runtime_neurons(self, design: Iterable[NeuronId]) -> set[NeuronId]:
        """The neurons of ``W_t`` that ``design`` lacks."""
        return set(self.active) - set(design)


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except (TypeError, RuntimeError, ValueError):  # tensors in the matrix
        return False
