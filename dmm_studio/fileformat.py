"""Network files (``*.dmm.json``, SPEC §6) and traces (``--trace OUT.jsonl``).

Loading validates everything and never runs code from the file: a file that is
not of the form is refused with a ``NetworkFileError`` that names the file and
the first thing wrong in it, with its JSON path. Saving writes canonical
V-values atomically (a temporary file renamed over the target), so a failed
save never destroys the previous file.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from . import vvalue as vv
from .engine.base import MATRIX_OUTPUT, State
from .fields import validate_fields
from .network import Network
from .registry import SELF_NAME, SELF_TYPE, Registry, default_registry

FORMAT = "dmm-studio/1"
TOP_KEYS = ("format", "outputs", "params", "fields", "layout", "meta")
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


class NetworkFileError(ValueError):
    """A network or trace file that cannot be read; the message is one line."""

    def __init__(
        self, source: str | os.PathLike[str], message: str, json_path: tuple[Any, ...] | None = None
    ) -> None:
        self.source = str(source)
        self.reason = message
        self.json_path = json_path
        where = f" at {json_path_str(json_path)}" if json_path else ""
        super().__init__(f"{self.source}{where}: {message}")


def json_path_str(path: tuple[Any, ...]) -> str:
    """``("outputs", "identity", "a b")`` as ``$.outputs.identity["a b"]``."""
    out = "$"
    for k in path:
        if isinstance(k, int):
            out += f"[{k}]"
        elif _PLAIN_KEY.match(k):
            out += f".{k}"
        else:
            out += f"[{json.dumps(k)}]"
    return out


# ------------------------------------------------------------------ loading


def load_network(path: str | os.PathLike[str], registry: Registry | None = None) -> Network:
    """Read and validate a network file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NetworkFileError(p, "no such file") from None
    except IsADirectoryError:
        raise NetworkFileError(p, "is a directory, not a network file") from None
    except UnicodeDecodeError as e:
        raise NetworkFileError(p, f"not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise NetworkFileError(p, e.strerror or str(e)) from None
    return loads_network(text, source=str(p), registry=registry)


def loads_network(text: str, source: str = "<string>", registry: Registry | None = None) -> Network:
    """Parse and validate the text of a network file."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise NetworkFileError(source, f"not JSON: {e.msg} (line {e.lineno}, column {e.colno})") from None
    except RecursionError:
        raise NetworkFileError(source, "nesting is too deep to read") from None
    try:
        return network_from_json(data, source, registry)
    except RecursionError:
        raise NetworkFileError(source, "nesting is too deep to read") from None


def network_from_json(data: Any, source: str = "<data>", registry: Registry | None = None) -> Network:
    """A Network from parsed JSON data, validated (see the module's doc)."""
    reg = registry or default_registry()

    def fail(message: str, *path: Any) -> NetworkFileError:
        return NetworkFileError(source, message, tuple(path) or None)

    if not isinstance(data, dict):
        raise fail(f"a network file holds a JSON object, not {_kind(data)}")
    for key in data:
        if key not in TOP_KEYS:
            raise fail(f"unknown key {key!r} (a network file has {', '.join(TOP_KEYS)})", key)
    if "format" not in data:
        raise fail(f"no 'format' (expected {FORMAT!r})")
    if data["format"] != FORMAT:
        raise fail(f"unsupported format {data['format']!r} (expected {FORMAT!r})", "format")
    if "outputs" not in data:
        raise fail("no 'outputs' (the initial state, which holds the network matrix)")

    outputs = _state_from_json(data["outputs"], reg, fail)
    if (
        not isinstance(vv.get_in(data["outputs"], (SELF_TYPE, SELF_NAME)), dict)
        or MATRIX_OUTPUT not in data["outputs"][SELF_TYPE][SELF_NAME]
    ):
        raise fail("no network matrix: outputs.self.self.network_matrix is missing", "outputs")
    _check_matrix(outputs, reg, fail)

    params = data.get("params", {})
    _check_params(params, reg, fail)
    fields = data.get("fields", [])
    if not isinstance(fields, list):
        raise fail(f"'fields' must be a list, not {_kind(fields)}", "fields")
    try:
        validate_fields(fields)
    except ValueError as e:
        raise fail(str(e), "fields") from None
    layout = data.get("layout", {})
    _check_layout(layout, fail)
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        raise fail(f"'meta' must be an object, not {_kind(meta)}", "meta")
    return Network(outputs=outputs, params=params, fields=fields, layout=layout, meta=meta)


def _state_from_json(data: Any, reg: Registry, fail: Any) -> State:
    if not isinstance(data, dict):
        raise fail(f"'outputs' must be an object, not {_kind(data)}", "outputs")
    state: State = {}
    for f, names in data.items():
        if f not in reg:
            raise fail(f"unknown neuron type {f!r}", "outputs", f)
        if not isinstance(names, dict):
            raise fail(f"expected an object of neuron names, not {_kind(names)}", "outputs", f)
        for n, outs in names.items():
            if not isinstance(outs, dict):
                raise fail(f"expected an object of outputs, not {_kind(outs)}", "outputs", f, n)
            for o, v in outs.items():
                try:
                    value = vv.from_json(v)
                except vv.VValueError as e:
                    raise fail(e.reason, "outputs", f, n, o, *e.path) from None
                if value:
                    state.setdefault(f, {}).setdefault(n, {})[o] = value
    return state


def _check_matrix(state: State, reg: Registry, fail: Any) -> None:
    """Every neuron type that W_0 names is known; every weight is a number."""
    w = vv.get_in(state, (SELF_TYPE, SELF_NAME, MATRIX_OUTPUT)) or {}
    base = ("outputs", SELF_TYPE, SELF_NAME, MATRIX_OUTPUT)
    for f, names in w.items():
        if f not in reg:
            raise fail(f"the network matrix names the unknown neuron type {f!r}", *base, f)
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
                            f"the network matrix names the unknown neuron type {g!r}", *base, f, n, i, g
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


def _check_params(params: Any, reg: Registry, fail: Any) -> None:
    if not isinstance(params, dict):
        raise fail(f"'params' must be an object, not {_kind(params)}", "params")
    for f, names in params.items():
        if f not in reg:
            raise fail(f"unknown neuron type {f!r}", "params", f)
        declared = reg.get(f).params
        if not isinstance(names, dict):
            raise fail(f"expected an object of neuron names, not {_kind(names)}", "params", f)
        for n, ps in names.items():
            if not isinstance(ps, dict):
                raise fail(f"expected an object of params, not {_kind(ps)}", "params", f, n)
            for k, v in ps.items():
                if k not in declared:
                    known = ", ".join(sorted(declared)) or "none"
                    raise fail(
                        f"neuron type {f!r} has no param {k!r} (its params: {known})", "params", f, n, k
                    )
                if isinstance(v, float) and not math.isfinite(v):
                    raise fail(f"{v} is not a finite number", "params", f, n, k)


def _check_layout(layout: Any, fail: Any) -> None:
    if not isinstance(layout, dict):
        raise fail(f"'layout' must be an object, not {_kind(layout)}", "layout")
    for key, entry in layout.items():
        if "/" not in key:
            raise fail("a layout key is 'type/name'", "layout", key)
        if not isinstance(entry, dict):
            raise fail(f"expected an object, not {_kind(entry)}", "layout", key)
        pos = entry.get("pos")
        if pos is not None and not (
            isinstance(pos, list) and len(pos) == 2 and all(vv.is_number(c) and math.isfinite(c) for c in pos)
        ):
            raise fail("'pos' must be [x, y] with finite numbers", "layout", key, "pos")


def _kind(x: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(x), "a number"
    )


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
    data["outputs"] = state_to_json(net.outputs)
    # Self's network matrix must be present even when empty
    data["outputs"].setdefault(SELF_TYPE, {}).setdefault(SELF_NAME, {}).setdefault(MATRIX_OUTPUT, {})
    if net.params:
        data["params"] = net.params
    data["fields"] = net.fields
    data["layout"] = net.layout
    return data


def dumps_network(net: Network) -> str:
    return json.dumps(network_to_json(net), indent=1, allow_nan=False) + "\n"


def save_network(net: Network, path: str | os.PathLike[str]) -> None:
    """Write atomically: the old file stays whole if anything fails."""
    text = dumps_network(net)
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ------------------------------------------------------------------ traces


class TraceWriter:
    """Writes ``{"step": t, "outputs": y_t}`` lines (SPEC §6)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fh: IO[str] = open(self.path, "w", encoding="utf-8")  # noqa: SIM115

    def write(self, t: int, state: Mapping[str, Any]) -> None:
        # keys sorted: the same state gives the same line whatever the engine's dict order
        line = json.dumps({"step": t, "outputs": state_to_json(state)}, separators=(",", ":"), sort_keys=True)
        self._fh.write(line + "\n")

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def read_trace(path: str | os.PathLike[str]) -> Iterator[tuple[int, State]]:
    """The (step, state) pairs of a trace, tensors decoded."""
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                state = {
                    f: {n: {o: vv.from_json(v) for o, v in outs.items()} for n, outs in names.items()}
                    for f, names in obj["outputs"].items()
                }
                yield obj["step"], state
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                raise NetworkFileError(path, f"line {lineno}: not a trace line ({e})") from None
