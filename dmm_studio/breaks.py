"""Break conditions: what stops a run, checked after each step, and who is at fault.

A condition looks at the state after step ``t`` (and the state before it)
and returns a ``BreakHit`` that names the neuron at fault, or None:

* ``NonFinite``: a NaN or an infinity in any output (names the neuron, the
  output and the path inside the V-value);
* ``MatrixBound``: the matrix's max-norm or its number of weights passes a
  bound (names the neuron that wrote the offending weight when it can tell);
* ``TopologyChange``: the set of wires changed (names the writer of the
  first wire added or removed);
* ``ProbeCondition``: a scalar on an output compared with a value
  (``>``, ``>=``, ``<``, ``<=``, ``==``, ``!=``).

"Who wrote a weight" follows SPEC §4: the matrix changes only through Self's
``delta`` input, so a weight that changed at step ``t`` was written by the
neurons wired into ``self/self/delta`` in ``W_{t-1}`` whose output (in
``y_{t-1}``) holds an entry at that weight's path.

Conditions serialise to plain dicts (``to_dict`` / ``condition_from_dict``)
so the studio can keep them with the layout. No Qt here.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .history import matrix_diff
from .matrix import (
    MATRIX_OUTPUT,
    SELF_NAME,
    SELF_TYPE,
    NeuronId,
    Port,
    Wire,
    matrix_entries,
    matrix_of,
)
from .nonfinite import NonFiniteWatch, first_non_finite
from .vvalue import NUMBER, get_in, is_number, is_tensor, max_norm

# The studio's NaN/Inf break is on until the user turns it off: a stream that
# goes NaN or infinite pauses the run and names the neuron (issue 11). It walks
# the outputs that changed after every step (bench/probes.py measures its cost).
NONFINITE_ON_BY_DEFAULT = True


@dataclass
class BreakHit:
    """A condition that fired after step ``t``."""

    condition: str
    t: int
    message: str
    neuron: NeuronId | None = None
    port: str | None = None  # the output (or input) at fault, when known
    path: tuple[str, ...] = ()  # inside the V-value, when it matters
    wire: Wire | None = None

    def __str__(self) -> str:
        return f"step {self.t}: {self.message}"


class BreakCondition:
    """Base: ``check(t, state, prev)`` returns a BreakHit or None."""

    kind = "abstract"
    enabled: bool = True

    def check(self, t: int, state: Mapping[str, Any], prev: Mapping[str, Any] | None) -> BreakHit | None:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "enabled": self.enabled}

    def describe(self) -> str:
        return self.kind


# ---------------------------------------------------------------- NaN / Inf


@dataclass
class NonFinite(BreakCondition):
    """A NaN or infinity in any stream."""

    enabled: bool = True
    kind = "non_finite"
    _watch: NonFiniteWatch = field(default_factory=NonFiniteWatch, repr=False, compare=False)

    def check(self, t: int, state: Mapping[str, Any], prev: Mapping[str, Any] | None) -> BreakHit | None:
        found = self._watch.check(t, state)
        if found is None:
            return None
        return BreakHit(self.kind, t, found.message, found.neuron, found.output, found.path)

    def describe(self) -> str:
        return "NaN or Inf in any stream"


# ---------------------------------------------------------------- the matrix


def matrix_writers(prev: Mapping[str, Any] | None, path: tuple[str, ...]) -> list[NeuronId]:
    """The neurons whose output, wired into Self's delta in ``prev``'s matrix,
    holds an entry at ``path`` of the matrix (the writers of that weight)."""
    if prev is None:
        return []
    row = get_in(matrix_of(prev), (SELF_TYPE, SELF_NAME, "delta"))
    if not isinstance(row, dict):
        return []
    found: list[NeuronId] = []
    for g, ms in row.items():
        if not isinstance(ms, dict):
            continue
        for m, outs in ms.items():
            if not isinstance(outs, dict):
                continue
            for o in outs:
                v = get_in(prev, (g, m, o))
                if isinstance(v, dict) and get_in(v, path) is not None and (g, m) not in found:
                    found.append((g, m))
    return found


def _fault_for_wire(wire: Wire, prev: Mapping[str, Any] | None) -> NeuronId:
    writers = matrix_writers(prev, wire[0] + wire[1])
    return writers[0] if writers else (wire[0][0], wire[0][1])


def _wire_text(wire: Wire) -> str:
    return f"{'/'.join(wire[1])} -> {'/'.join(wire[0])}"


@dataclass
class MatrixBound(BreakCondition):
    """The matrix's max-norm passes ``max_norm`` or its weight count passes ``max_size``."""

    max_norm: float | None = None
    max_size: int | None = None
    enabled: bool = True
    kind = "matrix_bound"

    def check(self, t: int, state: Mapping[str, Any], prev: Mapping[str, Any] | None) -> BreakHit | None:
        w = matrix_of(state)
        if self.max_norm is not None and max_norm(w) > self.max_norm:
            entries = matrix_entries(w)
            wire, x = max(entries.items(), key=lambda kv: _abs(kv[1]))
            fault = _fault_for_wire(wire, prev)
            msg = (
                f"matrix max-norm {_abs(x):.6g} > {self.max_norm:g} at {_wire_text(wire)}"
                f" (written by {fault[0]}/{fault[1]})"
            )
            return BreakHit(self.kind, t, msg, fault, None, wire[0] + wire[1], wire)
        if self.max_size is not None:
            entries = matrix_entries(w)
            if len(entries) > self.max_size:
                added = [e for e in entries if prev is None or e not in matrix_entries(matrix_of(prev))]
                wire = sorted(added)[0] if added else sorted(entries)[0]
                fault = _fault_for_wire(wire, prev)
                msg = (
                    f"matrix has {len(entries)} weights > {self.max_size}"
                    f" (added {_wire_text(wire)}, written by {fault[0]}/{fault[1]})"
                )
                return BreakHit(self.kind, t, msg, fault, None, wire[0] + wire[1], wire)
        return None

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "max_norm": self.max_norm, "max_size": self.max_size}

    def describe(self) -> str:
        parts = []
        if self.max_norm is not None:
            parts.append(f"max-norm > {self.max_norm:g}")
        if self.max_size is not None:
            parts.append(f"size > {self.max_size}")
        return "matrix " + " or ".join(parts) if parts else "matrix bound (none set)"


def _abs(x: Any) -> float:
    if is_tensor(x):
        return float(x.detach().abs().max()) if x.numel() else 0.0
    return abs(x)


@dataclass
class TopologyChange(BreakCondition):
    """The set of wires of the matrix changed (a wire added or removed)."""

    enabled: bool = True
    kind = "topology"

    def check(self, t: int, state: Mapping[str, Any], prev: Mapping[str, Any] | None) -> BreakHit | None:
        if prev is None:
            return None
        old, new = matrix_of(prev), matrix_of(state)
        if old is new:
            return None
        changes = [c for c in matrix_diff(old, new) if c.kind != "changed"]
        if not changes:
            return None
        c = changes[0]
        wire = (c.to, c.frm)
        fault = _fault_for_wire(wire, prev)
        more = f" and {len(changes) - 1} more" if len(changes) > 1 else ""
        msg = f"wire {c.kind} {_wire_text(wire)}{more} (written by {fault[0]}/{fault[1]})"
        return BreakHit(self.kind, t, msg, fault, None, wire[0] + wire[1], wire)

    def describe(self) -> str:
        return "topology change (a wire added or removed)"


# ---------------------------------------------------------------- probes

OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


def scalar_at(state: Mapping[str, Any], port: Port, path: tuple[str, ...] = ()) -> float | None:
    """The number at ``path`` of an output (``()``: its ``:number``); None when absent
    (an absent output reads as 0, as the down movement reads it)."""
    v = get_in(state, port)
    if v is None:
        return 0.0
    return scalar_of(v, path)


def scalar_of(v: Any, path: tuple[str, ...] = ()) -> float | None:
    """The number at ``path`` of the V-value ``v`` (``()``: its ``:number``; a
    one-element tensor counts); 0.0 when absent, None when it is no scalar."""
    node = get_in(v, path) if path else v
    if node is None:
        return 0.0
    if isinstance(node, dict):
        node = node.get(NUMBER, 0.0)
    if is_tensor(node):
        return float(node) if node.numel() == 1 else None
    return float(node) if is_number(node) else None


@dataclass
class ProbeCondition(BreakCondition):
    """A scalar on an output compared with ``value`` (e.g. ``accum/count/single > 10``)."""

    port: Port = ("", "", "")
    op: str = ">"
    value: float = 0.0
    path: tuple[str, ...] = ()
    enabled: bool = True
    kind = "probe"

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"unknown comparison {self.op!r} (one of {' '.join(OPS)})")
        self.port = tuple(self.port)  # type: ignore[assignment]
        self.path = tuple(self.path)

    def check(self, t: int, state: Mapping[str, Any], prev: Mapping[str, Any] | None) -> BreakHit | None:
        x = scalar_at(state, self.port, self.path)
        if x is None or not OPS[self.op](x, self.value):
            return None
        return BreakHit(
            self.kind,
            t,
            f"{self.describe()} (value {x:.6g})",
            (self.port[0], self.port[1]),
            self.port[2],
            self.path,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "port": list(self.port),
            "op": self.op,
            "value": self.value,
            "path": list(self.path),
        }

    def describe(self) -> str:
        where = "/".join(self.port) + ("/" + "/".join(self.path) if self.path else "")
        return f"{where} {self.op} {self.value:g}"


# ---------------------------------------------------------------- sets of conditions

KINDS: dict[str, type[BreakCondition]] = {
    "non_finite": NonFinite,
    "matrix_bound": MatrixBound,
    "topology": TopologyChange,
    "probe": ProbeCondition,
}


def condition_from_dict(d: Mapping[str, Any]) -> BreakCondition:
    d = dict(d)
    kind = d.pop("kind", None)
    if kind not in KINDS:
        raise ValueError(f"unknown break condition {kind!r} (one of {', '.join(KINDS)})")
    if kind == "probe":
        d["port"] = tuple(d.get("port", ("", "", "")))
        d["path"] = tuple(d.get("path", ()))
    return KINDS[kind](**d)  # type: ignore[arg-type]


@dataclass
class Breaks:
    """The conditions in force; ``check`` returns the first hit (in order)."""

    conditions: list[BreakCondition] = field(default_factory=list)

    def check(
        self,
        t: int,
        state: Mapping[str, Any],
        prev: Mapping[str, Any] | None = None,
        all_finite: Callable[[], bool | None] | None = None,
    ) -> BreakHit | None:
        """``all_finite``: the engine's own cheap answer (``Engine.all_finite``:
        one reduction per part of its state), asked at most once and only when
        a NaN/Inf condition is on; True skips that condition's walk of ``state``."""
        finite: bool | None = None
        for c in list(self.conditions):
            if c.enabled:
                if isinstance(c, NonFinite) and all_finite is not None:
                    if finite is None:
                        finite = bool(all_finite())
                    if finite:
                        continue
                hit = c.check(t, state, prev)
                if hit is not None:
                    return hit
        return None

    def __bool__(self) -> bool:
        return any(c.enabled for c in self.conditions)

    def to_list(self) -> list[dict[str, Any]]:
        return [c.to_dict() for c in self.conditions]

    @classmethod
    def from_list(cls, items: Iterable[Mapping[str, Any]]) -> Breaks:
        return cls([condition_from_dict(d) for d in items])


__all__ = [
    "BreakCondition",
    "BreakHit",
    "Breaks",
    "MATRIX_OUTPUT",
    "NONFINITE_ON_BY_DEFAULT",
    "MatrixBound",
    "NonFinite",
    "ProbeCondition",
    "TopologyChange",
    "condition_from_dict",
    "first_non_finite",
    "matrix_writers",
    "scalar_at",
]
