"""The vocabulary of the network matrix: states, neuron ids, ports, and the
walks over W's six levels.

A state ``y = {type: {name: {output: V-value}}}`` holds ``W`` as Self's output
``network_matrix``; ``W[f][n][i][g][m][o]`` is the weight of the wire from
output ``o`` of neuron ``g/m`` to input ``i`` of neuron ``f/n`` (SPEC §2-3).
Everything here is plain dicts and V-value algebra: it sits just above
``vvalue`` and below every other module of the core (no torch, no engine).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .vvalue import VValue, canon, get_in, is_number

SELF_TYPE = "self"
SELF_NAME = "self"
MATRIX_OUTPUT = "network_matrix"

State = dict[str, dict[str, dict[str, VValue]]]
Params = Mapping[str, Mapping[str, Mapping[str, Any]]]
NeuronId = tuple[str, str]
Port = tuple[str, str, str]  # (type, name, input-or-output)
Wire = tuple[Port, Port]  # (to, from)

SELF_ID: NeuronId = (SELF_TYPE, SELF_NAME)


def self_accum_row() -> VValue:
    """The row every network holds: Self keeps its value (accum <- network_matrix, 1)."""
    return {SELF_TYPE: {SELF_NAME: {"accum": {SELF_TYPE: {SELF_NAME: {MATRIX_OUTPUT: 1}}}}}}


def matrix_of(state: Mapping[str, Any]) -> VValue:
    """``W`` as held by Self in a state (``{}`` when Self has no output)."""
    w = get_in(state, (SELF_TYPE, SELF_NAME, MATRIX_OUTPUT))
    return w if w else {}


def matrix_neurons(w: Mapping[str, Any]) -> dict[NeuronId, None]:
    """The active part of SPEC §3: every neuron that has a row or a column in
    ``w``, in order of first appearance: a weight (a number six labels down,
    no label starting with ':') names two neurons. Entries that are no weight
    (see ``not_weights``) name none."""
    return matrix_scan(w)[0]


def matrix_scan(w: Mapping[str, Any]) -> tuple[dict[NeuronId, None], list[tuple[tuple[str, ...], Any]]]:
    """``(matrix_neurons(w), not_weights(w))`` in one walk."""
    active: dict[NeuronId, None] = {}
    bad: list[tuple[tuple[str, ...], Any]] = []
    for f, names in w.items():
        if type(names) is not dict or f[:1] == ":":
            bad.append(((f,), names))
            continue
        for n, rows in names.items():
            if type(rows) is not dict or n[:1] == ":":
                bad.append(((f, n), rows))
                continue
            for i, row in rows.items():
                if type(row) is not dict or i[:1] == ":":
                    bad.append(((f, n, i), row))
                    continue
                for g, ms in row.items():
                    if type(ms) is not dict or g[:1] == ":":
                        bad.append(((f, n, i, g), ms))
                        continue
                    for m, os in ms.items():
                        if type(os) is not dict or m[:1] == ":":
                            bad.append(((f, n, i, g, m), os))
                            continue
                        for o, x in os.items():
                            tx = type(x)
                            if (tx is float or tx is int or (tx is not dict and is_number(x))) and o[
                                :1
                            ] != ":":
                                active[(f, n)] = None
                                active[(g, m)] = None
                            else:
                                bad.append(((f, n, i, g, m, o), x))
    return active, bad


def not_weights(w: Mapping[str, Any]) -> list[tuple[tuple[str, ...], Any]]:
    """Every entry of ``w`` that is no weight, as ``(path, value)``: a number
    or a tensor above the sixth level (``W["foo"]["word"] = 1.25``), a map or a
    tensor in a weight's place, an entry under a label that starts with ':'.
    Such entries make no neuron active and the down movement skips them
    (SPEC §2); a network that writes into its own matrix can put them there."""
    return matrix_scan(w)[1]


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


def matrix_entries(w: Mapping[str, Any]) -> dict[Wire, Any]:
    """Every weight of ``w`` as ``{(to, from): weight}`` (six-level numeric
    entries only: see ``matrix_wires``)."""
    return {(to, frm): x for to, frm, x in matrix_wires(w)}


def wires_of(w: Mapping[str, Any]) -> set[Wire]:
    """The topology of a matrix: the set of (to, from) that hold a weight."""
    return set(matrix_entries(w))


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


def without_neuron(w: Mapping[str, Any], neuron: NeuronId) -> VValue:
    """``w`` without the rows and columns of one neuron (canonical, a new value)."""
    f, n = neuron
    out: dict[str, Any] = {}
    for tf, names in w.items():
        new_names: dict[str, Any] = {}
        for tn, rows in names.items() if isinstance(names, dict) else ():
            if (tf, tn) == (f, n):
                continue
            new_rows: dict[str, Any] = {}
            for i, row in rows.items() if isinstance(rows, dict) else ():
                if isinstance(row, dict) and f in row and isinstance(row[f], dict) and n in row[f]:
                    row = dict(row)
                    row[f] = {m: v for m, v in row[f].items() if m != n}
                    if not row[f]:
                        del row[f]
                if row:
                    new_rows[i] = row
            if new_rows:
                new_names[tn] = new_rows
        if new_names:
            out[tf] = new_names
    return canon(out)


def rename_in_matrix(w: Mapping[str, Any], type: str, old: str, new: str) -> VValue:
    """``w`` with neuron ``type/old`` called ``type/new`` in its rows and columns
    (canonical, a new value)."""

    def ren(names: Any) -> Any:
        if isinstance(names, dict) and old in names:
            return {(new if k == old else k): v for k, v in names.items()}
        return names

    out: dict[str, Any] = {}
    for tf, names in w.items():
        if tf == type:
            names = ren(names)
        new_names = {}
        for tn, rows in names.items() if isinstance(names, dict) else ():
            new_rows = {}
            for i, row in rows.items() if isinstance(rows, dict) else ():
                if isinstance(row, dict) and type in row:
                    row = {**row, type: ren(row[type])}
                new_rows[i] = row
            new_names[tn] = new_rows
        out[tf] = new_names
    return canon(out)


def is_fragment(v: Any) -> bool:
    """Whether ``v`` is a piece of network matrix: a non-empty nest of dicts
    whose every leaf is a number exactly six labels down (``W[f][n][i][g][m][o]``)."""
    if not isinstance(v, dict) or not v:
        return False
    stack: list[tuple[Any, int]] = [(v, 0)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, dict) or not node or depth >= 6:
            return False
        for k, x in node.items():
            if not isinstance(k, str) or k.startswith(":"):
                return False
            if depth == 5:
                if isinstance(x, bool) or not isinstance(x, (int, float)):
                    return False
            else:
                stack.append((x, depth + 1))
    return True


def rename_references(v: Any, type: str, old: str, new: str) -> Any:
    """``v`` with its references to neuron ``type/old`` made to ``type/new``:
    a matrix fragment (``is_fragment``: an output that feeds Self's delta, a
    ``matrix.patch`` fragment) has the neuron renamed in its rows and columns,
    a ``"type/name/port"`` string (``matrix.summary``'s row) its name part.
    Anything else, and a value naming no such neuron, is returned as it is
    (the same object)."""
    if isinstance(v, str):
        parts = v.split("/")
        if len(parts) == 3 and parts[0] == type and parts[1] == old:
            return f"{type}/{new}/{parts[2]}"
        return v
    if not is_fragment(v):
        return v
    if not _names(v, type, old):
        return v
    return _rename_plain(v, type, old, new)


def _names(w: dict[str, Any], type: str, old: str) -> bool:
    if old in w.get(type, {}):
        return True
    return any(
        isinstance(row.get(type), dict) and old in row[type]
        for names in w.values()
        for rows in names.values()
        for row in rows.values()
    )


def _rename_plain(w: dict[str, Any], type: str, old: str, new: str) -> dict[str, Any]:
    """``rename_in_matrix`` keeping the fragment's numbers as they are (a
    param's fragment is JSON data, not canonicalised); copies what it changes."""

    def ren(names: dict[str, Any]) -> dict[str, Any]:
        return {(new if k == old else k): x for k, x in names.items()} if old in names else names

    out: dict[str, Any] = {}
    for f, names in w.items():
        names = ren(names) if f == type else names
        out[f] = {
            n: {i: ({**row, type: ren(row[type])} if type in row else row) for i, row in rows.items()}
            for n, rows in names.items()
        }
    return out
