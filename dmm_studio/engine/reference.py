"""The reference engine: SPEC §2-4 on plain dicts, line by line.

It is the oracle that every other engine is tested against, so it is short
and plain rather than fast. One step:

1. ``W_t`` is Self's output ``network_matrix``; if it is ``{}`` the network
   has halted.
2. Down movement: every row ``W_t[f][n][i]`` is applied to the state,
   ``x[f][n][i] = sum W_t[f][n][i][g][m][o] * y_t[g][m][o]`` (the reference
   implementation's ``rec-map-lin-comb``).
3. Up movement: every neuron with a row or a column in ``W_t`` computes
   ``y_{t+1}[f][n] = F_f(x[f][n])``; every other neuron has no output.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from ..matrix import matrix_scan
from ..registry import Registry, RegistryError
from ..vvalue import VValueError, _add, _scale, _wrap, canon, is_number, is_tensor, scale, scan
from .base import (
    Engine,
    FieldGains,
    NetworkHalted,
    Params,
    State,
    StepError,
    canonical_state,
    matrix_of,
    matrix_rows,
)


def down_movement(
    w: Mapping[str, Any], y: State, gains: FieldGains | None = None, t: int = 0
) -> dict[str, dict[str, dict[str, Any]]]:
    """``x[f][n][i]`` for every row of ``w`` (rows that reach nothing give {}).

    With field gains, outputs are read times their output gain and each input
    is multiplied by its neuron's input gain. A sum that cannot be formed
    (tensors of two shapes reaching one input, an overflow) is a StepError
    naming the receiving neuron and input.
    """
    if gains is not None and gains.outputs:
        y = {
            f: {
                n: (
                    {o: scale(gains.outputs[(f, n)], v) for o, v in outs.items()}
                    if (f, n) in gains.outputs
                    else outs
                )
                for n, outs in names.items()
            }
            for f, names in y.items()
        }
    x: dict[str, dict[str, dict[str, Any]]] = {}
    for f, n, i, row in matrix_rows(w):
        try:
            xi = _wrap(row_sum(row, y))
            if gains is not None and (f, n) in gains.inputs:
                xi = scale(gains.inputs[(f, n)], xi)
        except (VValueError, ArithmeticError, RuntimeError) as e:
            raise StepError(t, f"input {i!r}: {e}", (f, n)) from e
        x.setdefault(f, {}).setdefault(n, {})[i] = xi
    return x


# ints at or beyond this have no float64: no engine but the reference's exact
# arithmetic could carry them, and no reader (a trace, a plot) could show them
INT_LIMIT = 2**1024


def huge_int(v: Any) -> tuple[tuple[str, ...], int] | None:
    """The path and value of the first int leaf of ``v`` beyond float range
    (``|x| >= 2**1024``), else None. A walk without recursion; paths are built
    only once one is found (this runs on every output of every step: the
    walk is ``vvalue.scan``'s, shared with the size bounds and NaN/Inf checks)."""
    return _huge_int_path(v) if scan(v).huge else None


def _huge_int_path(v: Any) -> tuple[tuple[str, ...], int] | None:
    stack: list[tuple[tuple[str, ...], Any]] = [((), v)]
    while stack:
        path, node = stack.pop()
        for k, x in node.items():
            tx = type(x)
            if tx is int:
                if x >= INT_LIMIT or x <= -INT_LIMIT:
                    return path + (k,), x
            elif tx is dict:
                stack.append((path + (k,), x))
    return None


def _huge_int_error(o: str, found: tuple[tuple[str, ...], int]) -> str:
    path, x = found
    where = f" at {'/'.join(path)}" if path[:-1] or path[-1:] != (":number",) else ""
    return (
        f"output {o!r}{where}: an exact integer of {x.bit_length()} bits outgrew float range"
        " (|x| >= 2**1024): it can be neither computed in floats nor written"
    )


def row_sum(row: Mapping[str, Any], y: Mapping[str, Any]) -> Any:
    """``sum row[g][m][o] * y[g][m][o]`` over the weights of one row of W (the
    reference's rec-map-lin-comb restricted to weights: entries that are no
    weight, see ``matrix.not_weights``, are skipped). A node, not wrapped."""
    acc = None
    for g, ms in row.items():
        yg = y.get(g)
        if yg is None or type(ms) is not dict or g[:1] == ":":
            continue
        for m, os in ms.items():
            ym = yg.get(m)
            if ym is None or type(os) is not dict or m[:1] == ":":
                continue
            for o, wt in os.items():
                yo = ym.get(o)
                if yo is None or o[:1] == ":":
                    continue
                tw = type(wt)
                if not (tw is float or tw is int or (tw is not dict and is_number(wt))):
                    continue
                try:
                    acc = _add(acc, _scale(wt, yo))
                except VValueError as e:
                    raise VValueError(e.reason, (g, m, o, *e.path)) from None
    return acc


class NotAWeightWarning(UserWarning):
    """The network matrix holds an entry that is no weight (it is ignored)."""


def warn_not_weights(bad: list[tuple[tuple[str, ...], Any]], t: int) -> None:
    """One warning for each entry of W that is no weight (shown once per path:
    the warnings module's default; ``t``: the step it was found at, for the
    callers that keep it)."""
    for path, x in bad:
        # no value in the text: one warning per path (and kind), however it changes
        if is_tensor(x):
            what = f"a tensor of shape {list(x.shape)}"
        elif type(x) is dict:
            what = "a map"
        else:
            what = "a number" if is_number(x) else f"a {type(x).__name__}"
        where = "/".join(path)
        warnings.warn(
            f"the network matrix holds {what} at {where}, which is no weight "
            "(a weight is a number six labels down): it is ignored",
            NotAWeightWarning,
            stacklevel=2,
        )


def up_movement(
    active: Mapping[tuple[str, str], Any],
    x: Mapping[str, Mapping[str, Mapping[str, Any]]],
    params: Params,
    registry: Registry,
    t: int,
) -> State:
    """``y_{t+1}[f][n] = F_f(x[f][n])`` for every active neuron."""
    y: State = {}
    for f, n in active:
        try:
            ntype = registry.get(f)
        except RegistryError as e:
            raise StepError(t, str(e), (f, n)) from None
        inputs = x.get(f, {}).get(n, {})
        try:
            outputs = ntype.call(inputs, params.get(f, {}).get(n))
            if not isinstance(outputs, Mapping):
                raise TypeError(f"returned {type(outputs).__name__}, not a map of outputs")
            for o, v in outputs.items():
                try:
                    c = canon(v)
                except VValueError as e:
                    raise VValueError(f"output {o!r}: {e}") from None
                if c:
                    big = huge_int(c)
                    if big is not None:
                        raise StepError(t, _huge_int_error(o, big), (f, n))
                    y.setdefault(f, {}).setdefault(n, {})[o] = c
        except StepError:
            raise
        except Exception as e:  # a neuron's fault is reported, never a crash
            raise StepError(t, f"{type(e).__name__}: {e}", (f, n)) from e
    return y


def step(y: State, params: Params, registry: Registry, t: int = 0, gains: FieldGains | None = None) -> State:
    """``y_{t+1}`` from ``y_t`` (pure: ``y`` is not changed)."""
    w = matrix_of(y)
    if not w:
        raise NetworkHalted(t)
    active, bad = matrix_scan(w)
    if bad:
        warn_not_weights(bad, t)
    x = down_movement(w, y, gains, t + 1)
    return up_movement(active, x, params, registry, t + 1)


class ReferenceEngine(Engine):
    """The oracle: holds ``y_t`` as canonical dicts and applies ``step``."""

    name = "reference"

    def set_state(self, state: Mapping[str, Any]) -> None:
        self._y = canonical_state(state)

    def state(self) -> State:
        return {f: {n: dict(o) for n, o in names.items()} for f, names in self._y.items()}

    def state_view(self) -> State:
        return self._y

    def step(self) -> None:
        gains = self.field_gains()
        self._y = step(self._y, self.effective_params(gains), self.registry, self.t, gains)
        self.t += 1
