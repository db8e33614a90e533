"""V-values: finite linear combinations of label paths (SPEC §1).

A V-value is a prefix tree held as nested dicts, with numeric leaves (and,
optionally, ``torch.Tensor`` leaves). The functions here are pure: they never
mutate their arguments, and they return values in canonical form:

* the top level is always a dict (``{}`` is zero; a scalar is ``{":number": x}``);
* inside, a node that holds only a scalar is the bare number, a node that holds
  only a tensor is the bare tensor; a node with children keeps its scalar under
  ``":number"`` and its tensor under ``":tensor"``;
* no entry whose value is ``0`` or ``{}``.

Internally the helpers work on *nodes*: a non-zero number, a tensor, a dict,
or ``None`` for zero. ``_wrap`` turns a node into a top-level V-value.

Tensor leaves are never dropped for being all zeros (that would need a device
sync on every add, and the shape is part of the stream's type); only
``scale(0, v)`` removes them. torch is never imported here: if it is not
loaded, no tensor can exist.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping
from typing import Any

NUMBER = ":number"
TENSOR = ":tensor"
RESERVED = (NUMBER, TENSOR)

VValue = dict[str, Any]
Path = tuple[str, ...]


class VValueError(ValueError):
    """A value is not a V-value, or an operation on V-values is undefined."""

    def __init__(self, message: str, path: Path = ()) -> None:
        self.path = path
        self.reason = message
        super().__init__(f"at {format_path(path)}: {message}" if path else message)


def format_path(path: Iterable[str]) -> str:
    """A path of labels as ``a/b/c`` (``/`` for the root)."""
    text = "/".join(str(p) for p in path)
    return text or "/"


def is_tensor(x: object) -> bool:
    # getattr: another thread (the engine's) may be importing torch right now,
    # and a partly imported module has no Tensor yet (then x is not a tensor)
    tensor = getattr(sys.modules.get("torch"), "Tensor", None)
    return tensor is not None and isinstance(x, tensor)


def is_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


# ---------------------------------------------------------------- node helpers


def _unwrap(d: dict[str, Any]) -> Any:
    """A dict node in nested canonical form: {} -> None, a lone leaf -> the leaf."""
    if len(d) == 1:
        if NUMBER in d:
            return d[NUMBER]
        if TENSOR in d:
            return d[TENSOR]
    return d if d else None


def _wrap(node: Any) -> VValue:
    """A node as a top-level V-value."""
    if node is None:
        return {}
    if isinstance(node, dict):
        return node
    return {TENSOR: node} if is_tensor(node) else {NUMBER: node}


def _leaf_dict(leaf: Any) -> dict[str, Any]:
    return {TENSOR: leaf} if is_tensor(leaf) else {NUMBER: leaf}


# The helpers below are the hot path of the reference engine. Each recurses
# while a value is shallow (the fast way in Python) and hands a node more
# than ``_DEEP`` levels down to a twin that walks with an explicit stack, so
# a value nested any depth (a list of 10,000 items is 20,000 levels) never
# exhausts Python's stack. They avoid building paths as they go: a
# VValueError raised deep inside gets its path filled in on the way out
# (``_under``), or from the stack's keys.

_DEEP = 100  # levels walked by recursion; below, a stack


def _under(e: VValueError, key: str) -> VValueError:
    return VValueError(e.reason, (key, *e.path))


def _at(e: VValueError, keys: list[str], *more: str) -> VValueError:
    return VValueError(e.reason, (*keys, *more, *e.path))


def _add(a: Any, b: Any, d: int = 0) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    ta, tb = type(a), type(b)
    if ta is dict:
        if tb is not dict:
            b = _leaf_dict(b)
        if d > _DEEP:
            return _add_deep(a, b)
        out = dict(a)
        for k, bv in b.items():
            av = out.get(k)
            if av is None:
                out[k] = bv
                continue
            try:
                r = _add(av, bv, d + 1)
            except VValueError as e:
                raise _under(e, k) from None
            if r is None:
                del out[k]
            else:
                out[k] = r
        return _unwrap(out)
    if tb is dict:
        return _add(_leaf_dict(a), b, d)
    return _add_leaves(a, b)


def _add_leaves(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        s = a + b
        return None if s == 0 else s
    ta_t, tb_t = is_tensor(a), is_tensor(b)
    if ta_t and tb_t:
        if a.shape != b.shape:
            raise VValueError(f"cannot add a tensor of shape {list(a.shape)} to one of shape {list(b.shape)}")
        return a + b
    if ta_t:
        return {NUMBER: b, TENSOR: a}
    if tb_t:
        return {NUMBER: a, TENSOR: b}
    s = a + b
    return None if s == 0 else s


def _add_deep(a: dict[str, Any], b: dict[str, Any]) -> Any:
    """``_add`` of two dict nodes, with a stack instead of recursion."""
    keys: list[str] = []  # the labels from the root down to the frame on top
    stack: list[tuple[Any, dict[str, Any]]] = [(iter(b.items()), dict(a))]
    while True:
        items, out = stack[-1]
        for k, bv in items:
            av = out.get(k)
            if av is None:
                out[k] = bv
                continue
            ta, tb = type(av), type(bv)
            if ta is dict or tb is dict:
                keys.append(k)
                stack.append(
                    (
                        iter((bv if tb is dict else _leaf_dict(bv)).items()),
                        dict(av) if ta is dict else _leaf_dict(av),
                    )
                )
                break
            try:
                r = _add_leaves(av, bv)
            except VValueError as e:
                raise _at(e, keys, k) from None
            if r is None:
                del out[k]
            else:
                out[k] = r
        else:
            stack.pop()
            node = _unwrap(out)
            if not stack:
                return node
            k = keys.pop()
            parent = stack[-1][1]
            if node is None:
                del parent[k]
            else:
                parent[k] = node


def _mul_leaves(c: Any, x: Any) -> Any:
    tc, tx = type(c), type(x)
    if (tc is int or tc is float) and (tx is int or tx is float):
        r = x * c
        return None if r == 0 else r
    if is_tensor(c) and is_tensor(x) and c.shape != x.shape:
        raise VValueError(
            f"cannot multiply a tensor of shape {list(c.shape)} by one of shape {list(x.shape)}"
        )
    r = x * c
    if is_tensor(r):
        return r
    return None if r == 0 else r


def _scale(c: Any, node: Any, d: int = 0) -> Any:
    """Every leaf of ``node`` times the leaf ``c`` (a number or a tensor)."""
    if node is None:
        return None
    if c == 1 and type(c) is int:  # a wire of weight 1 passes the value itself, shared
        return node
    if type(node) is dict:
        if d > _DEEP:
            return _scale_deep(c, node)
        out = {}
        for k, v in node.items():
            try:
                r = _scale(c, v, d + 1)
            except VValueError as e:
                raise _under(e, k) from None
            if r is not None:
                out[k] = r
        return _unwrap(out)
    return _mul_leaves(c, node)


def _scale_deep(c: Any, node: dict[str, Any]) -> Any:
    """``_scale`` of a dict node, with a stack instead of recursion."""
    keys: list[str] = []
    stack: list[tuple[Any, dict[str, Any]]] = [(iter(node.items()), {})]
    while True:
        items, out = stack[-1]
        for k, v in items:
            if type(v) is dict:
                keys.append(k)
                stack.append((iter(v.items()), {}))
                break
            try:
                r = _mul_leaves(c, v)
            except VValueError as e:
                raise _at(e, keys, k) from None
            if r is not None:
                out[k] = r
        else:
            stack.pop()
            done = _unwrap(out)
            if not stack:
                return done
            k = keys.pop()
            if done is not None:
                stack[-1][1][k] = done


def _mask(m: Any, v: Any, d: int = 0) -> Any:
    """The reference's rec-map-mult-mask on nodes."""
    if v is None or m is None:  # an empty mask lets nothing through
        return None
    if type(m) is dict:
        if type(v) is not dict:
            return None  # map x leaf is 0
        if d > _DEEP:
            return _mask_deep(m, v)
        out = {}
        for k, mk in m.items():
            vk = v.get(k)
            if vk is not None:
                try:
                    r = _mask(mk, vk, d + 1)
                except VValueError as e:
                    raise _under(e, k) from None
                if r is not None:
                    out[k] = r
        return _unwrap(out)
    return _scale(m, v)  # a leaf of the mask scales the whole subtree


def _mask_deep(m: dict[str, Any], v: dict[str, Any]) -> Any:
    """``_mask`` of two dict nodes, with a stack instead of recursion."""
    keys: list[str] = []
    stack: list[tuple[Any, dict[str, Any], dict[str, Any]]] = [(iter(m.items()), v, {})]
    while True:
        items, vn, out = stack[-1]
        for k, mk in items:
            vk = vn.get(k)
            if vk is None:
                continue
            if type(mk) is dict:
                if type(vk) is dict:
                    keys.append(k)
                    stack.append((iter(mk.items()), vk, {}))
                    break
                continue  # map x leaf is 0
            try:
                r = _scale(mk, vk)
            except VValueError as e:
                raise _at(e, keys, k) from None
            if r is not None:
                out[k] = r
        else:
            stack.pop()
            done = _unwrap(out)
            if not stack:
                return done
            k = keys.pop()
            if done is not None:
                stack[-1][2][k] = done


def lin_comb(mask: Any, value: Any, d: int = 0) -> Any:
    """The reference's rec-map-lin-comb on nodes: like ``_mask``, but the
    pieces found under the mask's leaves are summed instead of kept apart.

    Applied to a row of the network matrix and the state ``y`` it is the down
    movement: ``sum W[g][m][o] * y[g][m][o]``. (``d``: the depth reached, for
    the walk's own use.)
    """
    if value is None:
        return None
    if type(mask) is dict:
        if type(value) is not dict:
            return None
        if d > _DEEP:
            return _lin_comb_deep(mask, value)
        acc = None
        for k, mk in mask.items():
            vk = value.get(k)
            if vk is not None:
                try:
                    acc = _add(acc, lin_comb(mk, vk, d + 1))
                except VValueError as e:
                    raise _under(e, k) from None
        return acc
    return _scale(mask, value)


def _lin_comb_deep(mask: dict[str, Any], value: dict[str, Any]) -> Any:
    """``lin_comb`` of two dict nodes, with a stack instead of recursion."""
    keys: list[str] = []
    stack: list[list[Any]] = [[iter(mask.items()), value, None]]  # items, value, sum so far
    while True:
        frame = stack[-1]
        for k, mk in frame[0]:
            vk = frame[1].get(k)
            if vk is None:
                continue
            if type(mk) is dict:
                if type(vk) is dict:
                    keys.append(k)
                    stack.append([iter(mk.items()), vk, None])
                    break
                continue
            try:
                frame[2] = _add(frame[2], _scale(mk, vk))
            except VValueError as e:
                raise _at(e, keys, k) from None
        else:
            stack.pop()
            if not stack:
                return frame[2]
            k = keys.pop()
            try:
                stack[-1][2] = _add(stack[-1][2], frame[2])
            except VValueError as e:
                raise _at(e, keys, k) from None


def _canon(v: Any, path: Path = ()) -> Any:
    try:
        return _canon_node(v)
    except VValueError as e:
        raise VValueError(e.reason, (*path, *e.path)) from None


def _canon_node(v: Any, d: int = 0) -> Any:
    tv = type(v)
    if tv is int or tv is float:
        return None if v == 0 else v
    if tv is dict or isinstance(v, Mapping):
        if d > _DEEP:
            return _canon_deep(v)
        out: dict[str, Any] = {}
        for k, x in v.items():
            tx = type(x)
            if (tx is int or tx is float) and type(k) is str and (k[:1] != ":" or k == NUMBER):
                if x != 0:  # the common case: a numeric leaf under a label
                    out[k] = x
                continue
            if type(k) is not str or k[:1] == ":":
                _check_key(k, x)  # raises, or a reserved key holding what it should
            try:
                c = _canon_node(x, d + 1)
            except VValueError as e:
                raise _under(e, k) from None
            if c is not None:
                out[k] = c
        return _unwrap(out)
    return _canon_leaf(v)


def _check_key(k: Any, x: Any) -> None:
    """Raise VValueError (for the node holding ``k``) when ``k: x`` cannot be in a V-value."""
    if type(k) is not str:
        raise VValueError(f"key {k!r} is not a string")
    if k.startswith(":"):
        if k == NUMBER:
            if not is_number(x):
                raise VValueError(f"':number' holds {_describe(x)}, not a number")
        elif k == TENSOR:
            if not is_tensor(x):
                raise VValueError(f"':tensor' holds {_describe(x)}, not a tensor")
        else:
            raise VValueError(f"undefined reserved key {k!r}")


def _canon_leaf(v: Any) -> Any:
    tv = type(v)
    if tv is int or tv is float:
        return None if v == 0 else v
    if is_number(v):  # a numpy scalar, an int subclass...
        v = int(v) if isinstance(v, int) else float(v)
        return None if v == 0 else v
    if is_tensor(v):
        return v
    raise VValueError(f"{_describe(v)} is not a V-value")


def _canon_deep(v: Mapping[str, Any]) -> Any:
    """``_canon_node`` of a map, with a stack instead of recursion. Subtrees
    that ``memo`` knows canonical are taken as they are (shared, not walked);
    the dicts it builds are remembered every ``_EVERY`` levels, so a list
    that grows by one item a step is walked only down to the old list."""
    keys: list[str] = []
    # items, the dict being built, the leaves walked under it (its memo weight)
    stack: list[list[Any]] = [[iter(v.items()), {}, 0]]
    get = memo.get
    while True:
        frame = stack[-1]
        items, out = frame[0], frame[1]
        for k, x in items:
            tx = type(x)
            if (tx is int or tx is float) and type(k) is str and (k[:1] != ":" or k == NUMBER):
                if x != 0:
                    out[k] = x
                frame[2] += 1
                continue
            try:
                _check_key(k, x)
            except VValueError as e:
                raise _at(e, keys) from None
            if tx is dict and get(x, "canon"):
                out[k] = x
                continue
            if tx is dict or isinstance(x, Mapping):
                keys.append(k)
                stack.append([iter(x.items()), {}, 0])
                break
            try:
                c = _canon_leaf(x)
            except VValueError as e:
                raise _at(e, keys, k) from None
            if c is not None:
                out[k] = c
            frame[2] += 1
        else:
            stack.pop()
            done = _unwrap(out)
            if type(done) is dict and len(stack) % _EVERY == 0:
                # its weight: the leaves walked since the last dict remembered below it
                memo.put(done, "canon", True, frame[2])
                frame[2] = 0
            if not stack:
                return done
            k = keys.pop()
            stack[-1][2] += frame[2]
            if done is not None:
                stack[-1][1][k] = done


# -------------------------------------------------------------- deep values
# A value that grows a little each step (a list consed onto every step) is
# mostly the value of the step before: its old part is the very same dicts.
# ``memo`` remembers facts about dicts by identity (that one is canonical,
# what ``scan`` found in it), so the walks that run every step stop where
# the old part begins: a step costs the same at 10,000 items as at 10.
# V-values are never changed in place (every function here is pure); a dict
# whose own entries were replaced since is seen to be and not trusted.

_EVERY = 32  # deep walks remember one dict in this many levels
_MISSING = object()


class NodeMemo:
    """Facts about dict nodes of V-values, remembered by identity.

    ``put(node, fact, value, weight)`` / ``get(node, fact)`` (None when not
    known). Entries keep their node alive, so the memo holds two
    generations and starts a new one after ``entries`` entries or
    ``weight`` leaves (the sum of the weights given: leaves that would be
    freed but for the memo), and never takes a node heavier than that."""

    def __init__(self, entries: int = 4096, weight: int = 50_000) -> None:
        self.max_entries = entries
        self.max_weight = weight
        self.clear()

    def clear(self) -> None:
        self._new: dict[int, list[Any]] = {}
        self._old: dict[int, list[Any]] = {}
        self._weight = 0

    def get(self, node: dict[str, Any], fact: str) -> Any:
        e = self._new.get(id(node))
        if e is None:
            e = self._old.get(id(node))
            if e is None:
                return None
            if not _unchanged(e):
                return None
            self._keep(id(node), e, 0)
        elif not _unchanged(e):
            del self._new[id(node)]
            return None
        return e[2].get(fact)

    def put(self, node: dict[str, Any], fact: str, value: Any, weight: int = 0) -> None:
        if weight > self.max_weight:
            return
        e = self._new.get(id(node))
        if e is None or not _unchanged(e):
            e = self._old.get(id(node))
            if e is None or not _unchanged(e):
                e = [node, tuple(node.items()), {}]
            self._keep(id(node), e, weight)
        e[2][fact] = value

    def _keep(self, key: int, e: list[Any], weight: int) -> None:
        if len(self._new) >= self.max_entries or self._weight + weight > self.max_weight:
            self._old, self._new, self._weight = self._new, {}, 0
        self._new[key] = e
        self._weight += weight


def _unchanged(e: list[Any]) -> bool:
    node, items = e[0], e[1]
    if len(node) != len(items):
        return False
    for k, x in items:
        if node.get(k, _MISSING) is not x:
            return False
    return True


memo = NodeMemo()
# what scan found in shallow values (each output's, shared by the three checks of
# one step): only needed until the next step, so kept few (every entry keeps its
# value alive, and a larger heap makes every garbage collection slower)
recent = NodeMemo(entries=256, weight=20_000)


class Scan(tuple):
    """What ``scan`` finds in a V-value: ``leaves`` (every leaf, a tensor
    counting one), ``odd`` (the leaves that are neither int nor float:
    tensors), ``finite`` (no float leaf is NaN or infinite; tensors are not
    looked into) and ``huge`` (an int leaf is beyond float range,
    ``|x| >= 2**1024``)."""

    __slots__ = ()

    def __new__(cls, leaves: int, odd: tuple[Any, ...], finite: bool, huge: bool) -> Scan:
        return tuple.__new__(cls, (leaves, odd, finite, huge))

    leaves = property(lambda self: self[0])
    odd = property(lambda self: self[1])
    finite = property(lambda self: self[2])
    huge = property(lambda self: self[3])


_HUGE = 2**1024


class _TooDeep(Exception):
    pass


def _scan_shallow(node: dict[str, Any], acc: list[Any], d: int) -> None:
    """``scan``'s walk of a value at most ``_DEEP`` levels deep, by recursion
    (raises _TooDeep below); ``acc``: leaves, odd leaves, finite, huge."""
    if d > _DEEP:
        raise _TooDeep
    for x in node.values():
        tx = type(x)
        if tx is float:
            acc[0] += 1
            if x - x != 0:
                acc[2] = False
        elif tx is int:
            acc[0] += 1
            if x >= _HUGE or x <= -_HUGE:
                acc[3] = True
        elif tx is dict:
            _scan_shallow(x, acc, d + 1)
        else:
            acc[0] += 1
            acc[1].append(x)


def scan(v: Any) -> Scan:
    """One walk for the three questions asked of every output after every
    step (the size bounds, NaN/Inf, exact integers beyond float range); the
    answer is remembered (``memo``), so asking again is free, and a deep
    value is walked only down to the parts seen before. Any depth (a stack).
    """
    if type(v) is not dict:
        if v is None:
            return Scan(0, (), True, False)
        tv = type(v)
        if tv is float:
            return Scan(1, (), v - v == 0, False)
        if tv is int:
            return Scan(1, (), True, v >= _HUGE or v <= -_HUGE)
        return Scan(1, (v,), True, False)
    known = recent.get(v, "scan") or memo.get(v, "scan")
    if known is not None:
        return known
    # a shallow value (the common case): recursion, no memo below the root
    acc: list[Any] = [0, [], True, False]
    try:
        _scan_shallow(v, acc, 0)
    except _TooDeep:
        pass
    else:
        found = Scan(acc[0], tuple(acc[1]), acc[2], acc[3])
        recent.put(v, "scan", found, acc[0])
        return found
    get = memo.get
    # frame: values, leaves, odd, finite, huge, leaves walked since the last
    # dict remembered below (its weight in the memo)
    stack: list[list[Any]] = [[iter(v.values()), 0, [], True, False, 0]]
    node_of: list[dict[str, Any]] = [v]
    while True:
        frame = stack[-1]
        for x in frame[0]:
            tx = type(x)
            if tx is float:
                frame[1] += 1
                frame[5] += 1
                if x - x != 0:
                    frame[3] = False
            elif tx is int:
                frame[1] += 1
                frame[5] += 1
                if x >= _HUGE or x <= -_HUGE:
                    frame[4] = True
            elif tx is dict:
                s = get(x, "scan")
                if s is None:
                    stack.append([iter(x.values()), 0, [], True, False, 0])
                    node_of.append(x)
                    break
                frame[1] += s[0]
                frame[2].extend(s[1])
                frame[3] = frame[3] and s[2]
                frame[4] = frame[4] or s[3]
            else:
                frame[1] += 1
                frame[5] += 1
                frame[2].append(x)
        else:
            stack.pop()
            node = node_of.pop()
            found = Scan(frame[1], tuple(frame[2]), frame[3], frame[4])
            if not stack or len(stack) % _EVERY == 0:
                memo.put(node, "scan", found, frame[5])
                frame[5] = 0
            if not stack:
                return found
            parent = stack[-1]
            parent[5] += frame[5]
            parent[1] += found[0]
            parent[2].extend(found[1])
            parent[3] = parent[3] and found[2]
            parent[4] = parent[4] or found[3]


def _describe(x: Any) -> str:
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "a boolean"
    if isinstance(x, str):
        return f"the string {x!r}" if len(x) < 40 else "a string"
    if isinstance(x, (list, tuple)):
        return "a list"
    return f"a {type(x).__name__}"


# ------------------------------------------------------------------ public API


def canon(v: Any) -> VValue:
    """The canonical form of any V-value form (a bare number is ``{":number": x}``).

    Raises VValueError, naming the path, for anything that is not a V-value.
    """
    return _wrap(_canon(v, ()))


def add(*vs: Any) -> VValue:
    """The sum of V-values (any number of them)."""
    node = None
    for v in vs:
        node = _add(node, _canon(v, ()))
    return _wrap(node)


def add_canonical(*vs: VValue) -> VValue:
    """``add`` for values already in canonical form (as every input a neuron
    receives from an engine is): skips re-canonicalising them."""
    node = None
    for v in vs:
        node = _add(node, v if v else None)
    return _wrap(node)


def scale(c: float, v: Any) -> VValue:
    """``c`` times ``v``; ``scale(0, v) == {}``."""
    if not is_number(c) and not is_tensor(c):
        raise VValueError(f"cannot scale by {_describe(c)}")
    if is_number(c) and c == 0:
        return {}
    return _wrap(_scale(c, _canon(v, ())))


def mult_mask(mask: Any, v: Any) -> VValue:
    """``v`` seen through ``mask``: walk the mask's keys; map x map recurses,
    a mask leaf scales the whole subtree, map x leaf is 0, missing keys drop."""
    return _wrap(_mask(_canon(mask, ()), _canon(v, ())))


def max_norm(v: Any) -> float:
    """The largest absolute leaf (largest absolute tensor element); 0 for {}."""
    best: Any = 0
    stack = [_canon(v, ())]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if isinstance(node, dict):
            stack.extend(node.values())
        elif is_tensor(node):
            if node.numel():
                best = max(best, float(node.detach().abs().max()))
        else:
            best = max(best, abs(node))
    return best


def leaves(v: Any, path: Path = ()) -> Iterable[tuple[Path, Any]]:
    """Every (path, leaf) of a canonical V-value, depth first in order; a
    scalar beside children has the path ending in ``":number"``. A stack,
    not recursion: any depth is walked (each path is built as it is yielded)."""
    if not isinstance(v, dict):
        if v is not None:
            yield path, v
        return
    keys: list[str] = list(path)
    stack = [iter(v.items())]
    while stack:
        for k, x in stack[-1]:
            if isinstance(x, dict):
                keys.append(k)
                stack.append(iter(x.items()))
                break
            if x is not None:
                yield (*keys, k), x
        else:
            stack.pop()
            if len(keys) > len(path):
                keys.pop()


def leaf_values(v: Any) -> Iterable[Any]:
    """Every leaf of a V-value (any form), depth first in order, without its
    path (a stack: any depth)."""
    if not isinstance(v, Mapping):
        if v is not None:
            yield v
        return
    stack = [iter(v.values())]
    while stack:
        for x in stack[-1]:
            if type(x) is dict or isinstance(x, Mapping):
                stack.append(iter(x.values()))
                break
            if x is not None:
                yield x
        else:
            stack.pop()


def top_leaves(v: Any, k: int, key: Any, keep: Any = None) -> tuple[int, list[tuple[Path, Any]]]:
    """``(n, [(path, leaf), ...])``: the ``k`` leaves of ``v`` (those ``keep``
    accepts, all by default) with the smallest ``key(leaf)``, in that order
    (ties in the value's order), and how many leaves ``keep`` accepted.
    Paths are built for those ``k`` only: a value nested any depth costs
    one walk (a probe's bars)."""
    import heapq

    if not isinstance(v, dict):
        ok = v is not None and (keep is None or keep(v))
        return (1, [((), v)][:k]) if ok else (0, [])
    links: list[tuple[int, str]] = [(-1, "")]
    found: list[tuple[Any, int, int, str, Any]] = []
    stack = [(iter(v.items()), 0)]
    n = 0
    while stack:
        items, at = stack[-1]
        for name, x in items:
            if type(x) is dict:
                links.append((at, name))
                stack.append((iter(x.items()), len(links) - 1))
                break
            if x is not None and (keep is None or keep(x)):
                found.append((key(x), n, at, name, x))
                n += 1
        else:
            stack.pop()
    best = heapq.nsmallest(k, found, key=lambda e: (e[0], e[1]))
    out = []
    for _, _, at, name, x in best:
        keys = [name]
        while at > 0:
            at, label = links[at]
            keys.append(label)
        out.append((tuple(reversed(keys)), x))
    return n, out


def has_negative_leaf(v: Any) -> bool:
    for leaf in leaf_values(canon(v)):
        if is_tensor(leaf):
            if bool((leaf < 0).any()):
                return True
        elif leaf < 0:
            return True
    return False


def equal(a: Any, b: Any, tol: float = 0.0) -> bool:
    """Whether two V-values are equal (leaf by leaf within ``tol``)."""
    return _equal(_canon(a, ()), _canon(b, ()), tol)


def _equal(a: Any, b: Any, tol: float) -> bool:
    stack = [(a, b)]
    while stack:
        a, b = stack.pop()
        if isinstance(a, dict) or isinstance(b, dict):
            if not (isinstance(a, dict) and isinstance(b, dict)) or a.keys() != b.keys():
                return False
            stack.extend((a[k], b[k]) for k in a)
        elif not _equal_leaves(a, b, tol):
            return False
    return True


def _equal_leaves(a: Any, b: Any, tol: float) -> bool:
    if is_tensor(a) or is_tensor(b):
        if not (is_tensor(a) and is_tensor(b)) or a.shape != b.shape:
            return False
        diff = (a.detach().cpu().double() - b.detach().cpu().double()).abs()
        return diff.numel() == 0 or float(diff.max()) <= tol
    if a is None or b is None:
        return a is b
    return bool(abs(a - b) <= tol) or a == b


def get_in(v: Mapping[str, Any], path: Iterable[str]) -> Any:
    """The node at ``path`` of a nested dict, or None when absent."""
    node: Any = v
    for k in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(k)
        if node is None:
            return None
    return node


def size(v: Any) -> int:
    """The number of leaves (tensor leaves count once)."""
    return sum(1 for _ in leaf_values(v))


# ----------------------------------------------------------------------- JSON

TENSOR_DTYPES = ("float32", "float64", "float16", "bfloat16", "int64", "int32")
# the integer range of each integer dtype (data outside is refused, never wrapped)
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_FLOAT_LIMIT = 2**1024  # integers at or beyond this do not fit a float64
MAX_DIM = 2**31 - 1  # the largest tensor dimension a file may give


def _fits_float(x: Any) -> bool:
    if type(x) is float:
        return x - x == 0  # False for inf and nan
    return -_FLOAT_LIMIT < x < _FLOAT_LIMIT


def _bad_number(x: Any) -> str:
    if isinstance(x, float):
        return f"{x} is not a finite number"
    return f"{_short_number(x)} is beyond a float64's range (|x| < 2**1024)"


def to_json(v: Any) -> Any:
    """A canonical V-value as plain JSON data (tensors as {":tensor": {...}}).

    Iterative: any depth converts without recursion."""
    return _node_json(canon(v))


def _node_json(node: Any) -> Any:
    if is_tensor(node):
        return {TENSOR: _tensor_json(node)}
    if not isinstance(node, dict):
        return node
    root: dict[str, Any] = {}
    stack = [(node, root)]
    while stack:
        src, out = stack.pop()
        for k, x in src.items():
            if k == TENSOR:
                out[k] = _tensor_json(x)
            elif isinstance(x, dict):
                child: dict[str, Any] = {}
                out[k] = child
                stack.append((x, child))
            elif is_tensor(x):
                out[k] = {TENSOR: _tensor_json(x)}
            else:
                out[k] = x
    return root


def _tensor_json(t: Any) -> dict[str, Any]:
    return {
        "shape": list(t.shape),
        "dtype": str(t.dtype).removeprefix("torch."),
        "data": t.detach().cpu().flatten().tolist(),
    }


def from_json(data: Any, path: Path = (), max_depth: int | None = None) -> VValue:
    """A V-value from JSON data, validated: finite numbers that fit a float64,
    string keys, only the reserved keys of SPEC §1, tensors whose data fits
    their shape and dtype; objects nested at most ``max_depth`` levels (no
    limit by default).

    Iterative: any depth is walked without recursion. Raises VValueError
    naming the path of the first thing wrong.
    """
    return _wrap(_from_json(data, path, max_depth))


def _from_json(data: Any, path: Path, max_depth: int | None = None) -> Any:
    td = type(data)
    if td is int or td is float:
        if not _fits_float(data):
            raise VValueError(_bad_number(data), path)
        return None if data == 0 else data
    if not isinstance(data, dict):
        raise VValueError(f"{_describe(data)} is not a V-value", path)
    limit = max_depth if max_depth is not None else -1
    lo, hi = -_FLOAT_LIMIT, _FLOAT_LIMIT
    keys: list[str] = []  # the labels from ``data`` down to the dict being read
    root: dict[str, Any] = {}
    stack: list[tuple[Any, dict[str, Any]]] = [(iter(data.items()), root)]
    while stack:
        items, out = stack[-1]
        for k, x in items:
            tx = type(x)
            if (tx is int or tx is float) and type(k) is str and (k[:1] != ":" or k == NUMBER):
                if (x - x != 0) if tx is float else not (lo < x < hi):
                    raise VValueError(_bad_number(x), (*path, *keys, k))
                if x != 0:
                    out[k] = x
                continue
            if type(k) is not str:
                raise VValueError(f"key {k!r} is not a string", (*path, *keys))
            if k[:1] == ":":
                if k == TENSOR:
                    out[k] = tensor_from_json(x, (*path, *keys, k))
                    continue
                if k != NUMBER:
                    raise VValueError(f"undefined reserved key {k!r}", (*path, *keys))
                raise VValueError(f"':number' holds {_describe(x)}, not a number", (*path, *keys, k))
            if tx is dict:
                if len(stack) == limit:
                    raise VValueError(f"nested deeper than {max_depth} levels", (*path, *keys, k))
                # the common case read in place: a dict of numbers under plain labels
                leaf: dict[str, Any] = {}
                for k2, x2 in x.items():
                    t2 = type(x2)
                    if not ((t2 is int or t2 is float) and type(k2) is str and k2[:1] != ":"):
                        break
                    if (x2 - x2 != 0) if t2 is float else not (lo < x2 < hi):
                        break
                    if x2 != 0:
                        leaf[k2] = x2
                else:
                    if leaf:
                        out[k] = leaf
                    continue
                keys.append(k)
                stack.append((iter(x.items()), {}))
                break
            raise VValueError(f"{_describe(x)} is not a V-value", (*path, *keys, k))
        else:
            stack.pop()
            node = _unwrap(out)
            if stack:
                k = keys.pop()
                if node is not None:
                    stack[-1][1][k] = node
            else:
                return node
    return None  # not reached


def tensor_from_json(data: Any, path: Path = ()) -> Any:
    """A tensor from its JSON form ``{"shape", "dtype", "data"}``; the data must
    fit the shape and the dtype (integers within int32/int64's range for those,
    floats within the dtype's finite range). Raises VValueError."""
    if not isinstance(data, dict):
        raise VValueError(f"a tensor must be an object with shape, dtype, data, not {_describe(data)}", path)
    unknown = set(data) - {"shape", "dtype", "data"}
    if unknown:
        raise VValueError(f"unknown tensor field {sorted(unknown)[0]!r}", path)
    shape, dtype, values = data.get("shape"), data.get("dtype", "float32"), data.get("data")
    if not isinstance(shape, list) or not all(type(n) is int and 0 <= n <= MAX_DIM for n in shape):
        raise VValueError(f"tensor 'shape' must be a list of integers from 0 to {MAX_DIM}", path)
    if dtype not in TENSOR_DTYPES:
        raise VValueError(f"unsupported tensor dtype {dtype!r} (one of {', '.join(TENSOR_DTYPES)})", path)
    if not isinstance(values, list):
        raise VValueError("tensor 'data' must be a flat list of numbers", path)
    expected = math.prod(shape)
    if len(values) != expected:
        raise VValueError(f"tensor data has {len(values)} numbers but shape {shape} needs {expected}", path)
    if len(shape) > 64 or math.prod(n for n in shape if n) > 2**62:
        raise VValueError(f"tensor shape {shape} is too large (at most 64 dimensions, 2**62 elements)", path)
    types = set(map(type, values))
    if not types <= {int, float}:
        i = next(i for i, x in enumerate(values) if type(x) not in (int, float))
        raise VValueError(f"tensor data[{i}] is {_describe(values[i])}, not a finite number", path)
    import numpy as np
    import torch

    if dtype in _INT_RANGES:
        lo, hi = _INT_RANGES[dtype]
        fractional = float in types and any(type(x) is float and not x.is_integer() for x in values)
        if fractional or (values and not (lo <= min(values) and max(values) <= hi)):
            for i, x in enumerate(values):
                if not (lo <= x <= hi) or (type(x) is float and not x.is_integer()):
                    what = (
                        "not an integer"
                        if type(x) is float and _fits_float(x)
                        else f"outside {dtype}'s range"
                    )
                    raise VValueError(f"tensor data[{i}] is {_short_number(x)}, {what}", path)
        return torch.tensor(values, dtype=getattr(torch, dtype)).reshape(shape)
    try:
        arr = np.asarray(values, dtype=np.float64)
    except OverflowError:
        i = next(i for i, x in enumerate(values) if not _fits_float(x))
        raise VValueError(
            f"tensor data[{i}] is {_short_number(values[i])}, beyond a float64's range", path
        ) from None
    t = torch.from_numpy(arr).to(getattr(torch, dtype))
    finite = torch.isfinite(t)
    if not bool(finite.all()):
        i = int((~finite).nonzero()[0, 0])
        where = "not a finite number" if not math.isfinite(arr[i]) else f"beyond {dtype}'s range"
        raise VValueError(f"tensor data[{i}] is {_short_number(values[i])}, {where}", path)
    return t.reshape(shape)


def _short_number(x: Any) -> str:
    if type(x) is int and abs(x) >= 10**20:
        return f"an integer of {len(str(abs(x))) if abs(x) < 10**4000 else 'over 4,000'} digits"
    return repr(x)


def set_in(v: Any, path: Path, leaf: Any) -> VValue:
    """A copy of ``v`` with the node at ``path`` replaced by ``leaf`` (a V-value
    or a number; ``0`` or ``{}`` removes it, pruning parents left empty).
    Only the dicts along ``path`` are copied; ``v`` (canonical) is not changed."""
    if not path:
        return canon(leaf)
    return _wrap(_set_node(v, path, _canon(leaf, path)))


def _set_node(node: Any, path: Path, leaf: Any) -> Any:
    copies: list[dict[str, Any]] = []  # the dicts along ``path``, copied
    for k in path:
        if not isinstance(node, dict):
            node = {} if node is None else _leaf_dict(node)
        out = dict(node)
        copies.append(out)
        node = out.get(k)
    child = leaf
    for k, out in zip(reversed(path), reversed(copies)):
        if child is None:
            out.pop(k, None)
        else:
            out[k] = child
        child = _unwrap(out)
    return child


# ------------------------------------------------------------------ pickling
# pickle recurses into nested dicts and stops at Python's recursion limit (a
# list of 500 items already); the studio sends its states pickled. So what
# pickle cannot take goes as ``pack_deep(obj)``: the same data, its dicts
# nested deeper than ``PACK_DEPTH`` held flat and rebuilt, with a stack, as
# they are unpickled.

PACK_DEPTH = 200


class _FlatDict:
    """A nested dict held flat for pickling: ``(parent, key)`` for a dict,
    ``(parent, key, value)`` for anything else, parents numbered in order."""

    __slots__ = ("entries",)

    def __init__(self, d: dict[str, Any]) -> None:
        entries: list[tuple[Any, ...]] = []
        stack = [(d, 0)]
        n = 1
        while stack:
            node, i = stack.pop()
            for k, x in node.items():
                if type(x) is dict:
                    entries.append((i, k))
                    stack.append((x, n))
                    n += 1
                else:
                    entries.append((i, k, x))
        self.entries = entries

    def __reduce__(self) -> tuple[Any, ...]:
        return (_unflatten, (self.entries,))


def _unflatten(entries: list[tuple[Any, ...]]) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{}]
    for e in entries:
        if len(e) == 2:
            child: dict[str, Any] = {}
            nodes[e[0]][e[1]] = child
            nodes.append(child)
        else:
            nodes[e[0]][e[1]] = e[2]
    return nodes[0]


def pack_deep(obj: Any, depth: int = 0) -> Any:
    """``obj`` (dicts, lists, tuples and leaves) with every dict found
    ``PACK_DEPTH`` levels down replaced by a flat stand-in that pickles
    without recursion and unpickles as the dict. Copies the containers
    above those dicts; changes nothing it is given."""
    t = type(obj)
    if t is dict:
        if depth >= PACK_DEPTH:
            return _FlatDict(obj)
        return {k: pack_deep(x, depth + 1) for k, x in obj.items()}
    if t is list or t is tuple:
        return t(pack_deep(x, depth + 1) for x in obj)
    return obj
