"""What every engine offers, and the errors a step can raise.

An engine holds the running state ``y_t = {type: {name: {output: V-value}}}``
(which holds ``W_t`` as Self's output) and advances it one two-stroke step at
a time. Engines differ in how they compute, never in what: every engine is
tested against ``ReferenceEngine``.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from ..fields import FieldGains, compute_gains
from ..limits import state_bytes
from ..matrix import (
    MATRIX_OUTPUT,
    SELF_NAME,
    SELF_TYPE,
    NeuronId,
    Params,
    Port,
    State,
    canonical_state,
    matrix_neurons,
    matrix_of,
    matrix_rows,
    matrix_wires,
)
from ..registry import Registry, default_registry
from ..vvalue import VValue, add, get_in, size

# the matrix vocabulary is dmm_studio.matrix; these names stay importable from
# here for engines and packs written against the older layout
__all__ = [
    "MATRIX_OUTPUT",
    "Engine",
    "FieldGains",
    "NetworkHalted",
    "NeuronId",
    "Params",
    "Port",
    "State",
    "StepError",
    "canonical_state",
    "matrix_neurons",
    "matrix_of",
    "matrix_rows",
    "matrix_wires",
]


class NetworkHalted(Exception):
    """The network matrix is empty: no neuron is active, nothing more happens."""

    def __init__(self, t: int) -> None:
        self.t = t
        super().__init__(f"the network matrix is empty after step {t}: the network halted")


class StepError(Exception):
    """A neuron failed during a step; ``neuron`` names it when known."""

    def __init__(self, t: int, message: str, neuron: NeuronId | None = None) -> None:
        self.t = t
        self.neuron = neuron
        where = f"neuron {neuron[0]}/{neuron[1]}: " if neuron else ""
        super().__init__(f"step {t}: {where}{message}")


class Engine(ABC):
    """A running network: the state ``y_t`` and the step that advances it."""

    name = "abstract"

    def __init__(
        self,
        state: Mapping[str, Any],
        *,
        params: Params | None = None,
        fields: list[Any] | None = None,
        layout: Mapping[str, Any] | None = None,
        registry: Registry | None = None,
    ) -> None:
        self.registry = registry or default_registry()
        self.params: dict[str, dict[str, dict[str, Any]]] = copy.deepcopy(dict(params or {}))
        # fields act on neurons by their canvas position (the layout)
        self.fields: list[Any] = copy.deepcopy(list(fields or []))
        self.layout: dict[str, Any] = copy.deepcopy(dict(layout or {}))
        self.t = 0
        self.set_state(state)

    # -- what subclasses provide
    @abstractmethod
    def set_state(self, state: Mapping[str, Any]) -> None:
        """Replace the whole running state (``t`` is kept)."""

    @abstractmethod
    def state(self) -> State:
        """``y_t`` as canonical nested dicts (a fresh copy the caller may keep)."""

    @abstractmethod
    def step(self) -> None:
        """Advance one step. Raises NetworkHalted or StepError."""

    def state_view(self) -> State:
        """``y_t`` without a copy, for readers that keep it and never change it
        (the inspectors' recorder, after every step). Engines replace their
        state at each step and each edit, never change it in place, so what
        a reader keeps stays ``y_t``."""
        return self.state()

    # -- shared conveniences
    def output(self, type: str, name: str, output: str) -> VValue:
        v = get_in(self.state_view(), (type, name, output))
        return v if v else {}

    def matrix(self) -> VValue:
        return matrix_of(self.state())

    def active(self) -> list[NeuronId]:
        return list(matrix_neurons(self.matrix()))

    def footprint(self) -> tuple[int, int]:
        """``(weights, bytes)``: the non-zeros of ``W_t`` and an estimate of the
        memory ``y_t`` takes (``dmm_studio.limits``: ~1,000 bytes a weight, 100
        a number, tensors by their bytes). ``Machine`` checks it before every
        step: engines that do not hold the state as dicts override it."""
        return state_bytes(self.state_view())

    def all_finite(self) -> bool | None:
        """Whether every number of ``y_t`` is finite, when the engine can tell
        without building the state as dicts (None: it cannot, and a caller
        walks ``state_view()``; False: something is NaN or infinite, and a
        walk of ``state_view()`` names it). Engines that hold the state in
        tensors override it: ``Machine.non_finite`` runs after every step of a
        CLI run."""
        return None

    def stats(self) -> dict[str, int]:
        w = self.matrix()
        return {"t": self.t, "active": len(matrix_neurons(w)), "nonzeros": size(w)}

    def edit_matrix(self, delta: Mapping[str, Any]) -> None:
        """``W_t += delta`` between steps, as if it had reached Self's delta.

        Engines that compile W override this to patch only what changes.
        """
        state = self.state()
        outs = state.setdefault(SELF_TYPE, {}).setdefault(SELF_NAME, {})
        outs[MATRIX_OUTPUT] = add(outs.get(MATRIX_OUTPUT, {}), delta)
        self.set_state(state)

    def set_param(self, type: str, name: str, param: str, value: Any) -> None:
        self.params.setdefault(type, {}).setdefault(name, {})[param] = value

    def field_gains(self) -> FieldGains | None:
        """The fields' gains for the step from ``t`` to ``t + 1`` (None: no fields)."""
        if not self.fields:
            return None
        return compute_gains(self.fields, self.layout, self.t, self.output)

    def effective_params(self, gains: FieldGains | None) -> Params:
        """Params with the fields' param gains applied (numbers only)."""
        if gains is None or not gains.params:
            return self.params
        out = {f: {n: dict(p) for n, p in ns.items()} for f, ns in self.params.items()}
        for (f, n, p), g in gains.params.items():
            ntype = self.registry.get(f) if f in self.registry else None
            base = out.get(f, {}).get(n, {}).get(p, ntype.params.get(p) if ntype else None)
            if isinstance(base, (int, float)) and not isinstance(base, bool):
                out.setdefault(f, {}).setdefault(n, {})[p] = base * g
        return out

    def run(self, steps: int) -> None:
        for _ in range(steps):
            self.step()
