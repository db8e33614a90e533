"""The checks a network file's loader makes that the editing API makes too.

``fileformat`` (the loader) and ``Network``/``Machine`` (the edits) share
these functions, so that every edit the API accepts leaves a design whose
file loads again, and the words of a refusal are the loader's.

The loader-side functions take ``fail(message, *json_path)``, which returns
the exception to raise. The edit-side ``check_*`` functions raise
``EditError``: a ``NetworkFileError`` (so a ``ValueError``) whose message is
one line, ``cannot EDIT: WHAT IS WRONG (at $.JSON.path)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import vvalue as vv
from .jsonio import MAX_DEPTH, NetworkFileError, bad_number_in, depth_beyond, json_path_str, number_message
from .matrix import MATRIX_OUTPUT, SELF_NAME, SELF_TYPE
from .registry import Registry
from .schema import first_error, short

Fail = Callable[..., Exception]
MATRIX_PATH = ("outputs", SELF_TYPE, SELF_NAME, MATRIX_OUTPUT)
_RESERVED = "starts with ':', which V-value keys reserve (SPEC §1), and W's names are V-value keys"


class EditError(NetworkFileError):
    """An edit that would leave a design no network file could hold (the
    loader would refuse the saved file). The message is one line naming the
    edit, what is wrong, and the JSON path it would have in the file."""

    def __init__(self, edit: str, message: str, json_path: tuple[Any, ...] | None = None) -> None:
        ValueError.__init__(
            self, f"cannot {edit}: {message}" + (f" (at {json_path_str(json_path)})" if json_path else "")
        )
        self.source = "<edit>"
        self.reason = message
        self.json_path = json_path
        self.edit = edit

    def __reduce__(self) -> Any:  # a copy sent between processes (the studio's runner)
        return (EditError, (self.edit, self.reason, self.json_path))


def _edit_fail(edit: str) -> Fail:
    return lambda message, *path: EditError(edit, message, tuple(path) or None)


# ------------------------------------------------------------ shared with the loader


def check_type(f: Any, reg: Registry, fail: Fail, *path: Any) -> None:
    """A neuron type the installed packs provide."""
    if not isinstance(f, str) or f not in reg:
        raise fail(f"unknown neuron type {f!r}{reg.missing_hint(f) if isinstance(f, str) else ''}", *path)


def check_matrix(w: Any, reg: Registry, fail: Fail) -> None:
    """Every neuron type that the matrix ``w`` names is known, and it has its
    six levels (JSON path ``outputs.self.self.network_matrix``)."""
    base = MATRIX_PATH
    for f, names in w.items():
        if f not in reg:
            raise fail(
                f"the network matrix names the unknown neuron type {f!r}{reg.missing_hint(f)}", *base, f
            )
        if not isinstance(names, dict):
            raise fail("the network matrix has a number where neuron names belong", *base, f)
        for n, rows in names.items():
            if not isinstance(rows, dict):
                raise fail("the network matrix has a number where input names belong", *base, f, n)
            for i, row in rows.items():
                if not isinstance(row, dict):
                    raise fail("the network matrix has a number where a row belongs", *base, f, n, i)
                for g, ms in row.items():
                    if g not in reg:
                        raise fail(
                            f"the network matrix names the unknown neuron type {g!r}{reg.missing_hint(g)}",
                            *base,
                            f,
                            n,
                            i,
                            g,
                        )
                    if not isinstance(ms, dict):
                        raise fail(
                            "the network matrix has a number where neuron names belong", *base, f, n, i, g
                        )
                    for m, outs in ms.items():
                        if not isinstance(outs, dict):
                            raise fail(
                                "the network matrix has a number where output names belong",
                                *base,
                                f,
                                n,
                                i,
                                g,
                                m,
                            )


def check_params(params: Mapping[str, Any], reg: Registry, fail: Fail) -> None:
    """Every param belongs to a known type that declares it."""
    for f, names in params.items():
        if f not in reg:
            raise fail(f"unknown neuron type {f!r}{reg.missing_hint(f)}", "params", f)
        declared = reg.get(f).params
        for n, ps in names.items():
            for k in ps:
                if k not in declared:
                    known = ", ".join(sorted(declared)) or "none"
                    raise fail(
                        f"neuron type {f!r} has no param {k!r} (its params: {known})", "params", f, n, k
                    )


def check_layout(layout: Mapping[str, Any], reg: Registry, fail: Fail) -> None:
    """Every layout key names a neuron of a known type (the schema checked the form)."""
    for key in layout:
        f = key.split("/", 1)[0]
        if f not in reg:
            raise fail(f"the layout names the unknown neuron type {f!r}{reg.missing_hint(f)}", "layout", key)


def _schema(data: Any, part: str, fail: Fail, *base: Any) -> None:
    problem = first_error(data, part, for_loader=True)
    if problem is not None:
        raise fail(problem.message, *base, *problem.path)


def _numbers(data: Any, fail: Fail, *base: Any) -> None:
    bad = bad_number_in(data)
    if bad is not None:
        path, x = bad
        raise fail(number_message(x), *base, *path)


def _json_value(value: Any, fail: Fail, *path: Any) -> Any:
    """``value`` as the loader would read it back (tuples become lists), or the failure."""
    _numbers(value, fail, *path)
    deep = depth_beyond(value, MAX_DEPTH - len(path))
    if deep is not None:
        raise fail(f"nesting is too deep (a file may nest at most {MAX_DEPTH} levels)", *path, *deep)
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as e:
        raise fail(f"{short(value)} is not JSON data ({e})", *path) from None


# ------------------------------------------------------------ edits


def check_param(reg: Registry, type: Any, name: Any, param: Any, value: Any) -> Any:
    """The value of ``set_param`` as a file holds it (JSON data: tuples become
    lists). Raises EditError for an unknown type, a param the type does not
    declare, or a value no file holds (not JSON, not finite)."""
    fail = _edit_fail(f"set the param {param!r} of {type}/{name}")
    check_type(type, reg, fail, "params", type)
    if not isinstance(name, str) or not isinstance(param, str):
        raise fail("neuron and param names are strings", "params", type)
    data = _json_value(value, fail, "params", type, name, param)
    params = {type: {name: {param: data}}}
    _schema(params, "params", fail, "params")
    check_params(params, reg, fail)
    return data


def check_output(reg: Registry, type: Any, name: Any, output: Any, value: Any) -> vv.VValue:
    """The canonical V-value of ``set_output`` (the design's or a running
    state's). Raises EditError for an unknown type, names that are not
    strings, or a value the loader refuses (non-finite numbers, reserved
    keys, a network matrix naming unknown types or lacking its levels)."""
    fail = _edit_fail(f"set the output {type}/{name}.{output}")
    check_type(type, reg, fail, "outputs", type)
    if not (isinstance(name, str) and isinstance(output, str)):
        raise fail("neuron and output names are strings", "outputs", type)
    try:
        v = vv.canon(value)
        vv.from_json(vv.to_json(v), max_depth=MAX_DEPTH - 4)
    except (vv.VValueError, ValueError, TypeError) as e:
        path = getattr(e, "path", ())
        raise fail(getattr(e, "reason", str(e)), "outputs", type, name, output, *path) from None
    if (type, name, output) == (SELF_TYPE, SELF_NAME, MATRIX_OUTPUT):
        check_matrix(v, reg, fail)
    return v


def check_weights(reg: Registry, changes: Iterable[tuple[Any, Any, Any]]) -> None:
    """Each ``(to, from, weight)`` names known types and ports a file can hold
    (``(type, name, port)``, strings, no reserved ``:`` keys) and a number
    that fits a float64 (0, which removes a wire, is always fine). Raises
    EditError for the first that does not."""
    for to, frm, x in changes:
        fail = _edit_fail(f"set the weight {'/'.join(map(str, to))} <- {'/'.join(map(str, frm))}")
        if not vv.is_number(x):
            raise fail(f"a weight must be a number, not {x!r}")
        if not x:
            continue
        to, frm = tuple(to), tuple(frm)
        if len(to) != 3 or len(frm) != 3 or not all(isinstance(k, str) for k in to + frm):
            raise fail("a port is (type, name, port), three strings", *MATRIX_PATH)
        check_type(to[0], reg, fail, *MATRIX_PATH, to[0])
        check_type(frm[0], reg, fail, *MATRIX_PATH, *to, frm[0])
        for i, k in enumerate(to + frm):
            if k.startswith(":"):
                raise fail(f"{k!r} {_RESERVED}", *MATRIX_PATH, *(to + frm)[: i + 1])
        try:
            w = vv.from_json(vv.to_json(vv.set_in({}, to + frm, x)))
        except vv.VValueError as e:
            raise fail(e.reason, *MATRIX_PATH, *e.path) from None
        check_matrix(w, reg, fail)


def check_delta(reg: Registry, w: Any, delta: Any) -> None:
    """A delta added to the matrix ``w`` (``Machine.edit_matrix``): a matrix the
    loader accepts, whose sums with ``w`` stay finite."""
    v = check_output(reg, SELF_TYPE, SELF_NAME, MATRIX_OUTPUT, delta)
    fail = _edit_fail("edit the network matrix")
    for path, x in vv.leaves(v):
        old = vv.get_in(w, path)
        if vv.is_number(old) and vv.is_number(x):
            s = old + x
            bad = bad_number_in(float(s) if isinstance(s, float) else s)
            if bad is not None:
                raise fail(f"the sum {number_message(s)}", *MATRIX_PATH, *path)


def check_layout_entry(reg: Registry, type: Any, name: Any, entry: Mapping[str, Any] | None = None) -> None:
    """A neuron's layout entry (``{}``: just its key) as the loader takes it:
    a key ``type/name`` of a known type, a finite ``pos``, probes a list,
    ports an object. Raises EditError."""
    fail = _edit_fail(f"place {type}/{name}")
    check_type(type, reg, fail, "layout")
    if not isinstance(name, str) or not name:
        raise fail(f"a neuron name is a non-empty string, not {name!r}", "layout")
    key = f"{type}/{name}"
    data = {key: _json_value(dict(entry or {}), fail, "layout", key)}
    _schema(data, "layout", fail, "layout")
    check_layout(data, reg, fail)


def check_name(reg: Registry, type: Any, name: Any) -> None:
    """A neuron a file can hold anywhere: a known type, a non-empty name that
    does not start with ``:`` (W's levels are V-value keys). Raises EditError."""
    check_layout_entry(reg, type, name)
    if name.startswith(":"):
        raise _edit_fail(f"name a neuron {type}/{name}")(f"{name!r} {_RESERVED}", "outputs", type, name)


# ------------------------------------------------------------ undeclared ports


class UndeclaredPortWarning(UserWarning):
    """The network matrix wires a port that the neuron's type does not declare:
    a row into an undeclared input computes nothing (the type never reads it),
    a column from an undeclared output reads nothing after step 0. Loading and
    editing say so; the studio draws the port, marked, so it can be fixed."""


def undeclared_ports(w: Any, reg: Registry) -> list[tuple[str, tuple[str, str], str]]:
    """``(side, (type, name), port)`` for every port of ``w`` (a network
    matrix) that the neuron's type does not declare, ``side`` ``"input"``
    (a row) or ``"output"`` (a column), each once, in W's order. Variadic
    sides declare every name; types the registry lacks are skipped (the
    loader refuses those)."""
    found: dict[tuple[str, tuple[str, str], str], None] = {}
    if not isinstance(w, dict):
        return []

    def declared(f: str, port: str, side: str) -> bool:
        if f not in reg:
            return True
        t = reg.get(f)
        return t.has_input(port) if side == "input" else t.has_output(port)

    for f, names in w.items():
        if not isinstance(names, dict) or f.startswith(":"):
            continue
        for n, rows in names.items():
            if not isinstance(rows, dict) or n.startswith(":"):
                continue
            for i, row in rows.items():
                if not isinstance(row, dict) or i.startswith(":"):
                    continue
                if not declared(f, i, "input"):
                    found[("input", (f, n), i)] = None
                for g, ms in row.items():
                    if not isinstance(ms, dict) or g.startswith(":"):
                        continue
                    for m, outs in ms.items():
                        if not isinstance(outs, dict) or m.startswith(":"):
                            continue
                        for o in outs:
                            if not o.startswith(":") and not declared(g, o, "output"):
                                found[("output", (g, m), o)] = None
    return list(found)


def undeclared_message(side: str, nid: tuple[str, str], port: str, reg: Registry) -> str:
    """One line for an undeclared port (``undeclared_ports``' items)."""
    f, n = nid
    t = reg.get(f)
    have = t.inputs if side == "input" else t.outputs
    what = "a row into" if side == "input" else "a wire from"
    effect = "it computes nothing" if side == "input" else "it reads nothing"
    return (
        f"{f}/{n} has {what} {side} {port!r}, which the type {f} does not declare "
        f"(its {side}s: {', '.join(have) or 'none'}): {effect}"
    )


def warn_undeclared(w: Any, reg: Registry, stacklevel: int = 2) -> list[str]:
    """An ``UndeclaredPortWarning`` for each undeclared port of ``w``; returns the messages."""
    import warnings

    messages = [undeclared_message(s, nid, p, reg) for s, nid, p in undeclared_ports(w, reg)]
    for m in messages:
        warnings.warn(m, UndeclaredPortWarning, stacklevel=stacklevel + 1)
    return messages
