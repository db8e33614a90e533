"""Memory and data structures: lists built by consing, a word counter, and a
text reader.

Text as V-values: a token (a character or a word) ``w`` is the one-hot
vector ``{w: 1}``; a bag of tokens is a sparse vector of counts
``{"the": 2, "cat": 1}``. Labels may not start with ':', so a token that
starts with ':' or '\\' is written with a '\\' in front (see
``token_label``).

Lists as V-values (Lisp style): the empty list is ``{}``; the list with head
``x`` and tail ``L`` is ``{"head": x, "tail": L}``. So ``[a, b]`` is
``{"head": a, "tail": {"head": b}}``. ``{}`` cannot be an element (it is
zero: consing it leaves the list as it was), and like every V-value, lists
add leaf by leaf when two of them reach one input.
"""

from __future__ import annotations

import functools
import os
import re
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dmm_studio import vvalue as vv
from dmm_studio.datafiles import resolve_data_path
from dmm_studio.registry import neuron

from ._util import as_number, label_token, number, scalar, token_label

V = vv.VValue
P = Mapping[str, Any]
FAMILY = "data"
MAX_TEXT_BYTES = 10_000_000


# ------------------------------------------------------------------ lists


def cons(item: Any, lst: Any) -> V:
    """The list with head ``item`` and tail ``lst`` (``{}`` item: ``lst``)."""
    item, lst = vv.canon(item), vv.canon(lst)
    if not item:
        return lst
    return vv.canon({"head": item, "tail": lst})


def list_items(lst: Any, limit: int | None = None) -> list[V]:
    """The elements of a V-value list, head first."""
    out: list[V] = []
    node = vv.canon(lst)
    while node and (limit is None or len(out) < limit):
        head = node.get("head")
        if head is None:
            break
        out.append(vv.canon(head))
        node = node.get("tail") or {}
        node = node if isinstance(node, dict) else {}
    return out


def list_length(lst: Any) -> int:
    """The number of elements of a V-value list (its ``head`` entries down
    the ``tail`` chain). Remembered along the chain (``vv.memo``), so the
    length of a list consed onto every step costs the same at any length."""
    node = lst if isinstance(lst, dict) else {}
    seen: list[dict[str, Any]] = []
    n = 0
    while node and node.get("head") is not None:
        known = vv.memo.get(node, "length")
        if known is not None:
            n += known
            break
        seen.append(node)
        n += 1
        node = node.get("tail")
        node = node if isinstance(node, dict) else {}
    # remember every 16th node's length (counted from the end)
    for i in range(len(seen) - 1, -1, -16):
        vv.memo.put(seen[i], "length", n - i, 1)
    return n


def from_items(items: list[Any]) -> V:
    """A V-value list from elements (head first; ``{}`` elements are left out).
    Each element is put in canonical form once and the list is built as it
    goes (consing each onto the list built so far re-read the whole list at
    every element)."""
    lst: V = {}
    for item in reversed(items):
        item = vv.canon(item)
        if item:
            lst = {"head": vv._unwrap(item), "tail": lst} if lst else {"head": vv._unwrap(item)}
    return lst


@neuron(
    "data.cons",
    inputs=["item", "list"],
    outputs=["list", "length"],
    params={"max_length": 100},
    family=FAMILY,
)
def cons_neuron(x: Mapping[str, V], p: P) -> dict[str, V]:
    """List builder: list = cons(item, list) = {"head": item, "tail": list}.
    Wire its list output back to its list input with weight 1 and every
    non-zero item that arrives is pushed on the front; an empty item leaves
    the list as it was. The list keeps at most max_length elements (the
    oldest drop off; 0 = no limit). length is the number of elements."""
    limit = int(as_number(p["max_length"], "max_length"))
    # an engine's inputs are canonical already: consed as they are (cons() would
    # re-read the whole list)
    item, lst = x["item"], x["list"]
    if item:
        lst = {"head": vv._unwrap(item), "tail": lst} if lst else {"head": vv._unwrap(item)}
    if limit > 0:
        heads: list[Any] = []  # canonical nodes: taken as they are
        node: Any = lst
        while type(node) is dict and len(heads) <= limit:
            head = node.get("head")
            if head is None:
                break
            heads.append(head)
            node = node.get("tail")
        if len(heads) > limit:  # the oldest drops off: the list is built again
            lst = {}
            for head in reversed(heads[:limit]):
                lst = {"head": head, "tail": lst} if lst else {"head": head}
        return {"list": lst, "length": number(min(len(heads), limit))}
    return {"list": lst, "length": number(list_length(lst))}


@neuron("data.uncons", inputs=["list"], outputs=["head", "tail"], family=FAMILY)
def uncons(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Split a list: head is its first element, tail the rest ({} for {})."""
    lst = x["list"]
    head, tail = lst.get("head", {}), lst.get("tail", {})
    return {"head": vv.canon(head), "tail": vv.canon(tail)}


# ------------------------------------------------------------------ words

_STRIP = string.punctuation + "“”‘’«»—–…"


def normalize_word(word: str, lowercase: bool = True, strip: bool = True) -> str:
    if lowercase:
        word = word.lower()
    if strip:
        word = word.strip(_STRIP)
    return word


@neuron(
    "data.word_count",
    inputs=["words", "counts"],
    outputs=["counts", "total"],
    params={"lowercase": True, "strip": True},
    family=FAMILY,
)
def word_count(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Word counter: text -> a sparse vector of counts. The words input is a
    sparse vector of tokens (a word {w: 1}, or a bag of words); each of its
    top-level labels is normalised (lowercase, punctuation stripped from
    both ends, when the params say so) and its count is added to counts.
    Wire counts back to itself with weight 1 to keep counting. total is the
    sum of all counts."""
    lower, strip = bool(p["lowercase"]), bool(p["strip"])
    counts = dict(x["counts"])
    counts.pop(vv.NUMBER, None)
    counts.pop(vv.TENSOR, None)
    for label, value in x["words"].items():
        if label.startswith(":"):
            continue
        n = scalar(value)
        word = normalize_word(label_token(label), lower, strip)
        if not word or not n:
            continue
        key = token_label(word)
        counts[key] = scalar(counts.get(key, 0)) + n
    counts = vv.canon(counts)
    total = sum(scalar(v) for v in counts.values())
    return {"counts": counts, "total": number(total)}


# ------------------------------------------------------------------ text


@functools.lru_cache(maxsize=32)
def _read_text(path: str, mtime_ns: int, size: int) -> str:
    if size > MAX_TEXT_BYTES:
        raise ValueError(f"{path}: the file is larger than {MAX_TEXT_BYTES} bytes")
    return Path(path).read_text(encoding="utf-8")


def text_of(p: P) -> str:
    """The text a reader reads: the file at param path (read as UTF-8 text,
    never run) when it is given, else the param text. The path is relative to
    the network's folder, and one that leads outside it is refused unless the
    user allowed it (``dmm_studio.datafiles``: ``FileAccessError``)."""
    path = p.get("path") or ""
    if path:
        if not isinstance(path, str):
            raise ValueError(f"param 'path' must be a string, not {path!r}")
        real = resolve_data_path(path)
        try:
            st = os.stat(real)
        except OSError as e:
            raise ValueError(f"cannot read {path}: {e.strerror or e}") from None
        return _read_text(str(real), st.st_mtime_ns, st.st_size)
    text = p.get("text", "")
    if not isinstance(text, str):
        raise ValueError(f"param 'text' must be a string, not {text!r}")
    return text


@functools.lru_cache(maxsize=64)
def tokens(text: str, mode: str) -> tuple[str, ...]:
    """The tokens of a text: its characters, or its words (split on spaces)."""
    if mode == "chars":
        return tuple(text)
    if mode == "words":
        return tuple(re.findall(r"\S+", text))
    raise ValueError(f"param 'mode' must be 'chars' or 'words', not {mode!r}")


@neuron(
    "data.text_reader",
    inputs=["t"],
    outputs=["token", "index", "done"],
    params={"text": "", "path": "", "mode": "chars", "loop": False},
    family=FAMILY,
)
def text_reader(x: Mapping[str, V], p: P) -> dict[str, V]:
    """Text reader: emits the text one token at a time, a character or a
    word (mode "chars" or "words") as the one-hot vector {token: 1}. The
    text is the param text, or the file named by the param path (read as
    UTF-8, never executed). Which token comes out is given by the input t
    (wire a clock to it): token number t, counting from 0. Past the end it
    emits nothing and done = 1, unless loop is true. index is t. A path is
    read relative to the network file's folder; one outside that folder is
    refused unless the user allows it (dmm-studio run --allow-outside-files)."""
    toks = tokens(text_of(p), str(p["mode"]))
    i = int(round(scalar(x["t"])))
    if toks and bool(p["loop"]):
        i %= len(toks)
    if 0 <= i < len(toks):
        return {"token": {token_label(toks[i]): 1}, "index": number(i), "done": {}}
    return {"token": {}, "index": number(i), "done": number(1)}


TYPES = [cons_neuron, uncons, word_count, text_reader]
