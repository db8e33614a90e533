"""What every engine offers, and the errors a step can raise.

An engine holds the running state ``y_t = {type: {name: {output: V-value}}}``
(which holds ``W_t`` as Self's output) and advances it one two-stroke step at
a time. Engines differ in how they compute, never in what: every engine is
tested against ``ReferenceEngine``.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..registry import SELF_NAME, SELF_TYPE, Registry, default_registry
from ..vvalue import VValue, add, canon, get_in, is_number, size

State = dict[str, dict[str, dict[str, VValue]]]
Params = Mapping[str, Mapping[str, Mapping[str, Any]]]
NeuronId = tuple[str, str]
Port = tuple[str, str, str]  # (type, name, input-or-output)
MATRIX_OUTPUT = "network_matrix"


@dataclass
class FieldGains:
    """What the modulating fields do to one step (see ``dmm_studio.fields``).

    Every gain multiplies: ``inputs[(f, n)]`` every input of neuron f/n (its
    rows of W: the weights of its incoming wires), ``outputs[(g, m)]`` every
    output of g/m as the down movement reads it (its columns of W),
    ``params[(f, n, p)]`` a numeric param. Self is never modulated. Missing
    entries mean 1. The matrix that Self holds is not changed: only the
    matrix in force for this step is.
    """

    inputs: dict[NeuronId, float] = field(default_factory=dict)
    outputs: dict[NeuronId, float] = field(default_factory=dict)
    params: dict[tuple[str, str, str], float] = field(default_factory=dict)


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


def matrix_of(state: Mapping[str, Any]) -> VValue:
    """``W`` as held by Self in a state (``{}`` when Self has no output)."""
    w = get_in(state, (SELF_TYPE, SELF_NAME, MATRIX_OUTPUT))
    return w if w else {}


def matrix_neurons(w: Mapping[str, Any]) -> dict[NeuronId, None]:
    """The active part of SPEC §3: every neuron that has a row or a column in
    ``w``, in order of first appearance. Keys that start with ':' at the
    neuron levels of W name no neuron and are ignored."""
    active: dict[NeuronId, None] = {}
    for f, names in w.items():
        if f.startswith(":") or not isinstance(names, dict):
            continue
        for n, rows in names.items():
            if n.startswith(":"):
                continue
            active[(f, n)] = None
            if not isinstance(rows, dict):
                continue
            for row in rows.values():
                if not isinstance(row, dict):
                    continue
                for g, ms in row.items():
                    if g.startswith(":") or not isinstance(ms, dict):
                        continue
                    for m in ms:
                        if not m.startswith(":"):
                            active[(g, m)] = None
    return active


def matrix_rows(w: Mapping[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """Every row ``W[f][n][i]`` as ``(f, n, i, row)``. Keys that start with
    ':' and numbers where maps belong at the first three levels are skipped:
    they name no input (files refuse them; a delta may still write them)."""
    for f, names in w.items():
        if f.startswith(":") or type(names) is not dict:
            continue
        for n, rows in names.items():
            if n.startswith(":") or type(rows) is not dict:
                continue
            for i, row in rows.items():
                if not i.startswith(":") and type(row) is dict:
                    yield f, n, i, row


def matrix_wires(w: Mapping[str, Any]) -> Iterator[tuple[Port, Port, Any]]:
    """Every numeric weight of ``w`` at depth six, as ``(to, from, weight)``.

    Entries at another depth or under a ``:`` key are no wires (the down
    movement reads them, but no single output-to-input wire carries them).
    """
    for f, n, i, row in matrix_rows(w):
        for g, ms in row.items():
            if g.startswith(":") or type(ms) is not dict:
                continue
            for m, outs in ms.items():
                if m.startswith(":") or type(outs) is not dict:
                    continue
                for o, x in outs.items():
                    if not o.startswith(":") and is_number(x):
                        yield (f, n, i), (g, m, o), x


def canonical_state(state: Mapping[str, Any]) -> State:
    """A state with every output in canonical form and no ``{}`` outputs."""
    out: State = {}
    for f, names in state.items():
        for n, outputs in names.items():
            for o, v in outputs.items():
                c = canon(v)
                if c:
                    out.setdefault(f, {}).setdefault(n, {})[o] = c
    return out


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
        v = get_in(self.state(), (type, name, output))
        return v if v else {}

    def matrix(self) -> VValue:
        return matrix_of(self.state())

    def active(self) -> list[NeuronId]:
        return list(matrix_neurons(self.matrix()))

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
        from ..fields import compute_gains

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
