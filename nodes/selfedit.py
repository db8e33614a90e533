"""Self helpers: editing the network matrix from inside, and reading it.

``matrix.patch`` adds a stored fragment of the matrix through Self's delta
input (live editing by the network itself); ``matrix.summary`` reads the
matrix (wire it from self/self/network_matrix) and reports on it
(reflection)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dmm_studio import vvalue as vv
from dmm_studio.matrix import matrix_neurons
from dmm_studio.registry import neuron

from ._util import as_number, number, scalar, vvalue_param

V = vv.VValue
P = Mapping[str, Any]
FAMILY = "self"


def fires(t: float, at: float, period: float) -> bool:
    """Whether a patch scheduled at step ``at`` (every ``period`` steps when
    period > 0) fires when its clock reads ``t``."""
    n = int(round(t))
    at_n, per = int(round(at)), int(round(period))
    if per > 0:
        return n >= at_n and (n - at_n) % per == 0
    return n == at_n


@neuron(
    "matrix.patch",
    inputs=["t"],
    outputs=["delta"],
    params={"fragment": {}, "at": 1, "period": 0, "scale": 1.0},
    family=FAMILY,
)
def patch(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Live editing from inside: emits scale * fragment on delta when its
    clock input t equals at (and then every period steps when period > 0),
    nothing otherwise. fragment is a piece of network matrix written as
    JSON, W[to_type][to_name][to_input][from_type][from_name][from_output] =
    weight. Wire delta to self/self/delta: the fragment is added to the
    matrix that the following step uses (new wires, new weights, removed
    wires with negative weights)."""
    if not fires(scalar(x["t"]), as_number(p["at"], "at"), as_number(p["period"], "period")):
        return {"delta": {}}
    return {"delta": vv.scale(as_number(p["scale"], "scale"), vvalue_param(p["fragment"], "fragment"))}


def _row(w: V, spec: Any) -> V:
    if not spec:
        return {}
    if not isinstance(spec, str) or spec.count("/") != 2:
        raise ValueError(f"param 'row' must be 'type/name/input', not {spec!r}")
    row = vv.get_in(w, tuple(spec.split("/")))
    return vv.canon(row) if isinstance(row, dict) else {}


@neuron(
    "matrix.summary",
    inputs=["matrix"],
    outputs=["size", "neurons", "max_norm", "row"],
    params={"row": ""},
    family=FAMILY,
)
def summary(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Reflection: reads a network matrix (wire self/self/network_matrix to
    matrix) and emits its size (the number of non-zero weights), neurons
    (how many neurons it makes active), max_norm (its largest absolute
    weight) and row: the row named by the param row, "type/name/input"
    (the weights of that input's incoming wires)."""
    w = x["matrix"]
    return {
        "size": number(vv.size(w)),
        "neurons": number(len(matrix_neurons(w))),
        "max_norm": number(vv.max_norm(w)),
        "row": _row(w, p["row"]),
    }


TYPES = [patch, summary]
