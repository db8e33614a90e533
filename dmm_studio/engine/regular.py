"""Whether a network can run compiled: a regular W, and Self as the compiled engine expects it.

Regular: every entry of W is six labels down to a number (no reserved keys,
no leaves at other depths). Self: the built-in one, keeping W through its
``accum`` row with weight 1 (``1`` or ``1.0`` alike) and W's only reader.
Each function returns "" when all is well, else why not, in words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import vvalue as vv
from ..registry import SELF_NAME, SELF_TYPE, Registry, RegistryError, self_neuron
from .base import MATRIX_OUTPUT

IRREGULAR = "W has entries that are not six labels to a number"
NOT_CANONICAL = "W is not in canonical form"  # zeros or empty maps: canon() first
_ACCUM_ROW = {SELF_TYPE: {SELF_NAME: {MATRIX_OUTPUT: 1}}}


def matrix_problem(w: Mapping[str, Any], registry: Registry) -> str:
    """Why W cannot run compiled (one pass over its dicts), or "". W that is
    not canonical (zero weights, empty maps) gives ``NOT_CANONICAL``."""
    readers = 0
    for f, names in w.items():
        if f.startswith(":") or type(names) is not dict:
            return IRREGULAR
        for n, ins in names.items():
            if n.startswith(":") or type(ins) is not dict:
                return IRREGULAR
            for i, row in ins.items():
                if i.startswith(":") or type(row) is not dict:
                    return IRREGULAR
                for g, ms in row.items():
                    if g.startswith(":") or type(ms) is not dict:
                        return IRREGULAR
                    for m, os in ms.items():
                        if m.startswith(":") or type(os) is not dict:
                            return IRREGULAR
                        for o, x in os.items():
                            if o.startswith(":") or (type(x) is not float and type(x) is not int):
                                return IRREGULAR
                            if x == 0:
                                return NOT_CANONICAL
                        if not os:
                            return NOT_CANONICAL
                        if g == SELF_TYPE and m == SELF_NAME and MATRIX_OUTPUT in os:
                            readers += 1
                    if not ms:
                        return NOT_CANONICAL
                if not row:
                    return NOT_CANONICAL
            if not ins:
                return NOT_CANONICAL
        if not names:
            return NOT_CANONICAL
    return self_problem(w, registry, readers)


def self_problem(w: Mapping[str, Any], registry: Registry, readers: int) -> str:
    """Why Self cannot run compiled (``readers``: the entries that read W), or ""."""
    try:
        self_type = registry.get(SELF_TYPE)
    except RegistryError:
        return "no Self type"
    if getattr(self_type.fn, "__wrapped__", self_type.fn) is not self_neuron.fn:  # wrapped: timed
        return "Self is not the built-in Self"
    if vv.get_in(w, (SELF_TYPE, SELF_NAME, "accum")) != _ACCUM_ROW:
        return "Self's accum row is not W with weight 1"
    if readers != 1:
        return "W is read by other neurons"
    return ""


Wire = tuple[tuple[str, str, str], tuple[str, str, str], Any]


def regular_wires(d: Mapping[str, Any]) -> list[Wire] | None:
    """The entries ``(to, from, weight)`` of a canonical V-value that is
    regular (six labels to a number everywhere), else None: one pass."""
    out = []
    for f, names in d.items():
        if f.startswith(":") or type(names) is not dict:
            return None
        for n, ins in names.items():
            if n.startswith(":") or type(ins) is not dict:
                return None
            for i, row in ins.items():
                if i.startswith(":") or type(row) is not dict:
                    return None
                for g, ms in row.items():
                    if g.startswith(":") or type(ms) is not dict:
                        return None
                    for m, os in ms.items():
                        if m.startswith(":") or type(os) is not dict:
                            return None
                        for o, x in os.items():
                            if o.startswith(":") or (type(x) is not float and type(x) is not int):
                                return None
                            out.append(((f, n, i), (g, m, o), x))
    return out
