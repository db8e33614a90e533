"""Modulating fields: functions of canvas position and time that multiply
parts of the network (the talk "Let's think about embedding neural machines
into modulating fields").

A network's ``fields`` list holds entries like::

    {"name": "ripple",
     "source": {"kind": "radial", "center": [0, 0], "wavelength": 300, "speed": 20},
     "strength": 0.5,
     "targets": ["outputs", "param:a"],
     "covers": {"types": ["synth.sin"]}}

Each covered neuron (a neuron with a position in the layout, never Self)
sees the field's value ``v`` at its position and time ``t``; every target of
the entry is multiplied by ``1 + strength * v``. Several entries on one
target multiply. The format is documented in docs/fields.md.

```compute_gains`` is what the engines call once per step; it is vector math
over the covered neurons (numpy), with the parse of fields and layout cached
between steps while they do not change (checked by equality each step).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .matrix import SELF_NAME, SELF_TYPE, NeuronId

ReadOutput = Callable[[str, str, str], Mapping[str, Any]]


@dataclass
class FieldGains:
    """What the modulating fields do to one step (``compute_gains`` makes it).

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


# kind -> {param: default}; a default of None means required. The rules a
# source must follow are in the file format's JSON Schema
# (dmm_studio/schema/dmm.schema.json, $defs plane ... sum), whose "default"s a
# test keeps equal to these.
_SOURCES: dict[str, dict[str, Any]] = {
    "plane": {"direction": [1.0, 0.0], "wavelength": 400.0, "speed": 0.0, "amplitude": 1.0, "phase": 0.0},
    "radial": {
        "center": [0.0, 0.0],
        "wavelength": 400.0,
        "speed": 0.0,
        "amplitude": 1.0,
        "phase": 0.0,
        "decay": 0.0,
    },
    "bump": {"center": [0.0, 0.0], "width": 200.0, "amplitude": 1.0, "velocity": [0.0, 0.0]},
    "oscillation": {"frequency": 0.05, "amplitude": 1.0, "phase": 0.0},
    "constant": {"value": 1.0},
    "induced": {"neuron": None, "output": "single", "width": 200.0, "falloff": "gaussian", "amplitude": 1.0},
}
SOURCE_KINDS = (*_SOURCES, "sum")
PLAIN_TARGETS = ("inputs", "weights", "outputs")
FALLOFFS = ("gaussian", "inverse")


# ------------------------------------------------------------------ validation


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _is_point(x: Any) -> bool:
    return isinstance(x, list) and len(x) == 2 and all(_is_number(c) for c in x)


def _label(entry: Any, index: int) -> str:
    name = entry.get("name") if isinstance(entry, dict) else None
    return f"field {name!r} (fields[{index}])" if isinstance(name, str) and name else f"fields[{index}]"


def _located(message: str, inner: tuple[Any, ...]) -> str:
    """``source.of[0]: message``: where inside a field entry, up to the key
    that the message names itself."""
    if inner and isinstance(inner[-1], str) and repr(inner[-1]) in message:
        inner = inner[:-1]
    loc = ""
    for k in inner:
        loc += f"[{k}]" if isinstance(k, int) else (f".{k}" if loc else str(k))
    return f"{loc}: {message}" if loc else message


def field_problem(fields: Any) -> tuple[str, tuple[Any, ...]] | None:
    """The first thing wrong with a ``fields`` list, checked against the file
    format's JSON Schema, as (one-line message, JSON path inside the list),
    or None when the list is good.

    The message names the field: ``field 'ripple' (fields[0]): source:
    'wavelength' must be a positive number, not -3``.
    """
    from .schema import first_error

    problem = first_error(fields, "fields")
    if problem is None:
        return None
    path = problem.path
    if not path or not isinstance(path[0], int) or not isinstance(fields, list):
        return problem.message, path
    return f"{_label(fields[path[0]], path[0])}: {_located(problem.message, path[1:])}", path


def validate_field(entry: Any, index: int = 0) -> None:
    """Raise ValueError naming the field (as ``fields[index]``) and what is
    wrong with it, in one line."""
    from .schema import first_error

    problem = first_error(entry, "field")
    if problem is not None:
        raise ValueError(f"{_label(entry, index)}: {_located(problem.message, problem.path)}")


def validate_fields(fields: Any) -> None:
    """Check a network file's ``fields`` list; raise ValueError naming the
    first field that is wrong and what is wrong with it (one line)."""
    found = field_problem(fields)
    if found is not None:
        raise ValueError(found[0])


def _kind(x: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(x), "a number"
    )


# ------------------------------------------------------------------ evaluation


def _param(src: Mapping[str, Any], key: str) -> Any:
    return src.get(key, _SOURCES[src["kind"]][key])


def _scalar(v: Any) -> float:
    x = v.get(":number", 0) if isinstance(v, Mapping) else v
    return float(x) if _is_number(x) else 0.0


def source_value(
    src: Mapping[str, Any],
    points: np.ndarray,
    t: float,
    positions: Mapping[str, Sequence[float]] | None = None,
    read_output: ReadOutput | None = None,
) -> np.ndarray:
    """The value of a source at ``points`` (an (N, 2) array) at time ``t``.

    ``positions`` maps "type/name" to canvas positions (for induced fields),
    ``read_output(type, name, output)`` gives a neuron's output; without it
    an induced field is 0.
    """
    kind = src["kind"]
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if kind == "sum":
        total = np.zeros(len(pts))
        for part in src["of"]:
            total += source_value(part, pts, t, positions, read_output)
        return total
    a = float(_param(src, "amplitude")) if "amplitude" in _SOURCES[kind] else 1.0
    if kind == "constant":
        return np.full(len(pts), float(_param(src, "value")))
    if kind == "oscillation":
        f, ph = float(_param(src, "frequency")), float(_param(src, "phase"))
        return np.full(len(pts), a * math.sin(2 * math.pi * f * t + ph))
    if kind == "plane":
        d = np.asarray(_param(src, "direction"), dtype=np.float64)
        d = d / np.hypot(*d)
        s = pts @ d
        lam, v, ph = (
            float(_param(src, "wavelength")),
            float(_param(src, "speed")),
            float(_param(src, "phase")),
        )
        return a * np.sin(2 * math.pi * (s - v * t) / lam + ph)
    if kind == "radial":
        c = np.asarray(_param(src, "center"), dtype=np.float64)
        r = np.hypot(*(pts - c).T)
        lam, v, ph = (
            float(_param(src, "wavelength")),
            float(_param(src, "speed")),
            float(_param(src, "phase")),
        )
        out = a * np.sin(2 * math.pi * (r - v * t) / lam + ph)
        decay = float(_param(src, "decay"))
        return out * np.exp(-r / decay) if decay > 0 else out
    if kind == "bump":
        c = np.asarray(_param(src, "center"), dtype=np.float64) + t * np.asarray(
            _param(src, "velocity"), dtype=np.float64
        )
        w = float(_param(src, "width"))
        d2 = ((pts - c) ** 2).sum(axis=1)
        return a * np.exp(-d2 / (2 * w * w))
    if kind == "induced":
        key = src["neuron"]
        pos = (positions or {}).get(key)
        if pos is None or read_output is None:
            return np.zeros(len(pts))
        f, n = key.split("/")
        s = _scalar(read_output(f, n, _param(src, "output")))
        if s == 0:
            return np.zeros(len(pts))
        d = np.hypot(*(pts - np.asarray(pos, dtype=np.float64)).T)
        w = float(_param(src, "width"))
        k = 1.0 / (1.0 + d / w) if _param(src, "falloff") == "inverse" else np.exp(-(d * d) / (2 * w * w))
        return a * s * k
    raise ValueError(f"unknown field source kind {kind!r}")


def field_value(
    entry: Mapping[str, Any],
    points: np.ndarray,
    t: float,
    positions: Mapping[str, Sequence[float]] | None = None,
    read_output: ReadOutput | None = None,
) -> np.ndarray:
    """The value of one field entry's source at ``points`` (for views)."""
    return source_value(entry["source"], points, t, positions, read_output)


@dataclass
class _Compiled:
    ids: list[NeuronId]
    keys: list[str]
    pos: np.ndarray
    positions: dict[str, list[float]]
    entries: list[tuple[dict[str, Any], np.ndarray]] = field(default_factory=list)


# (id(fields), id(layout)) -> (copy of fields, copy of layout, compiled); a hit
# is checked by equality with the copies (a C-level compare, far cheaper than
# serialising), so in-place edits of either are seen at the next step
_cache: dict[tuple[int, int], tuple[list[Any], dict[str, Any], _Compiled]] = {}


def positions_of(layout: Mapping[str, Any]) -> dict[str, list[float]]:
    """``type/name -> [x, y]`` for every neuron of the layout with a position."""
    out: dict[str, list[float]] = {}
    for key, entry in layout.items():
        if isinstance(entry, Mapping) and _is_point(list(entry.get("pos") or [])) and "/" in key:
            out[key] = [float(c) for c in entry["pos"]]
    return out


def covered(entry: Mapping[str, Any], keys: Sequence[str], pos: np.ndarray) -> np.ndarray:
    """Indexes (into ``keys``) of the neurons that a field covers (never Self)."""
    covers = entry.get("covers") or {}
    types, neurons = covers.get("types"), covers.get("neurons")
    self_key = f"{SELF_TYPE}/{SELF_NAME}"
    mask = np.array([k != self_key for k in keys], dtype=bool)
    if types is not None or neurons is not None:
        tset, nset = set(types or ()), set(neurons or ())
        mask &= np.array([k.split("/", 1)[0] in tset or k in nset for k in keys], dtype=bool)
    region = covers.get("region")
    if region is not None and len(keys):
        c = np.asarray(region["center"], dtype=np.float64)
        mask &= np.hypot(*(pos - c).T) <= float(region["radius"])
    return np.nonzero(mask)[0]


def _compile(fields: Sequence[Any], layout: Mapping[str, Any]) -> _Compiled:
    key = (id(fields), id(layout))
    hit = _cache.get(key)
    if hit is not None and hit[0] == fields and hit[1] == layout:
        return hit[2]
    validate_fields(list(fields))
    positions = positions_of(layout)
    keys = list(positions)
    ids = [tuple(k.split("/", 1)) for k in keys]
    pos = np.array([positions[k] for k in keys], dtype=np.float64).reshape(-1, 2)
    compiled = _Compiled(ids=ids, keys=keys, pos=pos, positions=positions)  # type: ignore[arg-type]
    for entry in fields:
        if entry.get("enabled", True):
            compiled.entries.append((entry, covered(entry, keys, pos)))
    if len(_cache) > 32:
        _cache.clear()
    _cache[key] = (copy.deepcopy(list(fields)), copy.deepcopy(dict(layout)), compiled)
    return compiled


def compute_gains(
    fields: Sequence[Any], layout: Mapping[str, Any], t: int, read_output: ReadOutput
) -> FieldGains:
    """The gains of every field for the step from ``t`` to ``t + 1``.

    Each field's value ``v`` at a covered neuron gives the gain
    ``1 + strength * v`` on each of the field's targets; gains on one target
    multiply. Only neurons that some field covers appear in the result.
    """
    c = _compile(fields, layout)
    n = len(c.keys)
    inputs = np.ones(n)
    outputs = np.ones(n)
    touched_in = np.zeros(n, dtype=bool)
    touched_out = np.zeros(n, dtype=bool)
    params: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for entry, idx in c.entries:
        if not len(idx):
            continue
        v = source_value(entry["source"], c.pos[idx], t, c.positions, read_output)
        g = 1.0 + float(entry.get("strength", 1.0)) * v
        for target in entry["targets"]:
            if target in ("inputs", "weights"):
                inputs[idx] *= g
                touched_in[idx] = True
            elif target == "outputs":
                outputs[idx] *= g
                touched_out[idx] = True
            else:
                name = target[len("param:") :]
                arr, touched = params.setdefault(name, (np.ones(n), np.zeros(n, dtype=bool)))
                arr[idx] *= g
                touched[idx] = True
    gains = FieldGains()
    for table, arr, touched in ((gains.inputs, inputs, touched_in), (gains.outputs, outputs, touched_out)):
        sel = np.nonzero(touched)[0]
        table.update(zip([c.ids[i] for i in sel], arr[sel].tolist(), strict=True))
    for name, (arr, touched) in params.items():
        sel = np.nonzero(touched)[0]
        gains.params.update(
            zip([(c.ids[i][0], c.ids[i][1], name) for i in sel], arr[sel].tolist(), strict=True)
        )
    return gains


def source_defaults(kind: str) -> dict[str, Any]:
    """A source of ``kind`` with every key at its default (a template for
    editors; an induced source gets a placeholder neuron to fill in)."""
    if kind == "sum":
        return {"kind": "sum", "of": [source_defaults("constant")]}
    if kind not in _SOURCES:
        raise ValueError(f"unknown field source kind {kind!r} (one of {', '.join(SOURCE_KINDS)})")
    out: dict[str, Any] = {"kind": kind}
    for key, default in _SOURCES[kind].items():
        out[key] = "type/name" if default is None else default
    return out
