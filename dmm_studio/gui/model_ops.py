"""Plain helpers over the Network model that the studio needs (no Qt here).

- ``ports_of``: the ports a neuron shows on the canvas (declared, used by a
  wire, holding an output, or added by the user and kept in the layout).
- ``stream_kind`` / ``incompatible``: what the editor refuses to wire.
- ``auto_layout``: positions for a file that has none.
- ``unique_name``: a fresh name for a type.

Stream compatibility (SPEC §1: "streams of different kinds never mix"). The
kind of a stream is read from initial output values: the map from each path
that holds a tensor leaf to that tensor's shape. Numbers mix with anything
(``add`` keeps a number and a tensor side by side at one node), so two kinds
clash only when they put tensors of different shapes at the same path. The
kind of an output with no initial value is unknown and clashes with nothing;
the kind an input receives is the union of the kinds of the outputs already
wired into it. A wire whose source kind clashes with what its input already
receives would make the engine fail with a shape error: the editor refuses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .. import vvalue as vv
from ..matrix import matrix_neurons
from ..matrix import matrix_wires as iter_matrix_wires
from ..network import SELF_ID, Network, Port
from ..registry import Registry

NeuronId = tuple[str, str]
Kind = dict[tuple[str, ...], tuple[int, ...]]


# ---------------------------------------------------------------- ports
def layout_ports(net: Network, nid: NeuronId) -> dict[str, list[str]]:
    """The ports a user added to a variadic neuron (``Network.layout_ports``)."""
    return net.layout_ports(*nid)


def used_ports(w: Mapping[str, Any], nid: NeuronId) -> tuple[list[str], list[str]]:
    """Inputs (rows) and outputs (columns) of ``nid`` that ``w`` uses."""
    f, n = nid
    ins: dict[str, None] = {}
    outs: dict[str, None] = {}
    rows = w.get(f, {}).get(n) if isinstance(w.get(f), dict) else None
    if isinstance(rows, dict):
        ins.update((i, None) for i in rows if not i.startswith(":"))
    for names in w.values():
        if not isinstance(names, dict):
            continue
        for rws in names.values():
            if not isinstance(rws, dict):
                continue
            for row in rws.values():
                if isinstance(row, dict) and isinstance(row.get(f), dict):
                    cols = row[f].get(n)
                    if isinstance(cols, dict):
                        outs.update((o, None) for o in cols if not o.startswith(":"))
    return list(ins), list(outs)


def ports_of(
    net: Network,
    nid: NeuronId,
    registry: Registry,
    w: Mapping[str, Any] | None = None,
    used: tuple[list[str], list[str]] | None = None,
) -> tuple[list[str], list[str]]:
    """(inputs, outputs) to show for a neuron, declared ones first (``used``:
    the ports that W uses, when the caller has them already)."""
    t = registry.get(nid[0])
    ins: dict[str, None] = dict.fromkeys(t.inputs)
    outs: dict[str, None] = dict.fromkeys(t.outputs)
    extra = layout_ports(net, nid)
    used_in, used_out = used if used is not None else used_ports(net.matrix if w is None else w, nid)
    held = list(net.outputs.get(nid[0], {}).get(nid[1], {}))
    if t.variadic_inputs:
        ins.update(dict.fromkeys(extra["inputs"] + used_in))
    else:  # a row into an input the type does not declare: drawn (marked) so it can be fixed
        ins.update(dict.fromkeys(used_in))
    if t.variadic_outputs:
        outs.update(dict.fromkeys(extra["outputs"] + used_out + held))
    else:
        outs.update(dict.fromkeys(used_out))
    if t.mirror:
        both = dict.fromkeys(list(ins) + list(outs))
        return list(both), list(both)
    return list(ins), list(outs)


# ---------------------------------------------------------------- stream kinds
def stream_kind(v: Any) -> Kind:
    """Path -> tensor shape for every tensor leaf of a V-value."""
    out: Kind = {}
    for path, leaf in vv.leaves(v) if isinstance(v, dict) else ():
        if vv.is_tensor(leaf):
            out[tuple(p for p in path if p != vv.TENSOR)] = tuple(leaf.shape)
    return out


def clash(a: Kind, b: Kind) -> tuple[str, ...] | None:
    """The first path where ``a`` and ``b`` hold tensors of different shapes."""
    for path, shape in a.items():
        if path in b and b[path] != shape:
            return path
    return None


def incompatible(net: Network, to: Port, frm: Port) -> str | None:
    """Why a wire ``frm -> to`` would mix kinds of streams, or None if it is fine."""
    src = stream_kind(net.output(*frm))
    if not src:
        return None
    row = vv.get_in(net.matrix, to) or {}
    for g, ms in row.items() if isinstance(row, dict) else ():
        for m, outs in ms.items() if isinstance(ms, dict) else ():
            for o in outs if isinstance(outs, dict) else ():
                if (g, m, o) == frm:
                    continue
                other = stream_kind(net.output(g, m, o))
                path = clash(src, other)
                if path is not None:
                    where = "/".join(path) or "the top"
                    return (
                        f"{frm[0]}/{frm[1]}/{frm[2]} carries a tensor of shape {list(src[path])} at {where}, "
                        f"but {to[0]}/{to[1]}/{to[2]} already receives shape {list(other[path])} "
                        f"from {g}/{m}/{o}"
                    )
    return None


# ---------------------------------------------------------------- names and layout
def unique_name(net: Network, type: str, base: str | None = None) -> str:
    taken = {n for f, n in net.neurons() if f == type}
    base = base or type.rpartition(".")[2].replace("_", "-")
    if base not in taken:
        return base
    stem = base
    k = 2
    head, _, tail = base.rpartition("-")
    if head and tail.isdigit():
        stem, k = head, int(tail) + 1
    while f"{stem}-{k}" in taken:
        k += 1
    return f"{stem}-{k}"


def auto_layout(
    net: Network, neurons: Iterable[NeuronId] | None = None
) -> dict[NeuronId, tuple[float, float]]:
    """Columns by distance from the sources along the wires (cycles broken), Self on top."""
    ids = list(neurons if neurons is not None else net.neurons())
    succ: dict[NeuronId, set[NeuronId]] = {i: set() for i in ids}
    indeg: dict[NeuronId, int] = dict.fromkeys(ids, 0)
    for to, frm, _w in net.wires():
        a, b = frm[:2], to[:2]
        if a in succ and b in succ and a != b and b not in succ[a]:
            succ[a].add(b)
            indeg[b] += 1
    layer: dict[NeuronId, int] = {}
    frontier = [i for i in ids if indeg[i] == 0 and i != SELF_ID] or [i for i in ids if i != SELF_ID][:1]
    seen: set[NeuronId] = set()
    depth = 0
    while frontier:
        nxt = []
        for i in frontier:
            if i in seen:
                continue
            seen.add(i)
            layer[i] = depth
            nxt.extend(j for j in succ[i] if j not in seen and j != SELF_ID)
        frontier = nxt
        depth += 1
        if not frontier:
            rest = [i for i in ids if i not in seen and i != SELF_ID]
            frontier = rest[:1]
    cols: dict[int, list[NeuronId]] = {}
    for i in ids:
        if i != SELF_ID:
            cols.setdefault(layer.get(i, 0), []).append(i)
    pos: dict[NeuronId, tuple[float, float]] = {}
    for c, members in cols.items():
        for r, i in enumerate(members):
            pos[i] = (c * 300.0, r * 160.0)
    width = max(cols) * 300.0 if cols else 0.0
    if SELF_ID in ids:
        pos[SELF_ID] = (width / 2, -250.0)
    return pos


def active_neurons(w: Mapping[str, Any]) -> set[NeuronId]:
    return set(matrix_neurons(w))


def matrix_wires(w: Mapping[str, Any]) -> dict[tuple[Port, Port], Any]:
    """Every numeric weight of a matrix as {(to, from): weight}."""
    return {(to, frm): x for to, frm, x in iter_matrix_wires(w)}


def ports_index(wires: Mapping[tuple[Port, Port], Any]) -> dict[NeuronId, tuple[list[str], list[str]]]:
    """For every neuron, the inputs and outputs that these wires use (one pass)."""
    out: dict[NeuronId, tuple[list[str], list[str]]] = {}
    for to, frm in wires:
        ins = out.setdefault(to[:2], ([], []))[0]  # type: ignore[index]
        if to[2] not in ins:
            ins.append(to[2])
        outs = out.setdefault(frm[:2], ([], []))[1]  # type: ignore[index]
        if frm[2] not in outs:
            outs.append(frm[2])
    return out
