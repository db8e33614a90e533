"""Network files (``*.dmm.json``, SPEC §6) and traces (``--trace OUT.jsonl``).

Loading validates everything and never runs code from the file: a file that is
not of the form is refused with a ``NetworkFileError`` that names the file and
the first thing wrong in it, with its JSON path (one line). The form is the
JSON Schema ``dmm_studio/schema/dmm.schema.json``; this module adds what a
schema cannot say (installed neuron types and params, W's levels, numbers that
fit a float64). Reading and atomic writing of the files themselves is
``jsonio``. Saving writes canonical V-values atomically, so a failed save
never destroys the previous file.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from . import vvalue as vv
from .designcheck import check_layout, check_matrix, check_params, warn_undeclared
from .engine.base import StepError
from .fields import field_problem
from .jsonio import (
    MAX_DEPTH,
    NetworkFileError,
    bad_number_in,
    depth_beyond,
    dumps_deep,
    json_path_str,
    number_message,
    parse_json,
    read_bytes,
    write_atomic,
)
from .limits import Limits
from .matrix import MATRIX_OUTPUT, State
from .network import Network
from .registry import SELF_NAME, SELF_TYPE, Registry, default_registry
from .schema import FLOAT_LIMIT, short

FORMAT = "dmm-studio/1"
TOP_KEYS = ("format", "outputs", "params", "fields", "layout", "meta", "limits")


# ------------------------------------------------------------------ loading


def load_network(path: str | os.PathLike[str], registry: Registry | None = None) -> Network:
    """Read and validate a network file (see ``network_from_json``).

    Raises NetworkFileError (one line naming the file and, where it applies,
    the JSON path) for anything that is not a network file, including files
    that are not regular files, over ``MAX_FILE_BYTES`` or nested deeper than
    ``MAX_DEPTH``."""
    p = Path(path)
    net = loads_network(read_bytes(p), source=str(p), registry=registry)
    net.source = str(p)  # its data files are read relative to its folder
    return net


def loads_network(text: str | bytes, source: str = "<string>", registry: Registry | None = None) -> Network:
    """Parse and validate the text (or UTF-8 bytes) of a network file (see
    ``parse_json`` and ``network_from_json``)."""
    return _network(parse_json(text, source, MAX_DEPTH), source, registry)  # depth checked by the parse


def network_from_json(data: Any, source: str = "<data>", registry: Registry | None = None) -> Network:
    """A Network from parsed JSON data, validated (see the module's doc).

    First the nesting depth (``MAX_DEPTH``), then the file format's JSON
    Schema (``dmm_studio/schema/dmm.schema.json``), then what a schema cannot
    say: numbers anywhere must fit a float64, the V-values of ``outputs``
    (one iterative pass), neuron types and params known to the installed
    packs, W's six levels, layout keys naming known types. Raises
    NetworkFileError naming the file and the JSON path of the first fault."""
    deep = depth_beyond(data, MAX_DEPTH)
    if deep is not None:
        raise NetworkFileError(
            source, f"nesting is too deep (a file may nest at most {MAX_DEPTH} levels)", deep
        )
    return _network(data, source, registry)


def _network(data: Any, source: str, registry: Registry | None) -> Network:
    from .schema import first_error

    reg = registry or default_registry()

    def fail(message: str, *path: Any) -> NetworkFileError:
        return NetworkFileError(source, message, tuple(path) or None)

    problem = first_error(data, for_loader=True)
    if problem is not None:
        if problem.path[:1] == ("fields",) and len(problem.path) > 1:
            found = field_problem(data["fields"])  # names the field, as validate_fields does
            if found is not None:
                raise fail(found[0], "fields", *found[1])
        raise fail(problem.message, *problem.path)
    for key in ("params", "layout", "meta"):
        bad = bad_number_in(data.get(key))
        if bad is not None:
            path, x = bad
            raise fail(number_message(x), key, *path)

    w = vv.get_in(data["outputs"], (SELF_TYPE, SELF_NAME, MATRIX_OUTPUT))
    w_as_parsed = _regular_matrix(w, reg)  # most of a large file: then used as parsed
    outputs = _state_from_json(data["outputs"], reg, fail, w if w_as_parsed else None)
    if (
        not isinstance(vv.get_in(data["outputs"], (SELF_TYPE, SELF_NAME)), dict)
        or MATRIX_OUTPUT not in data["outputs"][SELF_TYPE][SELF_NAME]
    ):
        raise fail("no network matrix: outputs.self.self.network_matrix is missing", "outputs")
    if not w_as_parsed:
        _check_matrix(outputs, reg, fail)

    params = data.get("params", {})
    check_params(params, reg, fail)
    layout = data.get("layout", {})
    check_layout(layout, reg, fail)
    limits = data.get("limits", {})
    try:  # bounds on the running size (dmm_studio.limits)
        Limits.from_dict(limits)
    except ValueError as e:
        raise fail(str(e), "limits") from None
    warn_undeclared(vv.get_in(outputs, (SELF_TYPE, SELF_NAME, MATRIX_OUTPUT)), reg, stacklevel=4)
    net = Network(
        outputs={},
        params=params,
        fields=data.get("fields", []),
        layout=layout,
        meta=data.get("meta", {}),
        limits=dict(limits),
        registry=registry,  # its edits are checked against the types it was loaded with
    )
    net.outputs = outputs  # canonical already: not canonicalised again
    return net


def _state_from_json(data: Any, reg: Registry, fail: Any, w: Any = None) -> State:
    """The outputs as canonical V-values (``w``: W checked by ``_regular_matrix``, kept as it is)."""
    state: State = {}
    for f, names in data.items():
        if f not in reg:
            raise fail(f"unknown neuron type {f!r}{reg.missing_hint(f)}", "outputs", f)
        for n, outs in names.items():
            for o, v in outs.items():
                if v is w:
                    state.setdefault(f, {}).setdefault(n, {})[o] = w
                    continue
                try:
                    value = vv.from_json(v, max_depth=MAX_DEPTH)
                except vv.VValueError as e:
                    raise fail(e.reason, "outputs", f, n, o, *e.path) from None
                if value:
                    state.setdefault(f, {}).setdefault(n, {})[o] = value
    return state


def _regular_matrix(w: Any, reg: Registry) -> bool:
    """Whether W as parsed is a canonical V-value already, and regular: six
    levels of non-empty objects under labels (no reserved keys) down to
    non-zero numbers that fit a float64, naming known neuron types only. Such
    a W (a saved file's) is used as parsed: no copy, no second pass; any
    other goes through ``vv.from_json`` and ``check_matrix``, which name what
    is wrong."""
    if type(w) is not dict or not w:
        return False
    types: set[str] = set()
    lo, hi = -FLOAT_LIMIT, FLOAT_LIMIT
    for f, names in w.items():
        if type(names) is not dict or not names or f[:1] == ":":
            return False
        types.add(f)
        for n, ins in names.items():
            if type(ins) is not dict or not ins or n[:1] == ":":
                return False
            for i, row in ins.items():
                if type(row) is not dict or not row or i[:1] == ":":
                    return False
                types.update(row)
                for g, ms in row.items():
                    if type(ms) is not dict or not ms or g[:1] == ":":
                        return False
                    for m, os in ms.items():
                        if type(os) is not dict or not os or m[:1] == ":":
                            return False
                        for o, x in os.items():
                            tx = type(x)
                            if tx is float:
                                if x == 0 or x - x != 0 or o[:1] == ":":
                                    return False
                            elif tx is not int or x == 0 or not lo < x < hi or o[:1] == ":":
                                return False
    return all(t in reg for t in types)


def _check_matrix(state: State, reg: Registry, fail: Any) -> None:
    """Every neuron type that W_0 names is known; every weight is a number."""
    check_matrix(vv.get_in(state, (SELF_TYPE, SELF_NAME, MATRIX_OUTPUT)) or {}, reg, fail)


# ------------------------------------------------------------------ saving


def state_to_json(state: Mapping[str, Any]) -> dict[str, Any]:
    """A state with canonical V-values; ``{}`` outputs left out."""
    out: dict[str, Any] = {}
    for f, names in state.items():
        for n, outs in names.items():
            for o, v in outs.items():
                j = vv.to_json(v)
                if j:
                    out.setdefault(f, {}).setdefault(n, {})[o] = j
    return out


def network_to_json(net: Network) -> dict[str, Any]:
    data: dict[str, Any] = {"format": FORMAT}
    if net.meta:
        data["meta"] = net.meta
    if net.limits:
        data["limits"] = dict(net.limits)
    data["outputs"] = state_to_json(net.outputs)
    # Self's network matrix must be present even when empty
    data["outputs"].setdefault(SELF_TYPE, {}).setdefault(SELF_NAME, {}).setdefault(MATRIX_OUTPUT, {})
    if net.params:
        data["params"] = net.params
    data["fields"] = net.fields
    data["layout"] = net.layout
    return data


def dumps_network(net: Network) -> str:
    """The text of a network file. Raises ValueError naming the JSON path of
    what a network file cannot hold, so that what saves can be opened again:
    a number that is not finite or not a float64 (NaN, infinity, an integer
    of magnitude >= 2**1024: a snapshot of a run whose values blew up), or
    nesting deeper than ``MAX_DEPTH``."""
    parts = {"meta": net.meta, "outputs": net.outputs, "params": net.params}
    parts.update(fields=net.fields, layout=net.layout)
    for doc in (parts, None):  # in memory first (the conversion recurses), then as written
        data = network_to_json(net) if doc is None else doc
        deep = depth_beyond(data, MAX_DEPTH)
        if deep is not None:
            raise ValueError(
                f"cannot save: {json_path_str(deep)} nests too deep (a network file may nest at most "
                f"{MAX_DEPTH} levels, so it could not be opened again)"
            )
    try:
        return json.dumps(data, indent=1, allow_nan=False) + "\n"
    except ValueError:
        bad = bad_number_in(data)
        if bad is None:
            raise
        path, x = bad
        raise ValueError(
            f"cannot save: {json_path_str(path)} is {short(x)}; network files hold finite numbers "
            "that fit a float64"
        ) from None


def save_network(net: Network, path: str | os.PathLike[str]) -> None:
    """Write the network file atomically (see ``write_atomic``)."""
    write_atomic(path, dumps_network(net))


# ------------------------------------------------------------------ traces

NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
"""How traces write non-finite numbers (RFC 8259 JSON has none): as the
strings "NaN", "Infinity", "-Infinity" in a number's place (a V-value leaf or
an element of a tensor's data). No V-value leaf is ever a string, so the
reading is unambiguous; ``read_trace`` turns them back into floats."""


class TraceError(StepError):
    """A state that a trace cannot hold (an integer beyond a float64's range)."""


def trace_json(state: Mapping[str, Any]) -> dict[str, Any]:
    """A state as trace JSON: canonical V-values, ``{}`` outputs left out,
    integral floats written as integers (traces do not depend on whether an
    engine computed in ints or floats), non-finite numbers as the strings of
    ``NONFINITE``. Raises ValueError naming the path of an integer of
    magnitude >= 2**1024 (no float64 reader could read it)."""
    out: dict[str, Any] = {}
    for f, names in state.items():
        for n, outs in names.items():
            for o, v in outs.items():
                j = _trace_node(vv.to_json(v), (f, n, o))
                if j:
                    out.setdefault(f, {}).setdefault(n, {})[o] = j
    return out


def _trace_number(x: Any, path: tuple[Any, ...]) -> Any:
    if type(x) is float:
        if x - x != 0:
            return "NaN" if x != x else ("Infinity" if x > 0 else "-Infinity")
        if x.is_integer() and -(2**53) <= x <= 2**53:
            return int(x)
        return x
    if type(x) is int and not -FLOAT_LIMIT < x < FLOAT_LIMIT:
        raise ValueError(
            f"{'/'.join(map(str, path))} is {short(x)}, beyond a float64's range (|x| < 2**1024)"
        )
    return x


def _trace_node(node: Any, path: tuple[Any, ...]) -> Any:
    if not isinstance(node, dict):
        return _trace_number(node, path)
    # a path is kept as a link to its parent's, built only for an error
    # (a deep value, a list of 10,000 items, would copy it at every level)
    links: list[tuple[int, Any]] = [(-1, None)]

    def path_of(i: int, k: Any) -> tuple[Any, ...]:
        keys = [k]
        while i > 0:
            i, key = links[i]
            keys.append(key)
        return (*path, *reversed(keys))

    stack = [(node, 0)]
    while stack:
        d, at = stack.pop()
        for k, x in d.items():
            if k == vv.TENSOR:
                data = x["data"]
                if any(type(e) is float and e - e != 0 for e in data):
                    x["data"] = [_trace_number(e, path_of(at, k)) if type(e) is float else e for e in data]
            elif isinstance(x, dict):
                links.append((at, k))
                stack.append((x, len(links) - 1))
            else:
                tx = type(x)
                if tx is float or (tx is int and not -FLOAT_LIMIT < x < FLOAT_LIMIT):
                    d[k] = _trace_number(x, path_of(at, k))
    return node


class TraceWriteError(OSError):
    """The trace file could not be written (a full disk, ...): ``str()`` is
    one line naming the file and the reason."""

    def __init__(self, path: Path, e: OSError) -> None:
        super().__init__(e.errno, e.strerror or str(e), str(path))
        self.text = f"cannot write the trace {path}: {e.strerror or e}"

    def __str__(self) -> str:
        return self.text


class TraceWriter:
    """Writes ``{"step": t, "outputs": y_t}`` lines (SPEC §6) as RFC 8259
    JSON (see ``trace_json`` for numbers). ``write`` and ``close`` raise
    TraceWriteError when the file cannot take the lines; the file is closed
    then (no second failure when it is collected), its whole lines kept."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fh: IO[str] = open(self.path, "w", encoding="utf-8")  # noqa: SIM115

    def write(self, t: int, state: Mapping[str, Any]) -> None:
        """Append step ``t``. Raises TraceError (a StepError: the CLI stops
        with exit 1 and one line) for a state no trace can hold."""
        try:
            outputs = trace_json(state)
            # keys sorted: a state gives the same line whatever the engine's dict order
            line = json.dumps(
                {"step": t, "outputs": outputs}, separators=(",", ":"), allow_nan=False, sort_keys=True
            )
        except ValueError as e:
            raise TraceError(t, f"cannot write the trace: {e}") from None
        except RecursionError:  # a value nested deeper than json's C encoder goes
            line = dumps_deep({"step": t, "outputs": outputs}, sort_keys=True)
        try:
            self._fh.write(line + "\n")  # one call: Ctrl+C never splits a line
        except OSError as e:
            self._abandon()
            raise TraceWriteError(self.path, e) from None

    def close(self) -> None:
        try:
            self._fh.close()
        except OSError as e:
            self._abandon()
            raise TraceWriteError(self.path, e) from None

    def _abandon(self) -> None:
        """Close after a failed write, dropping what the buffer still holds."""
        with contextlib.suppress(OSError):
            self._fh.close()  # the raw file closes even when the flush fails

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _from_trace(x: Any) -> Any:
    """Trace JSON back to plain JSON numbers (the NONFINITE strings as floats)."""
    if isinstance(x, str):
        return NONFINITE.get(x, x)
    if not isinstance(x, dict):
        return x
    stack = [x]
    while stack:
        d = stack.pop()
        for k, v in d.items():
            if isinstance(v, str):
                d[k] = NONFINITE.get(v, v)
            elif k == vv.TENSOR and isinstance(v, dict) and isinstance(v.get("data"), list):
                v["data"] = [NONFINITE.get(e, e) if isinstance(e, str) else e for e in v["data"]]
            elif isinstance(v, dict):
                stack.append(v)
    return x


def read_trace(path: str | os.PathLike[str]) -> Iterator[tuple[int, State]]:
    """The (step, state) pairs of a trace, tensors decoded, non-finite
    numbers (written as strings, see ``NONFINITE``) as floats."""
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                state = {
                    f: {n: {o: _trace_value(v) for o, v in outs.items()} for n, outs in names.items()}
                    for f, names in obj["outputs"].items()
                }
                yield obj["step"], state
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                raise NetworkFileError(path, f"line {lineno}: not a trace line ({e})") from None


def _trace_value(v: Any) -> vv.VValue:
    """A trace's V-value, validated; non-finite numbers (see ``NONFINITE``) are kept."""
    try:
        return vv.from_json(v)
    except vv.VValueError:
        text = json.dumps(v)
        if not any(f'"{s}"' in text for s in NONFINITE):
            raise
    return _vvalue_allowing_nonfinite(_from_trace(v))


def _vvalue_allowing_nonfinite(v: Any) -> vv.VValue:
    if not isinstance(v, dict):
        return {vv.NUMBER: v} if v else {}
    out: dict[str, Any] = {}
    stack = [(v, out)]
    while stack:
        src, dst = stack.pop()
        for k, x in src.items():
            if k == vv.TENSOR:
                dst[k] = _tensor_allowing_nonfinite(x)
            elif isinstance(x, dict):
                dst[k] = {}
                stack.append((x, dst[k]))
            else:
                dst[k] = x
    return out


def _tensor_allowing_nonfinite(t: Any) -> Any:
    import torch

    return torch.tensor(t["data"], dtype=getattr(torch, t.get("dtype", "float32"))).reshape(t["shape"])
