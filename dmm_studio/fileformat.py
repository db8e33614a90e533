"""Network files (``*.dmm.json``, SPEC §6) and traces (``--trace OUT.jsonl``).

Loading validates everything and never runs code from the file: a file that is
not of the form is refused with a ``NetworkFileError`` that names the file and
the first thing wrong in it, with its JSON path. Saving writes canonical
V-values atomically (a temporary file renamed over the target), so a failed
save never destroys the previous file.
"""

from __future__ import annotations

import contextlib
import glob
import json
import math
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from . import vvalue as vv
from .engine.base import MATRIX_OUTPUT, State, StepError
from .fields import field_problem
from .network import Network
from .registry import SELF_NAME, SELF_TYPE, Registry, default_registry
from .schema import FLOAT_LIMIT, short

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
    """``("outputs", "identity", "a b")`` as ``$.outputs.identity["a b"]``;
    paths over 24 steps keep their first 12 and last 8 around ``…``."""
    out = "$"
    steps = list(path)
    if len(steps) > 24:
        steps = [*steps[:12], None, *steps[-8:]]
    for k in steps:
        if k is None:
            out += f"…({len(path) - 20} more)…"
        elif isinstance(k, int):
            out += f"[{k}]"
        elif _PLAIN_KEY.match(k):
            out += f".{k}"
        else:
            out += f"[{json.dumps(k)}]"
    return out


# ------------------------------------------------------------------ loading

MAX_FILE_BYTES = 256 * 2**20
"""Network files larger than this (256 MiB) are refused before reading."""
MAX_DEPTH = 100
"""JSON nested deeper than this many levels (counted from the top of the
file) is refused: the studio's editors, undo and engine hosts copy and walk
these values recursively. The parser, ``vvalue.from_json`` and ``to_json``
themselves are iterative or guarded and handle any depth."""


class _DuplicateKey(Exception):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise _DuplicateKey
    return d


def read_text(path: str | os.PathLike[str], what: str = "network file") -> str:
    """The UTF-8 text of a regular file of at most ``MAX_FILE_BYTES``.

    FIFOs, devices, sockets and directories are refused without being read
    (never blocks); raises NetworkFileError with one line."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise NetworkFileError(p, "no such file") from None
    except OSError as e:
        raise NetworkFileError(p, e.strerror or str(e)) from None
    if stat.S_ISDIR(st.st_mode):
        raise NetworkFileError(p, f"is a directory, not a {what}")
    if not stat.S_ISREG(st.st_mode):
        raise NetworkFileError(
            p, f"is {_file_kind(st.st_mode)}, not a regular file (a {what} is a plain file)"
        )
    if st.st_size > MAX_FILE_BYTES:
        raise NetworkFileError(p, f"is {_mib(st.st_size)}; a {what} may be at most {_mib(MAX_FILE_BYTES)}")
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as e:
        raise NetworkFileError(p, e.strerror or str(e)) from None
    try:
        st = os.fstat(fd)  # the file opened may not be the one stat saw
        if not stat.S_ISREG(st.st_mode):
            raise NetworkFileError(
                p, f"is {_file_kind(st.st_mode)}, not a regular file (a {what} is a plain file)"
            )
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise NetworkFileError(p, e.strerror or str(e)) from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise NetworkFileError(p, f"is over {_mib(MAX_FILE_BYTES)}, the most a {what} may be")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise NetworkFileError(p, f"not UTF-8 text (byte {e.start})") from None


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _mib(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB" if n % 2**20 else f"{n // 2**20:,} MiB"


def load_network(path: str | os.PathLike[str], registry: Registry | None = None) -> Network:
    """Read and validate a network file (see ``network_from_json``).

    Raises NetworkFileError (one line naming the file and, where it applies,
    the JSON path) for anything that is not a network file, including files
    that are not regular files, over ``MAX_FILE_BYTES`` or nested deeper than
    ``MAX_DEPTH``."""
    p = Path(path)
    return loads_network(read_text(p), source=str(p), registry=registry)


def parse_json(text: str, source: str = "<string>") -> Any:
    """JSON text as data, refusing what JSON readers disagree on: duplicate
    keys (never "the last one wins"), integers of more than 4,300 digits, and
    nesting deeper than ``MAX_DEPTH``. NaN/Infinity literals parse (as
    floats) and are refused where they stand, with their path, by the checks
    that follow. Raises NetworkFileError."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as e:
        raise NetworkFileError(source, f"not JSON: {e.msg} (line {e.lineno}, column {e.colno})") from None
    except _DuplicateKey:
        found = _find_duplicate(text)
        if found is None:
            raise NetworkFileError(source, "a key appears twice in one object") from None
        key, where = found
        raise NetworkFileError(
            source, f"the key {key!r} appears twice in one object", where or None
        ) from None
    except RecursionError:
        raise NetworkFileError(
            source, f"nesting is too deep (a file may nest at most {MAX_DEPTH} levels)"
        ) from None
    except ValueError as e:  # an integer beyond int()'s digit limit
        m = re.search(r"-?\d{4301,}", text)
        if m is None:
            raise NetworkFileError(source, f"not JSON: {e}") from None
        line = text.count("\n", 0, m.start()) + 1
        col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
        raise NetworkFileError(
            source,
            f"an integer of {len(m.group().lstrip('-')):,} digits is beyond a float64's range "
            f"(line {line}, column {col})",
        ) from None
    return data


class _Pairs(list):  # type: ignore[type-arg]
    pass


def _find_duplicate(text: str) -> tuple[str, tuple[Any, ...]] | None:
    """The first duplicated key and the JSON path of its object (a second,
    slower parse that keeps every pair)."""
    try:
        data = json.loads(text, object_pairs_hook=_Pairs)
    except (ValueError, RecursionError):
        return None
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, _Pairs):
            seen: set[str] = set()
            for k, _ in node:
                if k in seen:
                    return k, path
                seen.add(k)
            stack.extend((v, (*path, k)) for k, v in reversed(node))
        elif isinstance(node, list):
            stack.extend((v, (*path, i)) for i, v in reversed(list(enumerate(node))))
    return None


def _depth_beyond(data: Any, limit: int) -> tuple[Any, ...] | None:
    """The path of the first container nested deeper than ``limit`` levels, or None."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            children: Any = node.items()
        elif isinstance(node, list):
            children = enumerate(node)
        else:
            continue
        if len(path) >= limit:
            return path
        stack.extend(((v, (*path, k)) for k, v in children if isinstance(v, (dict, list))))
    return None


def loads_network(text: str, source: str = "<string>", registry: Registry | None = None) -> Network:
    """Parse and validate the text of a network file (see ``parse_json`` and
    ``network_from_json``)."""
    return network_from_json(parse_json(text, source), source, registry)


def network_from_json(data: Any, source: str = "<data>", registry: Registry | None = None) -> Network:
    """A Network from parsed JSON data, validated (see the module's doc).

    First the nesting depth (``MAX_DEPTH``), then the file format's JSON
    Schema (``dmm_studio/schema/dmm.schema.json``), then what a schema cannot
    say: numbers anywhere must fit a float64, the V-values of ``outputs``
    (one iterative pass), neuron types and params known to the installed
    packs, W's six levels, layout keys naming known types. Raises
    NetworkFileError naming the file and the JSON path of the first fault."""
    from .schema import first_error

    reg = registry or default_registry()

    def fail(message: str, *path: Any) -> NetworkFileError:
        return NetworkFileError(source, message, tuple(path) or None)

    deep = _depth_beyond(data, MAX_DEPTH)
    if deep is not None:
        raise fail(f"nesting is too deep (a file may nest at most {MAX_DEPTH} levels)", *deep)
    problem = first_error(data, for_loader=True)
    if problem is not None:
        if problem.path[:1] == ("fields",) and len(problem.path) > 1:
            found = field_problem(data["fields"])  # names the field, as validate_fields does
            if found is not None:
                raise fail(found[0], "fields", *found[1])
        raise fail(problem.message, *problem.path)
    for key in ("params", "layout", "meta"):
        bad = _bad_number_in(data.get(key))
        if bad is not None:
            path, x = bad
            raise fail(_number_message(x), key, *path)

    outputs = _state_from_json(data["outputs"], reg, fail)
    if (
        not isinstance(vv.get_in(data["outputs"], (SELF_TYPE, SELF_NAME)), dict)
        or MATRIX_OUTPUT not in data["outputs"][SELF_TYPE][SELF_NAME]
    ):
        raise fail("no network matrix: outputs.self.self.network_matrix is missing", "outputs")
    _check_matrix(outputs, reg, fail)

    params = data.get("params", {})
    _check_params(params, reg, fail)
    layout = data.get("layout", {})
    _check_layout(layout, reg, fail)
    return Network(
        outputs=outputs,
        params=params,
        fields=data.get("fields", []),
        layout=layout,
        meta=data.get("meta", {}),
    )


def _bad_number_in(data: Any) -> tuple[tuple[Any, ...], Any] | None:
    """(path, number) of the first number in plain JSON data that a float64
    cannot hold (NaN, infinity, an integer of magnitude >= 2**1024)."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        t = type(node)
        if t is float:
            if node - node != 0:
                return path, node
        elif t is int:
            if not -FLOAT_LIMIT < node < FLOAT_LIMIT:
                return path, node
        elif t is dict:
            stack.extend((v, (*path, k)) for k, v in reversed(list(node.items())))
        elif t is list:
            stack.extend((v, (*path, i)) for i, v in reversed(list(enumerate(node))))
    return None


def _number_message(x: Any) -> str:
    if isinstance(x, float):
        return f"{x} is not a finite number (JSON has no NaN or Infinity)"
    return f"{short(x)} is beyond a float64's range (|x| < 2**1024)"


def _state_from_json(data: Any, reg: Registry, fail: Any) -> State:
    state: State = {}
    for f, names in data.items():
        if f not in reg:
            raise fail(f"unknown neuron type {f!r}", "outputs", f)
        for n, outs in names.items():
            for o, v in outs.items():
                try:
                    value = vv.from_json(v, max_depth=MAX_DEPTH)
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
    for f, names in params.items():
        if f not in reg:
            raise fail(f"unknown neuron type {f!r}", "params", f)
        declared = reg.get(f).params
        for n, ps in names.items():
            for k in ps:
                if k not in declared:
                    known = ", ".join(sorted(declared)) or "none"
                    raise fail(
                        f"neuron type {f!r} has no param {k!r} (its params: {known})", "params", f, n, k
                    )


def _check_layout(layout: Any, reg: Registry, fail: Any) -> None:
    """Every layout key names a neuron of a known type (the schema checked the form)."""
    for key in layout:
        f = key.split("/", 1)[0]
        if f not in reg:
            raise fail(f"the layout names the unknown neuron type {f!r}", "layout", key)


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
    """The text of a network file. Raises ValueError naming the JSON path of
    a number that a network file cannot hold (NaN, infinity, an integer of
    magnitude >= 2**1024: a snapshot of a run whose values blew up)."""
    data = network_to_json(net)
    try:
        return json.dumps(data, indent=1, allow_nan=False) + "\n"
    except ValueError:
        bad = _bad_number_in(data)
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


STALE_TEMP_SECONDS = 600
"""Temporary files of a save that was killed are removed by the next save
of the same file once they are this old (a save never takes so long)."""


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) so that a reader, a crash or a
    kill sees the old file or the new one, never a mix.

    The text goes to a temporary file beside the target, is flushed and
    fsynced, takes the target's permission bits (a new file gets the mode
    ``open()`` would give it under the umask), and is renamed over the
    target; the folder is then fsynced where the OS allows. On any failure
    the temporary file is removed and the error raised (OSError for a
    missing folder, a full disk, no permission); the old file is untouched.
    Leftover temporary files of killed saves are removed when stale.
    """
    p = Path(path)
    folder = p.parent
    try:
        mode: int | None = stat.S_IMODE(os.stat(p).st_mode)
    except FileNotFoundError:
        mode = None
    _remove_stale_temps(p)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = folder / f".{p.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, flags, 0o666)  # the umask applies, as for open()
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 random names taken
        raise FileExistsError(f"cannot make a temporary file in {folder}")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _remove_stale_temps(p: Path) -> None:
    try:
        now = time.time()
        for old in p.parent.glob(f".{glob.escape(p.name)}.*.tmp"):
            try:
                if now - old.stat().st_mtime > STALE_TEMP_SECONDS:
                    old.unlink()
            except OSError:
                pass
    except OSError:
        pass


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
    stack = [(node, path)]
    while stack:
        d, p = stack.pop()
        for k, x in d.items():
            if k == vv.TENSOR:
                data = x["data"]
                if any(type(e) is float and e - e != 0 for e in data):
                    x["data"] = [_trace_number(e, (*p, k)) if type(e) is float else e for e in data]
            elif isinstance(x, dict):
                stack.append((x, (*p, k)))
            else:
                d[k] = _trace_number(x, (*p, k))
    return node


class TraceWriter:
    """Writes ``{"step": t, "outputs": y_t}`` lines (SPEC §6) as RFC 8259
    JSON (see ``trace_json`` for numbers)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fh: IO[str] = open(self.path, "w", encoding="utf-8")  # noqa: SIM115

    def write(self, t: int, state: Mapping[str, Any]) -> None:
        """Append step ``t``. Raises TraceError (a StepError: the CLI stops
        with exit 1 and one line) for a state no trace can hold."""
        try:
            outputs = trace_json(state)
        except ValueError as e:
            raise TraceError(t, f"cannot write the trace: {e}") from None
        line = json.dumps({"step": t, "outputs": outputs}, separators=(",", ":"), allow_nan=False)
        self._fh.write(line + "\n")

    def close(self) -> None:
        self._fh.close()

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
