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


# The helpers below are the hot path of the reference engine: they avoid
# building paths as they recurse, and a VValueError raised deep inside gets
# its path filled in on the way out (``_under``).


def _under(e: VValueError, key: str) -> VValueError:
    return VValueError(e.reason, (key, *e.path))


def _add(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    ta, tb = type(a), type(b)
    if ta is dict:
        if tb is not dict:
            b = _leaf_dict(b)
        out = dict(a)
        for k, bv in b.items():
            av = out.get(k)
            if av is None:
                out[k] = bv
                continue
            try:
                r = _add(av, bv)
            except VValueError as e:
                raise _under(e, k) from None
            if r is None:
                del out[k]
            else:
                out[k] = r
        return _unwrap(out)
    if tb is dict:
        return _add(_leaf_dict(a), b)
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


def _scale(c: Any, node: Any) -> Any:
    """Every leaf of ``node`` times the leaf ``c`` (a number or a tensor)."""
    if node is None:
        return None
    if type(node) is dict:
        out = {}
        for k, v in node.items():
            try:
                r = _scale(c, v)
            except VValueError as e:
                raise _under(e, k) from None
            if r is not None:
                out[k] = r
        return _unwrap(out)
    return _mul_leaves(c, node)


def _mask(m: Any, v: Any) -> Any:
    """The reference's rec-map-mult-mask on nodes."""
    if v is None or m is None:  # an empty mask lets nothing through
        return None
    if type(m) is dict:
        if type(v) is not dict:
            return None  # map x leaf is 0
        out = {}
        for k, mk in m.items():
            vk = v.get(k)
            if vk is not None:
                try:
                    r = _mask(mk, vk)
                except VValueError as e:
                    raise _under(e, k) from None
                if r is not None:
                    out[k] = r
        return _unwrap(out)
    return _scale(m, v)  # a leaf of the mask scales the whole subtree


def lin_comb(mask: Any, value: Any) -> Any:
    """The reference's rec-map-lin-comb on nodes: like ``_mask``, but the
    pieces found under the mask's leaves are summed instead of kept apart.

    Applied to a row of the network matrix and the state ``y`` it is the down
    movement: ``sum W[g][m][o] * y[g][m][o]``.
    """
    if value is None:
        return None
    if type(mask) is dict:
        if type(value) is not dict:
            return None
        acc = None
        for k, mk in mask.items():
            vk = value.get(k)
            if vk is not None:
                try:
                    acc = _add(acc, lin_comb(mk, vk))
                except VValueError as e:
                    raise _under(e, k) from None
        return acc
    return _scale(mask, value)


def _canon(v: Any, path: Path = ()) -> Any:
    try:
        return _canon_node(v)
    except VValueError as e:
        raise VValueError(e.reason, (*path, *e.path)) from None


def _canon_node(v: Any) -> Any:
    tv = type(v)
    if tv is int or tv is float:
        return None if v == 0 else v
    if tv is dict or isinstance(v, Mapping):
        out: dict[str, Any] = {}
        for k, x in v.items():
            tx = type(x)
            if (tx is int or tx is float) and type(k) is str and (k[:1] != ":" or k == NUMBER):
                if x != 0:  # the common case: a numeric leaf under a label
                    out[k] = x
                continue
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
            try:
                c = _canon_node(x)
            except VValueError as e:
                raise _under(e, k) from None
            if c is not None:
                out[k] = c
        return _unwrap(out)
    if is_number(v):  # a numpy scalar, an int subclass...
        v = int(v) if isinstance(v, int) else float(v)
        return None if v == 0 else v
    if is_tensor(v):
        return v
    raise VValueError(f"{_describe(v)} is not a V-value")


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
    """Every (path, leaf) of a canonical V-value; a scalar beside children has
    the path ending in ``":number"``."""
    if isinstance(v, dict):
        for k, x in v.items():
            yield from leaves(x, path + (k,))
    elif v is not None:
        yield path, v


def has_negative_leaf(v: Any) -> bool:
    for _, leaf in leaves(canon(v)):
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
    if isinstance(a, dict) or isinstance(b, dict):
        if not (isinstance(a, dict) and isinstance(b, dict)) or a.keys() != b.keys():
            return False
        return all(_equal(a[k], b[k], tol) for k in a)
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
    return sum(1 for _ in leaves(v))


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
    if not isinstance(node, dict):
        node = {} if node is None else _leaf_dict(node)
    out = dict(node)
    k = path[0]
    child = leaf if len(path) == 1 else _set_node(out.get(k), path[1:], leaf)
    if child is None:
        out.pop(k, None)
    else:
        out[k] = child
    return _unwrap(out)
