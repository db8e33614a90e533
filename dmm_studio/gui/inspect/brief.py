"""V-values in brief: one line for a hover text, a status bar or a list.

No Qt here, so the canvas (or a notebook) can call ``brief`` anywhere:
``brief({"a": 1, "b": {"c": 2.5}})`` is ``"{a: 1, b/c: 2.5}"``; long values
are cut with a count of what was left out; tensors show shape and range.
"""

from __future__ import annotations

from typing import Any

from ...vvalue import NUMBER, TENSOR, is_tensor, leaf_values, leaves, top_leaves


def number(x: Any, digits: int = 4) -> str:
    """A number short: integers as they are, floats with ``digits`` significant digits."""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x)
    try:
        return f"{x:.{digits}g}"
    except (TypeError, ValueError):
        return str(x)


def tensor_brief(t: Any, values: bool = True) -> str:
    """Shape, dtype and (unless ``values`` is False, to spare two reductions) the range."""
    shape = "x".join(str(s) for s in t.shape) or "scalar"
    dtype = str(t.dtype).removeprefix("torch.")
    if t.numel() == 0 or (not values and t.numel() > 1):
        return f"tensor[{shape}] {dtype}"
    if t.numel() == 1:
        return f"tensor[{shape}] {number(float(t.detach().reshape(-1)[0]))}"
    d = t.detach()
    if not d.is_floating_point():
        d = d.double()
    lo, hi = float(d.min()), float(d.max())
    return f"tensor[{shape}] {dtype} {number(lo)}..{number(hi)}"


def leaf_brief(x: Any, values: bool = True) -> str:
    return tensor_brief(x, values) if is_tensor(x) else number(x)


def path_text(path: tuple[str, ...]) -> str:
    return "/".join("·" if p == NUMBER else ("T" if p == TENSOR else p) for p in path) or "·"


def brief(
    v: Any, max_chars: int = 80, max_items: int = 8, values: bool = True, count: int | None = None
) -> str:
    """A V-value on one line: ``0`` for {}, ``3.5`` for a scalar, a tensor's
    shape and range, else ``{path: value, ...}`` by leaf (at most ``max_items``
    leaves and about ``max_chars`` characters, then ``… (+N more)``)."""
    if v is None or v == {}:
        return "0"
    if not isinstance(v, dict):
        return leaf_brief(v, values)
    if len(v) == 1 and NUMBER in v:
        return leaf_brief(v[NUMBER])
    if len(v) == 1 and TENSOR in v:
        return leaf_brief(v[TENSOR], values)
    parts: list[str] = []
    total = 0
    shown = 0
    for path, x in leaves(v):
        if shown >= max_items or total > max_chars:
            break
        text = f"{path_text(path)}: {leaf_brief(x, values)}"
        parts.append(text)
        total += len(text) + 2
        shown += 1
    # counted without paths (any depth; a probe's value is new every frame),
    # unless the caller knows (``leaf_counts``)
    if count is None:
        count = sum(1 for _ in leaf_values(v))
    more = count - shown
    body = ", ".join(parts)
    if len(body) > max_chars:
        body = body[: max_chars - 1] + "…"
    return "{" + body + (f", … (+{more} more)" if more else "") + "}"


def wire_brief(weight: Any, value: Any, max_chars: int = 60) -> str:
    """Hover text for a wire: its weight and the value it carries (weight · value)."""
    return f"w = {number(weight)}; carries {brief(value, max_chars)}"


def top_coordinates(v: Any, k: int) -> tuple[int, list[tuple[str, float]]]:
    """``(n, [(path, x), ...])``: the ``k`` number leaves of ``v`` largest in
    magnitude (NaN last), of its ``n`` number leaves; one walk at any depth."""
    if not isinstance(v, dict):
        return 0, []
    n, top = top_leaves(v, k, lambda x: -abs(float(x)) if x == x else 0.0, lambda x: not is_tensor(x))
    return n, [(path_text(p), float(x)) for p, x in top]


def leaf_counts(v: Any) -> dict[int, int]:
    """``{id(node): leaves under it}`` for every dict of ``v``, in one walk (a
    stack: any depth): what ``brief`` is told for each node of a tree view."""
    counts: dict[int, int] = {}
    if not isinstance(v, dict):
        return counts
    stack: list[tuple[dict, Any]] = [(v, iter(v.values()))]
    sums = [0]
    while stack:
        node, items = stack[-1]
        for x in items:
            if type(x) is dict:
                stack.append((x, iter(x.values())))
                sums.append(0)
                break
            if x is not None:
                sums[-1] += 1
        else:
            stack.pop()
            n = sums.pop()
            counts[id(node)] = n
            if sums:
                sums[-1] += n
    return counts
