"""Bounds on a running network's size: a runaway network stops cleanly.

A network that edits its own matrix can grow without end: a neuron whose
output doubles W each step took 6.1 GB and 123 s a step at 2.1M weights, then
died of a MemoryError that named nothing. So every machine runs under three
bounds, on by default and set per network (the file's ``"limits"``, or
``Machine(limits=...)``):

=================  ===========  ==================================================
key                default      what it bounds
=================  ===========  ==================================================
``max_weights``    1,000,000    the non-zeros of W (every leaf of the matrix)
``max_active``     1,000,000    the active neurons (those with a row or a column)
``max_state_mb``   2,048        an estimate of the state's memory, in MiB
=================  ===========  ==================================================

``null`` (None) switches a bound off. The memory estimate counts
``BYTES_PER_WEIGHT`` for each weight of W (nested dicts with their own
labels: ~880 bytes measured, and more while the engine compiles them),
``BYTES_PER_LEAF`` for each other number and the bytes of each tensor.

The check runs before each step, on what the step will make of W: the
matrix at ``t + 1`` is Self's output, ``accum + delta``, and both inputs are
read from ``y_t``, so its size is known before the step is taken. When a
bound would be crossed, the step is not taken: the machine keeps the last
good state ``y_t`` and ``LimitExceeded`` (a ``StepError``) names the bound,
the size it would reach, and the neuron whose output grew W most (the
largest output read by Self's ``delta``). Other outputs' memory is known
after their step: a neuron output that grows past the memory budget stops
the run before the step after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from . import vvalue as vv
from .matrix import MATRIX_OUTPUT, SELF_NAME, SELF_TYPE, NeuronId, matrix_neurons

Engine = Any  # dmm_studio.engine.base.Engine (a layer above this one)

BYTES_PER_WEIGHT = 1000
BYTES_PER_LEAF = 100
MIB = 1 << 20
M_PORT = (SELF_TYPE, SELF_NAME, MATRIX_OUTPUT)


@dataclass(frozen=True)
class Limits:
    """The bounds a machine runs under (None: no bound)."""

    max_weights: int | None = 1_000_000
    max_active: int | None = 1_000_000
    max_state_mb: float | None = 2048

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> Limits:
        """Limits from a file's ``"limits"`` object: missing keys keep their
        defaults. Raises ValueError naming the first bad key or value."""
        if d is None:
            return cls()
        if not isinstance(d, Mapping):
            raise ValueError(f"'limits' must be an object, not {type(d).__name__}")
        known = [f.name for f in fields(cls)]
        for k, v in d.items():
            if k not in known:
                raise ValueError(f"unknown limit {k!r} (one of {', '.join(known)})")
            if v is None:
                continue
            whole = k != "max_state_mb"
            if isinstance(v, bool) or not isinstance(v, int if whole else (int, float)) or not v >= 0:
                kind = "a whole number" if whole else "a number"
                raise ValueError(f"limit {k!r} must be {kind} >= 0 or null, not {v!r}")
            if not whole and v == float("inf"):
                raise ValueError(f"limit {k!r} must be finite (null switches it off)")
        return cls(**dict(d))

    def to_dict(self) -> dict[str, Any]:
        """The bounds that differ from the defaults (what a file holds)."""
        default = Limits()
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }


class LimitExceeded(Exception):
    """Raised by ``check_next_step``; ``Machine.step`` turns it into a StepError."""

    def __init__(self, limit: str, message: str, neuron: NeuronId | None) -> None:
        self.limit = limit
        self.neuron = neuron
        super().__init__(message)


def state_bytes(state: Mapping[str, Any]) -> tuple[int, int]:
    """``(weights of W, estimated bytes)`` of a state held as dicts."""
    weights = 0
    other = 0
    odd: list[Any] = []  # leaves that are neither int nor float (tensors)
    for f, names in state.items():
        for n, outs in names.items():
            for o, v in outs.items():
                if type(v) is not dict:
                    other += 1
                    odd.append(v)
                elif (f, n, o) == M_PORT:
                    weights += _count(v, odd, 0)
                else:
                    other += _count(v, odd, 0)
    return weights, weights * BYTES_PER_WEIGHT + other * BYTES_PER_LEAF + _tensor_bytes(odd)


def leaves_and_bytes(v: Any) -> tuple[int, int]:
    """Leaves and tensor bytes of a V-value."""
    odd: list[Any] = []
    return _count(v, odd, 0), _tensor_bytes(odd)


def _count(v: dict[str, Any], odd: list[Any], depth: int = 0) -> int:
    """The leaves under ``v``; leaves that are not int or float go to ``odd``.
    ``vvalue.scan``'s walk: any depth, remembered (the NaN/Inf check and the
    engine's check of exact integers ask the same walk of the same outputs)."""
    found = vv.scan(v)
    odd.extend(found.odd)
    return found.leaves


def _tensor_bytes(odd: list[Any]) -> int:
    return sum(x.numel() * x.element_size() for x in odd if vv.is_tensor(x))


def _size(v: Any) -> int:
    return leaves_and_bytes(v)[0] if isinstance(v, dict) else (1 if v else 0)


def _self_sources(w: Mapping[str, Any]) -> list[tuple[str, tuple[str, str, str], Any]]:
    """``(input, source port, weight)`` for every wire into Self in ``w``."""
    found = []
    rows = w.get(SELF_TYPE, {}).get(SELF_NAME) if isinstance(w.get(SELF_TYPE), dict) else None
    if not isinstance(rows, dict):
        return found
    for i, row in rows.items():
        if i.startswith(":") or type(row) is not dict:
            continue
        for g, ms in row.items():
            if g.startswith(":") or type(ms) is not dict:
                continue
            for m, os in ms.items():
                if m.startswith(":") or type(os) is not dict:
                    continue
                for o, wt in os.items():
                    if not o.startswith(":"):
                        found.append((i, (g, m, o), wt))
    return found


class LimitCheck:
    """What ``Machine.step`` runs before each step: ``check(engine)`` raises
    ``LimitExceeded`` when the step from ``engine.t`` would cross a bound (see
    the module's doc). Cheap while W cannot grow (nothing reaches Self's
    delta) and the state is below the bounds: the engine's ``footprint()``,
    the sizes of the outputs Self reads; W is built ahead only near a bound."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.engine: Any = None  # the engine it was made for (Machine's bookkeeping)
        # (t, n): at most n neurons are active at t (None: not known)
        self._active: tuple[int, int] | None = None

    def forget(self) -> None:
        """The state was edited from outside: count again at the next check."""
        self._active = None

    def check(self, engine: Engine) -> None:
        limits = self.limits
        t = engine.t
        weights, nbytes = engine.footprint()
        w = engine.output(*M_PORT)
        sources = _self_sources(w) if w else []
        bound = 0  # the weights W_{t+1} can have at most
        grow: list[tuple[int, tuple[str, str, str]]] = []
        for _, port, _ in sources:
            if port == M_PORT:
                size = weights
            else:
                size = _size(engine.output(*port))
                if size:
                    grow.append((size, port))
            bound += size
        growth = sum(s for s, _ in grow)
        max_bytes = None if limits.max_state_mb is None else limits.max_state_mb * MIB
        active = None  # at most this many neurons active at t + 1
        if self._active is not None and self._active[0] == t:
            active = self._active[1] + 2 * growth  # a new weight makes at most two neurons active
        if (
            (limits.max_weights is None or bound <= limits.max_weights)
            and (max_bytes is None or nbytes + max(0, bound - weights) * BYTES_PER_WEIGHT <= max_bytes)
            and (limits.max_active is None or (active is not None and active <= limits.max_active))
        ):
            if active is not None:
                self._active = (t + 1, active)
            return
        size, grower = max(grow) if grow else (0, None)
        who: NeuronId | None = (grower[0], grower[1]) if grower else None
        by = f" (grown by {grower[0]}/{grower[1]}'s output {grower[2]!r}, {size:,} entries)" if grower else ""
        # With the usual wiring, a count without building W ahead (which would take
        # as much memory as the step itself) shows most crossings
        low = _lower_bound(engine, w, sources, weights)
        if low is not None:
            least, exact = low
            n = f"{'' if exact else 'at least '}{least:,}"
            if limits.max_weights is not None and least > limits.max_weights:
                raise LimitExceeded(
                    "max_weights",
                    f"the network matrix would have {n} weights, over the limit max_weights = "
                    f"{limits.max_weights:,}{by}",
                    who,
                )
            est = nbytes + (least - weights) * BYTES_PER_WEIGHT
            if max_bytes is not None and est > max_bytes:
                raise LimitExceeded(
                    "max_state_mb",
                    f"the state would take {'' if exact else 'at least '}about {est / MIB:,.0f} MiB, "
                    f"over the limit max_state_mb = {limits.max_state_mb:,g}{by}",
                    who,
                )
        # near a bound: what the step makes of W, exactly
        w_next = _next_matrix(engine, w, sources)
        n_next = _size(w_next)
        if limits.max_weights is not None and n_next > limits.max_weights:
            raise LimitExceeded(
                "max_weights",
                f"the network matrix would have {n_next:,} weights, over the limit max_weights = "
                f"{limits.max_weights:,}{by}",
                who,
            )
        n_active = len(matrix_neurons(w_next))
        if limits.max_active is not None and n_active > limits.max_active:
            raise LimitExceeded(
                "max_active",
                f"{n_active:,} neurons would be active, over the limit max_active = {limits.max_active:,}{by}",
                who,
            )
        if max_bytes is not None:
            est = nbytes + (n_next - weights) * BYTES_PER_WEIGHT
            if est > max_bytes:
                if not grow:
                    who = _biggest_output(engine.state_view())
                    by = f" (the largest output is {who[0]}/{who[1]}'s)" if who else ""
                raise LimitExceeded(
                    "max_state_mb",
                    f"the state would take about {est / MIB:,.0f} MiB, over the limit max_state_mb = "
                    f"{limits.max_state_mb:,g}{by}",
                    who,
                )
        self._active = (t + 1, n_active)


def _lower_bound(
    engine: Engine, w: Any, sources: list[tuple[str, tuple[str, str, str], Any]], weights: int
) -> tuple[int, bool] | None:
    """``(n, exact)``: W_{t+1} has at least ``n`` weights (exactly, when
    ``exact``), counted without building it; None unless W is carried by
    ``accum`` with weight 1 and one other output reaches ``delta``."""
    carry = ("accum", M_PORT, 1)
    rest = [s for s in sources if s != carry]
    if len(rest) != len(sources) - 1 or len(rest) != 1:
        return None
    i, port, wt = rest[0]
    if i != "delta" or port == M_PORT or not vv.is_number(wt):
        return None
    v = engine.output(*port)
    if type(v) is not dict:
        return None
    new, hits = _new_and_hits(v, w)
    # each hit may cancel a weight of W; a new entry cannot be cancelled
    return weights - hits + new, hits == 0


def _new_and_hits(v: dict[str, Any], w: Any) -> tuple[int, int]:
    """Leaves of ``v`` with no leaf at their path in ``w``, and those with one."""
    new = hits = 0
    stack: list[tuple[dict[str, Any], Any]] = [(v, w)]
    while stack:
        node, wn = stack.pop()
        for k, x in node.items():
            wx = wn.get(k) if type(wn) is dict else None
            if type(x) is dict:
                if type(wx) is dict:
                    stack.append((x, wx))
                elif wx is None:
                    new += _size(x)
                else:  # W's leaf goes under x's ':number' (and may meet one there)
                    new += _size(x) - 1
                    hits += 1
            elif wx is None:
                new += 1
            elif type(wx) is dict and vv.NUMBER not in wx and vv.TENSOR not in wx:
                new += 1  # x goes under W's ':number', which is empty
            else:
                hits += 1
    return new, hits


def _next_matrix(engine: Engine, w: Any, sources: list[tuple[str, tuple[str, str, str], Any]]) -> Any:
    """``W_{t+1}`` = accum + delta, both read from ``y_t`` (Self's rows of ``w``)."""
    y: dict[str, Any] = {}
    for _, (g, m, o), _ in sources:
        y.setdefault(g, {}).setdefault(m, {})[o] = w if (g, m, o) == M_PORT else engine.output(g, m, o)
    rows = w[SELF_TYPE][SELF_NAME] if sources else {}
    x = {
        i: vv._wrap(vv.lin_comb(row, y))
        for i, row in rows.items()
        if i in ("accum", "delta") and type(row) is dict
    }
    return vv.add(x.get("accum", {}), x.get("delta", {}))


def _biggest_output(state: Mapping[str, Any]) -> NeuronId | None:
    best, who = -1, None
    for f, names in state.items():
        for n, outs in names.items():
            for o, v in outs.items():
                if (f, n, o) != M_PORT:
                    size = sum(leaves_and_bytes(v)) if isinstance(v, dict) else 1
                    if size > best:
                        best, who = size, (f, n)
    return who
