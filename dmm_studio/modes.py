"""Mute and bypass: neurons taken out of the matrix in force while the design keeps them.

A neuron's mode is its design's ``layout["type/name"]["mode"]``
(``Network.mode``): ``"mute"``, ``"bypass"`` or absent. docs/semantics.md
("Mute and bypass") is the definition; in short, for the step from ``t`` to
``t + 1``, with ``W_t`` the matrix in ``y_t``:

* **mute**: the muted neuron's rows and columns are out of the matrix in
  force (nothing reaches it, nothing reads it, it does not compute), and it
  keeps the outputs it had (``y_{t+1}[m] = y_t[m]`` while it is in ``W_t``),
  so unmuting resumes it where it was.
* **bypass**: the bypassed neuron's rows are out of the matrix in force (its
  function never sees its inputs); its inputs ``x[b]`` are computed as the
  down movement would (the fields' gains included) and passed to the outputs
  of the same names, ``y_{t+1}[b][o] = x[b][o]``; an output without an input
  of its name is zero (absent). Readers read those outputs as usual.
* ``W_t``'s entries of muted and bypassed neurons are kept: Self's
  ``network_matrix`` at ``t + 1`` is what the step made of the matrix in
  force plus the entries held out. With Self's usual ``accum`` row (weight 1
  from its own output) that is ``W_t + delta``, as without modes.

It is carried out once, here, around any engine's ``step``: the engine runs
the state with the matrix in force (``in_force``), and ``finish`` puts back
what was held out. Engines know nothing of modes, so every engine agrees on
muted and bypassed networks as it agrees on any other. A step with modes
replaces the engine's state twice (``Engine.set_state``), so on large
compiled networks it costs a recompilation; a network without muted or
bypassed neurons runs as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import vvalue as vv
from .engine.base import Engine, NetworkHalted, StepError
from .matrix import MATRIX_OUTPUT, SELF_ID, SELF_NAME, SELF_TYPE, NeuronId, State, matrix_of
from .network import NEURON_MODES
from .registry import Registry, RegistryError

__all__ = ["NEURON_MODES", "ModeStep", "rename_columns", "split_matrix", "step_with_modes"]

CARRIER_TYPE = "identity"
"""The type of the neurons that carry a bypassed neuron's outputs to its
readers during a step (SPEC §5's identity: on no input, no output)."""


def split_matrix(
    w: Mapping[str, Any], rows_out: set[NeuronId] | frozenset[NeuronId], cols_out: set[NeuronId] | frozenset[NeuronId]
) -> tuple[dict[str, Any], dict[str, Any], set[NeuronId]]:
    """``(in_force, held, read)``: ``w`` split into the entries that stay in
    force and those held out, the rows of the neurons in ``rows_out`` and the
    columns of those in ``cols_out``; ``read``: the neurons of ``rows_out``
    that some row of ``w`` reads (a column). ``w`` is not changed; the two
    parts share its leaves and add up to ``w``."""
    keep: dict[str, Any] = {}
    held: dict[str, Any] = {}
    read: set[NeuronId] = set()
    col_types = {g for g, _ in cols_out} | {g for g, _ in rows_out}
    for f, names in w.items():
        if type(names) is not dict:
            keep[f] = names
            continue
        for n, inputs in names.items():
            if (f, n) in rows_out:
                held.setdefault(f, {})[n] = inputs
                if type(inputs) is dict:
                    _note_reads(inputs, rows_out, col_types, read)
                continue
            if type(inputs) is not dict:
                keep.setdefault(f, {})[n] = inputs
                continue
            kept_inputs: dict[str, Any] = {}
            for i, row in inputs.items():
                if type(row) is not dict or not (col_types & row.keys()):
                    kept_inputs[i] = row
                    continue
                kept_row: dict[str, Any] = {}
                for g, ms in row.items():
                    if type(ms) is not dict or g not in col_types:
                        kept_row[g] = ms
                        continue
                    kept_ms: dict[str, Any] = {}
                    for m, os in ms.items():
                        if (g, m) in rows_out:
                            read.add((g, m))
                        if (g, m) in cols_out:
                            held.setdefault(f, {}).setdefault(n, {}).setdefault(i, {}).setdefault(g, {})[m] = os
                        else:
                            kept_ms[m] = os
                    if kept_ms:
                        kept_row[g] = kept_ms
                if kept_row:
                    kept_inputs[i] = kept_row
            if kept_inputs:
                keep.setdefault(f, {})[n] = kept_inputs
        if f in keep and not keep[f]:
            del keep[f]
    return keep, held, read


def rename_columns(w: Mapping[str, Any], names: Mapping[NeuronId, NeuronId]) -> dict[str, Any]:
    """``w`` with the columns of each neuron ``old`` of ``names`` read from
    ``names[old]`` instead (rows that read none of them are shared, ``w`` is
    not changed; two columns that meet are added)."""
    types = {g for g, _ in names}
    out: dict[str, Any] = dict(w)
    for f, rows in w.items():
        if type(rows) is not dict:
            continue
        new_rows = None
        for n, inputs in rows.items():
            if type(inputs) is not dict:
                continue
            new_inputs = None
            for i, row in inputs.items():
                if type(row) is not dict or not (types & row.keys()):
                    continue
                moved: dict[str, Any] = {}
                kept: dict[str, Any] = {}
                for g, ms in row.items():
                    if g not in types or type(ms) is not dict:
                        kept[g] = ms
                        continue
                    stay = {}
                    for m, os in ms.items():
                        to = names.get((g, m))
                        if to is None:
                            stay[m] = os
                        else:
                            moved.setdefault(to[0], {})[to[1]] = os
                    if stay:
                        kept[g] = stay
                if not moved:
                    continue
                new_row = vv.add(kept, moved) if kept else moved
                if new_inputs is None:
                    new_inputs = dict(inputs)
                new_inputs[i] = new_row
            if new_inputs is not None:
                if new_rows is None:
                    new_rows = dict(rows)
                new_rows[n] = new_inputs
        if new_rows is not None:
            out[f] = new_rows
    return out


def _note_reads(inputs: Mapping[str, Any], rows_out: Any, col_types: set[str], read: set[NeuronId]) -> None:
    for row in inputs.values():
        if type(row) is not dict:
            continue
        for g in col_types & row.keys():
            ms = row[g]
            if type(ms) is dict:
                read.update((g, m) for m in ms if (g, m) in rows_out)


def _with_matrix(y: State, w: Mapping[str, Any]) -> State:
    out = dict(y)
    selfs = dict(out.get(SELF_TYPE, {}))
    outs = dict(selfs.get(SELF_NAME, {}))
    if w:
        outs[MATRIX_OUTPUT] = w
    else:
        outs.pop(MATRIX_OUTPUT, None)
    if outs:
        selfs[SELF_NAME] = outs
    else:
        selfs.pop(SELF_NAME, None)
    if selfs:
        out[SELF_TYPE] = selfs
    else:
        out.pop(SELF_TYPE, None)
    return out


def _put(y: State, nid: NeuronId, outs: Mapping[str, Any]) -> None:
    f, n = nid
    if outs:
        y.setdefault(f, {})[n] = dict(outs)
    elif n in y.get(f, {}):
        del y[f][n]
        if not y[f]:
            del y[f]


class ModeStep:
    """One step with modes, in two halves around the engine's own step.

    ``in_force(y)`` gives the state the engine runs (the matrix in force);
    ``finish(y1)`` turns what it made into ``y_{t+1}``. ``modes``:
    ``{(type, name): "mute" | "bypass"}`` (Self's is ignored).
    """

    def __init__(self, modes: Mapping[NeuronId, str], registry: Registry) -> None:
        self.mute = frozenset(nid for nid, m in modes.items() if m == "mute" and nid != SELF_ID)
        self.bypass = frozenset(nid for nid, m in modes.items() if m == "bypass" and nid != SELF_ID)
        self.registry = registry
        self._held: dict[str, Any] = {}
        self._keep: dict[NeuronId, Any] = {}
        self._through: dict[NeuronId, dict[str, Any]] = {}
        self._carriers: dict[NeuronId, NeuronId] = {}

    def in_force(self, y: State, gains: Any = None, t: int = 0) -> State:
        """The state the engine steps: ``y`` with the matrix in force.
        Raises StepError when a bypassed neuron's inputs cannot be summed."""
        from .engine.reference import down_movement

        w = matrix_of(y)
        in_force, held, read = split_matrix(w, self.mute | self.bypass, self.mute)
        self._held = held
        # muted neurons in W_t keep their outputs
        in_w = set(read)
        for f, names in held.items():
            for n in names:
                in_w.add((f, n))
        self._keep = {}
        for nid in self.mute:
            outs = y.get(nid[0], {}).get(nid[1])
            if outs and nid in in_w:
                self._keep[nid] = outs
        # bypassed neurons: their inputs, passed to the outputs of the same names
        self._through = {}
        rows = {f: {n: ins for n, ins in names.items() if (f, n) in self.bypass} for f, names in held.items()}
        rows = {f: names for f, names in rows.items() if names}
        if rows and self.mute:  # what a muted neuron would send is nothing
            rows = split_matrix(rows, frozenset(), self.mute)[0]
        x = down_movement(rows, y, gains, t + 1) if rows else {}
        for nid in self.bypass:
            f, n = nid
            if n not in rows.get(f, {}) and nid not in read:
                continue  # not in W_t: no output, as any neuron
            try:
                ntype = self.registry.get(f)
            except RegistryError as e:
                raise StepError(t + 1, str(e), nid) from None
            xs = x.get(f, {}).get(n, {})
            self._through[nid] = {o: v for o, v in xs.items() if v and ntype.has_output(o)}
        # readers of a bypassed neuron read its outputs from an identity neuron
        # that carries them (identity on nothing gives nothing): its own
        # function never runs, not even on empty inputs as a neuron only read from
        self._carriers = {}
        carried = read & self.bypass
        if carried and CARRIER_TYPE in self.registry:
            taken = set(y.get(CARRIER_TYPE, {})) | set(w.get(CARRIER_TYPE, {}) if type(w.get(CARRIER_TYPE)) is dict else ())
            y = {g: dict(names) for g, names in y.items()}
            for nid in sorted(carried):
                name = f"bypass:{nid[0]}/{nid[1]}"
                while name in taken:
                    name += "'"
                taken.add(name)
                self._carriers[nid] = (CARRIER_TYPE, name)
                outs = y.get(nid[0], {}).get(nid[1])
                if outs:
                    y.setdefault(CARRIER_TYPE, {})[name] = outs
            in_force = rename_columns(in_force, self._carriers)
        return _with_matrix(y, in_force)

    def finish(self, y1: State) -> State:
        """``y_{t+1}``: what the engine made, with the entries held out back in
        Self's matrix, muted neurons' outputs kept, bypassed ones' passed through."""
        y = {f: dict(names) for f, names in y1.items()}
        if self._carriers:
            for _, name in self._carriers.values():
                y.get(CARRIER_TYPE, {}).pop(name, None)
            if CARRIER_TYPE in y and not y[CARRIER_TYPE]:
                del y[CARRIER_TYPE]
            back = {carrier: nid for nid, carrier in self._carriers.items()}
            y = _with_matrix(y, rename_columns(matrix_of(y), back))
        if self._held:
            w = vv.add(matrix_of(y), self._held)
            y = _with_matrix(y, w)
            y = {f: dict(names) for f, names in y.items()}
        for nid, outs in self._keep.items():
            _put(y, nid, outs)
        for nid, outs in self._through.items():
            _put(y, nid, outs)
        return y


def step_with_modes(engine: Engine, modes: Mapping[NeuronId, str], registry: Registry | None = None) -> None:
    """Advance ``engine`` one step with muted and bypassed neurons (see the
    module's doc). Raises NetworkHalted when ``W_t`` is empty, StepError as
    the engine's step does (the state is then ``y_t`` as it was). The
    engine's own ``step`` (its class's, not a tap's wrapper) runs the matrix
    in force."""
    y = engine.state()
    if not matrix_of(y):
        raise NetworkHalted(engine.t)
    ms = ModeStep(modes, registry or engine.registry)
    y_in = ms.in_force(y, engine.field_gains(), engine.t)
    if matrix_of(y_in):
        engine.set_state(y_in)
        try:
            type(engine).step(engine)
        except BaseException:
            engine.set_state(y)  # a failed step changes nothing
            raise
        y1 = engine.state()
    else:  # everything in W_t is muted or bypassed: no neuron runs
        y1 = {}
        engine.t += 1
    engine.set_state(ms.finish(y1))
