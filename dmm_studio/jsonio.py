"""Safe reading and atomic writing of JSON files (network files, and any
other JSON the studio keeps): one clear line for every bad file.

``read_text`` refuses what is not a regular file (FIFOs, devices: never
blocks, never reads without limit) and files over ``MAX_FILE_BYTES``;
``parse_json`` refuses duplicate keys, integers of 4,300+ digits and nesting
deeper than ``MAX_DEPTH``; ``bad_number_in`` finds numbers a float64 cannot
hold; ``write_atomic`` replaces a file so a crash leaves the old or the new
one. Errors are ``NetworkFileError``: the file, the JSON path, what is wrong.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import secrets
import stat
import time
from pathlib import Path
from typing import Any

from .schema import FLOAT_LIMIT, short

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


class FileProblem(ValueError):
    """A file that cannot be used, in one line: ``SOURCE at JSON_PATH: REASON``
    (``source``, ``reason``, ``json_path`` kept as attributes)."""

    def __init__(
        self, source: str | os.PathLike[str], message: str, json_path: tuple[Any, ...] | None = None
    ) -> None:
        self.source = str(source)
        self.reason = message
        self.json_path = json_path
        where = f" at {json_path_str(json_path)}" if json_path else ""
        super().__init__(f"{self.source}{where}: {message}")

    def __reduce__(self) -> Any:  # a copy sent between processes keeps its parts
        return (type(self), (self.source, self.reason, self.json_path))


class NetworkFileError(FileProblem):
    """A network or trace file that cannot be read; the message is one line."""


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
    """The UTF-8 text of a regular file of at most ``MAX_FILE_BYTES`` (see
    ``read_bytes``); raises NetworkFileError with one line."""
    data = read_bytes(path, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise NetworkFileError(Path(path), f"not UTF-8 text (byte {e.start})") from None


def read_bytes(path: str | os.PathLike[str], what: str = "network file") -> bytes:
    """The bytes of a regular file of at most ``MAX_FILE_BYTES``.

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
    return data


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


def parse_json(text: str | bytes, source: str = "<string>", max_depth: int | None = MAX_DEPTH) -> Any:
    """JSON text (or its UTF-8 bytes) as data, refusing what JSON readers
    disagree on: duplicate keys (never "the last one wins"), integers of more
    than 4,300 digits. NaN/Infinity literals parse (as floats) and are refused
    where they stand, with their path, by the checks that follow. Raises
    NetworkFileError.

    orjson parses when it is installed (several times faster than the
    standard library's json with the duplicate-key hook on large files); a
    count of the file's key/value pairs against the parsed objects' entries
    catches duplicates, which orjson keeps silently. Anything orjson refuses
    or may read differently (duplicates, integers beyond 64 bits, which it
    turns into floats) is parsed again by the standard library, whose
    messages and numbers are the reference."""
    data = _parse_fast(text, max_depth)
    if data is _TOO_DEEP:
        raise NetworkFileError(source, _too_deep(max_depth), _path_of(_TOO_DEEP.data, _TOO_DEEP.node) or None)
    if data is not _REFUSED:
        return data
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise NetworkFileError(source, f"not UTF-8 text (byte {e.start})") from None
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
        raise NetworkFileError(source, _too_deep(max_depth if max_depth is not None else MAX_DEPTH)) from None
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
    if max_depth is not None:
        deep = depth_beyond(data, max_depth)
        if deep is not None:
            raise NetworkFileError(source, _too_deep(max_depth), deep or None)
    return data


_REFUSED = object()


class _Deep:
    data: Any = None
    node: Any = None


_TOO_DEEP = _Deep()


def _too_deep(limit: int | None) -> str:
    return f"nesting is too deep (a file may nest at most {limit} levels)"


_BIG_FLOAT = float(2**63)


def _parse_fast(text: str | bytes, max_depth: int | None) -> Any:
    """orjson's parse, or _REFUSED (orjson missing or refusing, a duplicate
    key, or a float that may have been an integer beyond 64 bits)."""
    try:
        import orjson
    except ImportError:
        return _REFUSED
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _REFUSED
    blob = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    if b"\\u003a" in blob or b"\\u003A" in blob:  # a ':' written as an escape
        return _REFUSED
    counted = _colons_if_exact(data, max_depth)
    if counted is None:
        return _REFUSED
    if isinstance(counted, tuple):
        _TOO_DEEP.data, _TOO_DEEP.node = data, counted[0]
        return _TOO_DEEP
    colons = blob.count(b":")
    # Every ':' of valid JSON separates a key from its value or lies in a
    # string. The parsed data holds one entry per pair and every string that
    # survived; a duplicate drops a pair (and its strings), so the counts
    # agree exactly when no key is repeated.
    return data if colons == counted else _REFUSED


def _colons_if_exact(data: Any, max_depth: int | None) -> int | tuple[Any] | None:
    """The entries of all objects plus the ':' in all keys and strings of
    ``data``; None when a float of magnitude >= 2**63 appears (orjson reads
    integers beyond 64 bits as floats); ``(node,)`` for a container nested
    deeper than ``max_depth``."""
    n = 0
    limit = -1 if max_depth is None else max_depth
    strings: list[str] = []
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        node, d = stack.pop()
        if type(node) is dict:
            n += len(node)
            strings.extend(node)
            values: Any = node.values()
        elif type(node) is list:
            values = node
        else:
            values = (node,)
        if d == limit and values:
            return (node,)
        d += 1
        for v in values:
            tv = type(v)
            if tv is dict or tv is list:
                stack.append((v, d))
            elif tv is str:
                strings.append(v)
            elif tv is float and not -_BIG_FLOAT < v < _BIG_FLOAT:
                return None
    return n + "\x00".join(strings).count(":")


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


def depth_beyond(data: Any, limit: int) -> tuple[Any, ...] | None:
    """The path of the first container nested deeper than ``limit`` levels, or None."""
    if type(data) not in (dict, list):
        return None
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        node, d = stack.pop()
        values = node.values() if type(node) is dict else node
        if d >= limit:
            return _path_of(data, node)
        d += 1
        for v in values:
            tv = type(v)
            if tv is dict or tv is list:
                stack.append((v, d))
    return None


def _path_of(data: Any, target: Any) -> tuple[Any, ...]:
    """The path from ``data`` to the container ``target`` (found by identity)."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        if node is target:
            return path
        items = node.items() if type(node) is dict else enumerate(node)
        stack.extend((v, (*path, k)) for k, v in items if type(v) in (dict, list))
    return ()


def bad_number_in(data: Any) -> tuple[tuple[Any, ...], Any] | None:
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


def number_message(x: Any) -> str:
    if isinstance(x, float):
        return f"{x} is not a finite number (JSON has no NaN or Infinity)"
    return f"{short(x)} is beyond a float64's range (|x| < 2**1024)"


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


def dumps_deep(data: Any, sort_keys: bool = False) -> str:
    """``json.dumps(data, separators=(",", ":"), allow_nan=False)`` for data
    nested any depth: an explicit stack where json's C encoder stops at
    Python's recursion limit (a list of 10,000 items is 20,000 levels).
    Slower than json.dumps: for what that cannot write. Raises ValueError
    for NaN or infinities, TypeError for what is not JSON data."""
    parts: list[str] = []
    # (is a piece of text already, the text or the value to write)
    stack: list[tuple[bool, Any]] = [(False, data)]
    while stack:
        text, x = stack.pop()
        if text:
            parts.append(x)
        elif isinstance(x, dict):
            items = sorted(x.items()) if sort_keys else list(x.items())
            stack.append((True, "}"))
            for i in range(len(items) - 1, -1, -1):
                k, v = items[i]
                if not isinstance(k, str):
                    raise TypeError(f"keys must be str, not {type(k).__name__}")
                stack.append((False, v))
                stack.append((True, ("," if i else "") + json.dumps(k) + ":"))
            stack.append((True, "{"))
        elif isinstance(x, (list, tuple)):
            stack.append((True, "]"))
            for i in range(len(x) - 1, -1, -1):
                stack.append((False, x[i]))
                if i:
                    stack.append((True, ","))
            stack.append((True, "["))
        else:
            parts.append(json.dumps(x, allow_nan=False))
    return "".join(parts)
