"""The compiled engine: the step of SPEC §3 as sparse products and batched calls.

It computes exactly what ``ReferenceEngine`` computes (tested against it on
every example and on random networks), in another form:

* Ports are interned to indices: input ports ``(f, n, i)`` are the rows of
  W, output ports ``(g, m, o)`` its columns. The regular entries of W (six
  labels down to a number) are a :class:`PatchedCSR`.
* The state ``y`` is held by parts (see ``_batched``): the root numbers of all
  outputs as one float64 vector, root tensors stacked per stream kind
  (shape, dtype), and the children of the V-values that have any ("rest":
  word counts, matrix fragments) as nested dicts.
* Down movement: ``x = A @ y`` for the numbers (one CSR matvec), one CSR x
  dense product per tensor kind, and V-value arithmetic for the rest along
  the columns that hold any. Whether a number is an int (as the reference
  keeps it when every term is an int) is tracked alongside.
* Up movement: one call per neuron type for all its active instances (its
  batched form, ``_batched.BUILTIN_KERNELS`` for the built-ins), or
  ``NeuronType.fn`` instance by instance.
* Self: when W is read only by Self's ``accum`` row with weight 1 (the usual
  wiring), W is never copied: Self's ``delta`` is applied to the sparse
  matrix in place (value edits write the CSR values; new entries go to a
  small patch), and to a nested dict kept for reading.

Anything else among larger networks (W with reserved keys or leaves at
other depths, W read by other neurons, a replaced Self, fields that modulate
Self) runs that step with the reference's own code on dicts: always right,
only slower. The result is checked on its dicts in one pass
(``_dict_problem``) and compiled only when it can run compiled again (a
network that keeps reading W is not recompiled every step).

Small networks: below a size, the compiled form costs more than it saves (a
step has a fixed cost of some tens of torch calls, ~0.2-0.6 ms, where the
reference's code takes ~10 us per weight). So the engine dispatches on size:
while W has at most ``threshold`` weights (constructor argument, default
``SMALL_WEIGHTS`` = 64) and the state's root tensors hold at most
``SMALL_TENSOR_ELEMENTS`` elements (and, with a ``cuda`` device, no tensor at
all), the state is held as dicts and stepped with the reference's code; past
either limit it is compiled, and it goes back to dicts only when both are
below half their limit (hysteresis: a network that breathes around the
threshold does not recompile every step). ``threshold=0`` always compiles
(what the differential tests use). Which form runs is invisible from outside
except in speed: both compute the reference's values (the dict form *is* the
reference's code, ints exact).

Known differences: numbers are float64 inside, so ints beyond 2**53 (which
the reference keeps exact) lose precision; where the reference's int-or-float
type depends on the order of its partial sums (``-1 + 1.0`` cancels, a later
``+ 5`` is the int 5), the value is the same and the type may differ.

Threads: an engine takes no locks; call it from one thread at a time (the
studio's runner steps and reads it from its worker thread, between steps).
What ``state()``, ``matrix()`` and ``output()`` return is never changed by
later steps (W is copied on write once handed out).

Edits from outside (``set_state``, which ``Machine.set_output`` and
``set_weight`` use) compile the whole state again: O(|W|).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import torch

from .. import vvalue as vv
from ..limits import BYTES_PER_LEAF, BYTES_PER_WEIGHT, leaves_and_bytes
from ..nonfinite import first_non_finite
from ..registry import SELF_NAME, SELF_TYPE, NeuronType, RegistryError, self_neuron
from ..vvalue import NUMBER, TENSOR, VValueError
from . import reference
from ._batched import BUILTIN_KERNELS, Batch, Column, Kind, ParamTable, Rows, inverse_index, kind_of
from ._sparse import PatchedCSR, quiet_csr
from .base import (
    MATRIX_OUTPUT,
    Engine,
    FieldGains,
    NetworkHalted,
    NeuronId,
    Params,
    State,
    StepError,
    canonical_state,
    matrix_neurons,
    matrix_of,
    matrix_wires,
)

SELF: NeuronId = (SELF_TYPE, SELF_NAME)
M_PORT = (SELF_TYPE, SELF_NAME, MATRIX_OUTPUT)
ACCUM_PORT = (SELF_TYPE, SELF_NAME, "accum")
DELTA_PORT = (SELF_TYPE, SELF_NAME, "delta")
Port = tuple[str, str, str]
# W entries up to which state() lists neurons in the reference's order (that
# of matrix_neurons(W), O(|W|)); beyond, in the order of their ports
_ORDER_MAX = 20_000
# Small networks (see the module docstring): up to this many weights in W, the
# reference's code steps the network (the default of CompiledEngine's
# ``threshold``); and up to this many tensor elements in the state's root
# tensors. The compiled form is left when either is exceeded, and taken
# back below half of both.
SMALL_WEIGHTS = 64
_IRREGULAR = "W has entries that are not six labels to a number"
SMALL_TENSOR_ELEMENTS = 16_384


def resolve_device(device: str | torch.device) -> torch.device:
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    d = torch.device(device)
    if d.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was asked for, but torch sees no CUDA device")
    return d


def _number(x: float, isint: bool) -> Any:
    return int(x) if isint else x


class _Parts:
    """The values of a set of ports by parts: numbers, tensors by kind, rest."""

    __slots__ = ("num", "ints", "tens", "rest")

    def __init__(
        self, num: torch.Tensor, ints: torch.Tensor | None, tens: Rows, rest: dict[int, Any]
    ) -> None:
        self.num, self.ints, self.tens, self.rest = num, ints, tens, rest

    @property
    def isint(self) -> torch.Tensor:
        return self.num == 0 if self.ints is None else self.ints

    def column(self) -> Column:
        return Column(self.num, self.ints, self.tens, self.rest)

    def value(self, p: int) -> vv.VValue:
        """Port ``p`` as a canonical V-value."""
        out: dict[str, Any] = dict(self.rest.get(p) or {})
        if p < self.num.shape[0]:
            x = float(self.num[p])
            if x != 0:
                out[NUMBER] = _number(x, self.ints is not None and bool(self.ints[p]))
        for rows, data in self.tens.values():
            hit = torch.nonzero(rows == p).flatten()
            if hit.numel():
                out[TENSOR] = data[int(hit[0])]
        return out

    def ports(self) -> list[int]:
        """Every port with a value."""
        seen = set(torch.nonzero(self.num).flatten().tolist())
        for rows, _ in self.tens.values():
            seen.update(rows.tolist())
        seen.update(self.rest)
        return sorted(seen)


class CompiledEngine(Engine):
    """Sparse-matrix, batched engine (``device``: "auto", "cpu" or "cuda")."""

    name = "compiled"

    def __init__(
        self,
        state: Mapping[str, Any],
        *,
        device: str = "auto",
        threshold: int = SMALL_WEIGHTS,
        **kwargs: Any,
    ) -> None:
        self.device = resolve_device(device)
        self.threshold = max(0, int(threshold))
        self._small = True  # a new network is small up to the threshold itself
        super().__init__(state, **kwargs)

    # ================================================================ state in and out
    def set_state(self, state: Mapping[str, Any]) -> None:
        self._load(canonical_state(state))

    def _fits_small(self, y: State, w: Mapping[str, Any], weights: int | None = None) -> bool:
        """Whether ``y`` (with W = ``w``) is small enough for the reference's code
        (see "Small networks" in the module docstring). In the small form the
        limits are ``threshold`` weights and ``SMALL_TENSOR_ELEMENTS``; in the
        compiled form, half of each (hysteresis)."""
        if self.threshold <= 0:
            return False
        limit = self.threshold if self._small else self.threshold // 2
        if weights is None:
            weights = _count_weights(w, limit)
        if weights > limit:
            return False
        elements = 0
        for names in y.values():
            for outs in names.values():
                for v in outs.values():
                    if TENSOR in v:
                        t = v[TENSOR]
                        if self.device.type != "cpu" or t.device.type != "cpu":
                            return False  # tensors stay on the device the engine was asked for
                        elements += t.numel()
        return elements <= (SMALL_TENSOR_ELEMENTS if self._small else SMALL_TENSOR_ELEMENTS // 2)

    def _load(self, y: State) -> None:
        """Hold a canonical state: as it is when the network is small (the
        reference's code steps it), else compiled (see ``_compile``)."""
        w = y.get(SELF_TYPE, {}).get(SELF_NAME, {}).get(MATRIX_OUTPUT) or {}  # matrix_of, inlined
        if self._fits_small(y, w):
            self._small = True
            self._slow = "a small network"
            self._ref = y
            return
        self._small = False
        problem = self._dict_problem(w)
        if problem:  # the reference's way: no need to compile what will not run compiled
            self._slow = problem
            self._ref = y
            return
        self._compile(y, w)

    def _dict_problem(self, w: Mapping[str, Any]) -> str:
        """Why W cannot run compiled (as ``_compile_matrix`` and
        ``_self_pattern_problem`` would find), found on the dicts in one pass:
        a network that runs the reference's way is checked each step without
        being compiled each step. "" when there is none."""
        readers = 0
        for f, names in w.items():
            if f.startswith(":") or type(names) is not dict:
                return _IRREGULAR
            for n, ins in names.items():
                if n.startswith(":") or type(ins) is not dict:
                    return _IRREGULAR
                for i, row in ins.items():
                    if i.startswith(":") or type(row) is not dict:
                        return _IRREGULAR
                    for g, ms in row.items():
                        if g.startswith(":") or type(ms) is not dict:
                            return _IRREGULAR
                        for m, os in ms.items():
                            if m.startswith(":") or type(os) is not dict:
                                return _IRREGULAR
                            for o, x in os.items():
                                if o.startswith(":") or not vv.is_number(x):
                                    return _IRREGULAR
                            if g == SELF_TYPE and m == SELF_NAME and MATRIX_OUTPUT in os:
                                readers += 1
        return self._self_problem(w, readers)

    def _compile(self, y: State, w: Mapping[str, Any]) -> None:
        """Compile a canonical state: W into the sparse matrix, y into parts."""
        self._in: dict[Port, int] = {}
        self._in_keys: list[Port] = []
        self._out: dict[Port, int] = {}
        self._out_keys: list[Port] = []
        self._neuron_in: dict[NeuronId, dict[str, int]] = {}
        self._neuron_out: dict[NeuronId, list[int]] = {}
        self._row_count: list[int] = []
        self._count: dict[NeuronId, int] = {}
        self._m_readers = 0
        self._sv = 0  # bumps when the active part or the rows of W change
        self._struct_cache: tuple[int, Any] | None = None
        self._kind_cache: dict[Any, Any] = {}
        self._A = PatchedCSR(self.device)
        self._w: dict[str, Any] = {}
        self._w_shared = False
        # the ids of W's dicts made since W was last handed out (None: all of W's
        # dicts are the engine's own); the others may be held by a caller
        self._owned: set[int] | None = None
        self._ref: State | None = None  # the state, when this network runs the reference's way
        self._slow = "" if self._compile_matrix(w) else _IRREGULAR
        if not self._slow:
            self._slow = self._self_pattern_problem()
        # the order in which state() lists the neurons (that of y itself here)
        self._order: list[NeuronId] | None = [(f, n) for f, names in y.items() for n in names]
        self._order_w: list[NeuronId] | None = None
        self._order_src: dict[str, Any] | None = None  # W_t, when _order is to be its order
        if self._slow:
            self._ref = y
            return
        self._intern_out(M_PORT)
        self._y = self._parts_of(y)

    def _parts_of(self, y: State) -> _Parts:
        nums: dict[int, Any] = {}
        by_kind: dict[Kind, tuple[list[int], list[torch.Tensor]]] = {}
        rest: dict[int, Any] = {}
        for f, names in y.items():
            for n, outs in names.items():
                for o, v in outs.items():
                    if (f, n, o) == M_PORT:
                        continue
                    p = self._intern_out((f, n, o))
                    if NUMBER in v:
                        nums[p] = v[NUMBER]
                    t = v.get(TENSOR)
                    if t is not None:
                        rows, ts = by_kind.setdefault(kind_of(t), ([], []))
                        rows.append(p)
                        ts.append(t.to(self.device))
                    if len(v) > (NUMBER in v) + (TENSOR in v):
                        rest[p] = {k: c for k, c in v.items() if k != NUMBER and k != TENSOR}
        size = len(self._out_keys)
        num = torch.zeros(size, dtype=torch.float64)
        isint = torch.ones(size, dtype=torch.bool)
        if nums:
            idx = torch.tensor(list(nums), dtype=torch.long)
            num[idx] = torch.tensor([float(x) for x in nums.values()], dtype=torch.float64)
            isint[idx] = torch.tensor([type(x) is int for x in nums.values()])
        tens = {
            k: (torch.tensor(rows, dtype=torch.long, device=self.device), torch.stack(ts))
            for k, (rows, ts) in by_kind.items()
        }
        any_int = bool((isint & (num != 0)).any())
        return _Parts(num.to(self.device), isint.to(self.device) if any_int else None, tens, rest)

    def _compile_matrix(self, w: Mapping[str, Any]) -> bool:
        """Load W's entries into the sparse matrix; False if W is not regular."""
        rows: list[int] = []
        cols: list[int] = []
        vals: list[Any] = []
        nested: dict[str, Any] = {}
        # first the ports of every neuron that has a row, in row order: then a
        # type's instances read and write contiguous ranges of x and y
        for f, names in w.items():
            if f.startswith(":") or type(names) is not dict:
                return False
            ntype = self.registry.get(f) if f in self.registry else None
            for n, ins in names.items():
                if n.startswith(":") or type(ins) is not dict:
                    return False
                for i in ins:
                    if not i.startswith(":"):
                        self._intern_in((f, n, i))
                if ntype is not None:
                    for o in ntype.outputs:
                        self._intern_out((f, n, o))
                    if ntype.mirror:
                        for i in ins:
                            if not i.startswith(":"):
                                self._intern_out((f, n, i))
        for f, names in w.items():
            if f.startswith(":") or type(names) is not dict:
                return False
            for n, ins in names.items():
                if n.startswith(":") or type(ins) is not dict:
                    return False
                for i, row in ins.items():
                    if i.startswith(":") or type(row) is not dict:
                        return False
                    r = self._intern_in((f, n, i))
                    for g, ms in row.items():
                        if g.startswith(":") or type(ms) is not dict:
                            return False
                        for m, os in ms.items():
                            if m.startswith(":") or type(os) is not dict:
                                return False
                            for o, x in os.items():
                                if o.startswith(":") or not vv.is_number(x):
                                    return False
                                c = self._intern_out((g, m, o))
                                rows.append(r)
                                cols.append(c)
                                vals.append(x)
                                self._entry_added(r, (f, n), (g, m, o))
                            nested.setdefault(f, {}).setdefault(n, {}).setdefault(i, {}).setdefault(g, {})[
                                m
                            ] = dict(os)
        self._w = nested
        self._w_shared = False
        self._owned = None
        self._A.load(rows, cols, vals, len(self._in_keys), len(self._out_keys))
        return True

    def _self_pattern_problem(self) -> str:
        return self._self_problem(self._w, self._m_readers)

    def _self_problem(self, w: Mapping[str, Any], readers: int) -> str:
        """Why Self cannot run compiled: it must be the built-in Self, keep W
        through its accum row with the int weight 1, and be W's only reader.
        "" when it can."""
        try:
            self_type = self.registry.get(SELF_TYPE)
        except RegistryError:
            return "no Self type"
        if self_type.fn is not self_neuron.fn:
            return "Self is not the built-in Self"
        accum_row = vv.get_in(w, ACCUM_PORT)
        if (
            accum_row != {SELF_TYPE: {SELF_NAME: {MATRIX_OUTPUT: 1}}}
            or type(accum_row[SELF_TYPE][SELF_NAME][MATRIX_OUTPUT]) is not int
        ):
            return "Self's accum row is not W with weight 1"
        if readers != 1:
            return "W is read by other neurons"
        return ""

    def _first_row(self, f: str, n: str) -> int:
        return min(self._neuron_in.get((f, n), {}).values(), default=1 << 62)

    def _intern_in(self, port: Port) -> int:
        p = self._in.get(port)
        if p is None:
            p = self._in[port] = len(self._in_keys)
            self._in_keys.append(port)
            self._row_count.append(0)
            self._neuron_in.setdefault((port[0], port[1]), {})[port[2]] = p
        return p

    def _intern_out(self, port: Port) -> int:
        p = self._out.get(port)
        if p is None:
            p = self._out[port] = len(self._out_keys)
            self._out_keys.append(port)
            self._neuron_out.setdefault((port[0], port[1]), []).append(p)
        return p

    def _entry_added(self, r: int, to: NeuronId, frm: Port) -> None:
        self._row_count[r] += 1
        if self._row_count[r] == 1:
            self._sv += 1
        for nid in (to, (frm[0], frm[1])):
            c = self._count.get(nid, 0)
            self._count[nid] = c + 1
            if c == 0:
                self._sv += 1
        if frm == M_PORT:
            self._m_readers += 1

    def _entry_removed(self, r: int, to: NeuronId, frm: Port) -> None:
        self._row_count[r] -= 1
        if self._row_count[r] == 0:
            self._sv += 1
        for nid in (to, (frm[0], frm[1])):
            self._count[nid] -= 1
            if self._count[nid] == 0:
                del self._count[nid]
                self._sv += 1
        if frm == M_PORT:
            self._m_readers -= 1

    def state(self) -> State:
        if self._ref is not None:
            return {f: {n: dict(o) for n, o in names.items()} for f, names in self._ref.items()}
        m = self._out[M_PORT]
        ports = set(self._y.ports())
        if self._w:
            ports.add(m)
        # the reference's order: its neurons as matrix_neurons lists them, each
        # neuron's outputs as its function returns them (declared ones first)
        if self._order_src is not None:  # y_t+1 of a step that changed W: the order of W_t
            self._order = list(matrix_neurons(self._order_src))
            self._order_src = None
        order = self._order if self._order is not None else self._order_of_w() or []
        ordered = [p for nid in order for p in self._neuron_out.get(nid, ()) if p in ports]
        seen = set(ordered)
        ordered += sorted(ports - seen)
        out: State = {}
        for p in ordered:
            v = self._matrix() if p == m else self._export(self._y.value(p))
            if v:
                f, n, o = self._out_keys[p]
                out.setdefault(f, {}).setdefault(n, {})[o] = v
        return out

    def state_view(self) -> State:
        return self._ref if self._ref is not None else self.state()

    def _export(self, v: vv.VValue) -> vv.VValue:
        t = v.get(TENSOR)
        if t is not None and t.device.type != "cpu":
            v = dict(v)
            v[TENSOR] = t.cpu()
        return v

    def _order_of_w(self) -> list[NeuronId] | None:
        """matrix_neurons(W), kept until W changes (None for large W)."""
        if self._order_w is None and self._A.nnz <= _ORDER_MAX:
            self._order_w = list(matrix_neurons(self._w))
        return self._order_w

    def _matrix(self) -> vv.VValue:
        """W as a V-value. It is handed out, not copied: from now on, Self's
        edits copy the dicts along the paths they change (copy-on-write), so
        what a caller holds never changes, as with the reference's values."""
        self._w_shared = True
        return self._w

    # -- cheaper forms of the base conveniences
    def matrix(self) -> vv.VValue:
        if self._ref is not None:
            return super().matrix()
        return self._matrix()

    def output(self, type: str, name: str, output: str) -> vv.VValue:
        if self._ref is not None:
            return super().output(type, name, output)
        if (type, name, output) == M_PORT:
            return self._matrix()
        p = self._out.get((type, name, output))
        if p is None:
            return {}
        return self._export(self._y.value(p))

    def active(self) -> list[NeuronId]:
        if self._ref is not None:
            return super().active()
        return list(self._count)

    def stats(self) -> dict[str, int]:
        if self._ref is not None:
            return super().stats()
        return {"t": self.t, "active": len(self._count), "nonzeros": self._A.nnz}

    def footprint(self) -> tuple[int, int]:
        if self._ref is not None:
            return super().footprint()
        y = self._y
        nbytes = self._A.nnz * BYTES_PER_WEIGHT + int(y.num.numel()) * BYTES_PER_LEAF
        for _, data in y.tens.values():
            nbytes += data.numel() * data.element_size()
        for v in y.rest.values():
            if type(v) is dict:
                leaves, tb = leaves_and_bytes(v)
                nbytes += leaves * BYTES_PER_LEAF + tb
        return self._A.nnz, nbytes

    def all_finite(self) -> bool | None:
        """One isfinite per part of y_t (the dicts of its "rest" are walked);
        W's own dict is not: it changes only by outputs, which are looked at."""
        if self._ref is not None:
            return None
        y = self._y
        if not bool(torch.isfinite(y.num).all()):
            return False
        for _, data in y.tens.values():
            if (data.is_floating_point() or data.is_complex()) and not bool(torch.isfinite(data).all()):
                return False
        return all(first_non_finite(v) is None for v in y.rest.values() if type(v) is dict)

    # ================================================================ the step
    def step(self) -> None:
        if self._small:  # as ReferenceEngine.step, then the size check of _load
            assert self._ref is not None
            gains = self.field_gains()
            y = reference.step(self._ref, self.effective_params(gains), self.registry, self.t, gains)
            self._load(y)
            self.t += 1
            return
        if self._ref is not None:
            if not matrix_of(self._ref):
                raise NetworkHalted(self.t)
        elif not self._w:
            raise NetworkHalted(self.t)
        gains = self.field_gains()
        params = self.effective_params(gains)
        if self._ref is not None or (gains is not None and (SELF in gains.inputs or SELF in gains.outputs)):
            y = self._ref if self._ref is not None else self.state()
            self._load(reference.step(y, params, self.registry, self.t, gains))
        else:
            self._fast_step(params, gains)
            if self.threshold and self._ref is None:
                self._maybe_shrink()
        self.t += 1

    def _maybe_shrink(self) -> None:
        """After a compiled step: back to the small form when the network has
        shrunk below half the threshold (hysteresis)."""
        if self._A.nnz <= self.threshold // 2:
            y = self.state()
            if self._fits_small(y, {}, self._A.nnz):
                self._small = True
                self._slow = "a small network"
                self._ref = y

    def _fast_step(self, params: Params, gains: FieldGains | None) -> None:
        t = self.t
        y = self._padded(self._y)
        if gains is not None and gains.outputs:
            y = self._scaled(y, self._out_gains(gains.outputs), len(self._out_keys))
        x = self._down(y)
        if gains is not None and gains.inputs:
            x = self._scaled(x, self._in_gains(gains.inputs), len(self._in_keys))
        struct = self._structure()
        outputs: list[tuple[torch.Tensor | slice, list[int], Column]] = []
        xcol = x.column()
        for type_id, names, ntype in struct["types"]:
            info = struct["inputs"][type_id]
            if ntype is None:
                raise StepError(
                    t + 1,
                    f"unknown neuron type {type_id!r}{self.registry.missing_hint(type_id)}",
                    (type_id, names[0]),
                )
            columns = {}
            for i, (idx, span) in info["idx"].items():
                if span is not None:  # a contiguous range of x: views, no gather
                    columns[i] = _range_of(xcol, *span)
                    continue
                inverse = None
                if xcol.tensors or xcol.rest:
                    inverse = info["inverse"].get(i)
                    if inverse is None:
                        inverse = info["inverse"][i] = inverse_index(idx, xcol.n)
                columns[i] = xcol.take(idx, bool((idx >= 0).all()), inverse)
            batch = Batch(len(names), columns, self.device)
            table = ParamTable(ntype.params, params.get(type_id, {}), names, self.device)
            result = self._run_type(ntype, batch, table, names, info["names"], t + 1)
            for o, col in result.items():
                if o in ntype.outputs:  # a declared output: every instance has the port
                    idx, idx_list = self._out_index(struct, type_id, names, o)
                    outputs.append((idx, idx_list, col))
                else:  # a variadic one: ports only for the instances that emit it
                    rows = col.present_rows()
                    if rows:
                        ports = [self._intern_out((type_id, names[r], o)) for r in rows]
                        where = torch.tensor(rows, dtype=torch.long, device=self.device)
                        sub = col.take(where, complete=True)
                        outputs.append(
                            (torch.tensor(ports, dtype=torch.long, device=self.device), ports, sub)
                        )
        delta = x.value(self._in[DELTA_PORT]) if DELTA_PORT in self._in else {}
        # everything computed: commit
        self._y = self._assemble(outputs)
        # y_{t+1} lists its neurons in the order of W_t; when W changes now, keep
        # that order (for all but large matrices, where it costs too much)
        self._order = None
        self._order_src = None
        if delta:
            if self._order_w is not None:
                self._order = self._order_w
            elif self._A.nnz <= _ORDER_MAX:
                # W_t's order, computed when state() asks for it: W_t is kept
                # as it is (Self's edits below copy on write)
                self._order_src = self._w
                self._w_shared = True
            self._apply_delta(delta)
            self._order_w = None

    # ---------------------------------------------------------------- down movement
    def _padded(self, y: _Parts) -> _Parts:
        n = len(self._out_keys)
        k = y.num.shape[0]
        if k == n:
            return y
        zeros = torch.zeros(n - k, dtype=torch.float64, device=self.device)
        ones = torch.ones(n - k, dtype=torch.bool, device=self.device)
        ints = None if y.ints is None else torch.cat([y.ints, ones])
        return _Parts(torch.cat([y.num, zeros]), ints, y.tens, y.rest)

    def _down(self, y: _Parts) -> _Parts:
        A = self._A
        n_in = len(self._in_keys)
        A.resize(n_in, len(self._out_keys))
        num = A.matvec(y.num)
        isint = self._x_isint(y, num)
        tens = self._down_tensors(y, n_in) if y.tens else {}
        rest = self._down_rest(y) if y.rest else {}
        return _Parts(num, isint, tens, rest)

    def _x_isint(self, y: _Parts, num: torch.Tensor) -> torch.Tensor | None:
        """Where the reference would hold an int: every term of the sum an int.

        A row with no int weight sums to a float (or to nothing); only the
        rows that hold an int weight (usually few: Self's accum row) are
        looked at term by term.
        """
        small = self._A.int_rows_small() if self.device.type == "cpu" else None
        if small is not None:  # few terms: looked at in Python (fewer tensor ops)
            rows_l, local_l, cols_l, isfloat_l = small
            at = torch.tensor(cols_l, dtype=torch.long)
            ynum = y.num[at].tolist()
            yint = None if y.ints is None else y.ints[at].tolist()
            dirty = {
                k
                for k, x, f, j in zip(local_l, ynum, isfloat_l, range(len(ynum)), strict=True)
                if x != 0 and (yint is None or f or not yint[j])
            }
            zero = num == 0
            clean = [r for k, r in enumerate(rows_l) if k not in dirty]
            if clean:
                zero[torch.tensor(clean, dtype=torch.long)] = True
            return zero
        sub = self._A.int_rows()
        if sub is None:
            return None
        zero = num == 0
        int_rows, local, cols, isfloat = sub
        tainted = y.num[cols] != 0
        if y.ints is not None:
            tainted &= isfloat | ~y.ints[cols]
        if bool(tainted.any()):
            taint = torch.zeros(int_rows.shape[0], dtype=torch.float64, device=self.device)
            taint.index_add_(0, local, tainted.double())
            clean = taint == 0
        else:
            clean = torch.ones(int_rows.shape[0], dtype=torch.bool, device=self.device)
        if int_rows.shape[0] == num.shape[0]:
            return clean | zero
        zero[int_rows] = clean | zero[int_rows]
        return zero

    def _down_tensors(self, y: _Parts, n_in: int) -> Rows:
        out: Rows = {}
        for kind, (ports, data) in y.tens.items():
            key = (kind, self._A.version, self._A.stamp, n_in, tuple(ports.tolist()))
            cached = self._kind_cache.get(kind)
            if cached is None or cached[0] != key:
                cached = (key, self._kind_block(ports, kind[1]))
                self._kind_cache[kind] = cached
            rows, block, entries = cached[1]
            if rows.numel() == 0:
                continue
            if block is not None:
                prod = block @ data.reshape(data.shape[0], -1)
                out[kind] = (rows, prod.reshape((rows.shape[0], *kind[0])))
            else:  # dtypes that sparse products do not take: term by term, as the reference
                acc: list[Any] = [None] * rows.shape[0]
                for r, c, w in entries:
                    acc[r] = vv._add(acc[r], vv._scale(w, data[c]))
                out[kind] = (rows, torch.stack(acc))
        if len(out) > 1:
            out = self._merge_kinds(out)
        return out

    def _kind_block(self, ports: torch.Tensor, dtype: torch.dtype) -> tuple[Any, Any, Any]:
        """The columns of A for the ports holding one tensor kind, rows compressed."""
        rows, cols, vals, isfloat = self._A.coo()
        colmap = torch.full((len(self._out_keys),), -1, dtype=torch.long)
        colmap[ports.cpu()] = torch.arange(ports.shape[0])
        local = colmap[cols]
        sel = local >= 0
        r, c, v, fl = rows[sel], local[sel], vals[sel], isfloat[sel]
        out_rows, inv = torch.unique(r, return_inverse=True)
        if dtype in (torch.float32, torch.float64):
            block = torch.sparse_coo_tensor(
                torch.stack([inv, c]),
                v.to(dtype),
                (out_rows.shape[0], ports.shape[0]),
                check_invariants=False,
            ).coalesce()
            return out_rows.to(self.device), quiet_csr(block.to_sparse_csr).to(self.device), None
        weights = [x if f else int(x) for x, f in zip(v.tolist(), fl.tolist(), strict=True)]
        entries = list(zip(inv.tolist(), c.tolist(), weights, strict=True))
        return out_rows.to(self.device), None, entries

    def _merge_kinds(self, tens: Rows) -> Rows:
        """Ports that receive tensors of two kinds: added as the reference adds
        them (dtype promotion, or a StepError for shapes that differ)."""
        owner: dict[int, list[tuple[Kind, int]]] = {}
        for kind, (rows, _) in tens.items():
            for k, p in enumerate(rows.tolist()):
                owner.setdefault(p, []).append((kind, k))
        mixed = {p: hits for p, hits in owner.items() if len(hits) > 1}
        if not mixed:
            return tens
        drop: dict[Kind, set[int]] = {}
        extra: dict[Kind, tuple[list[int], list[torch.Tensor]]] = {}
        for p, hits in mixed.items():
            s: Any = None
            for kind, k in hits:
                try:
                    s = vv._add(s, tens[kind][1][k])
                except VValueError as e:  # as the reference's down movement reports it
                    f, n, i = self._in_keys[p]
                    raise StepError(self.t + 1, f"input {i!r}: {e}", (f, n)) from e
                drop.setdefault(kind, set()).add(k)
            rows_, ts = extra.setdefault(kind_of(s), ([], []))
            rows_.append(p)
            ts.append(s)
        out: Rows = {}
        for kind, (rows, data) in tens.items():
            gone = drop.get(kind)
            if gone:
                keep = torch.tensor([k not in gone for k in range(rows.shape[0])], device=rows.device)
                rows, data = rows[keep], data[keep]
            if rows.numel():
                out[kind] = (rows, data)
        for kind, (ps, ts) in extra.items():
            new_rows = torch.tensor(ps, dtype=torch.long, device=self.device)
            if kind in out:
                out[kind] = (torch.cat([out[kind][0], new_rows]), torch.cat([out[kind][1], torch.stack(ts)]))
            else:
                out[kind] = (new_rows, torch.stack(ts))
        return out

    def _down_rest(self, y: _Parts) -> dict[int, Any]:
        """The children of the values, along the columns of A that hold any
        (term by term in the reference's order: the order of the row's entries)."""
        terms: list[tuple[int, int, Any]] = []
        for c in y.rest:
            for r, w, isfloat in self._A.column(c):
                terms.append((r, c, w if isfloat else int(w)))
        acc: dict[int, Any] = {}
        for r, c, w in sorted(terms, key=lambda term: (term[0], self._A.position(term[0], term[1]))):
            s = vv._add(acc.get(r), vv._scale(w, y.rest[c]))
            if s is None:
                acc.pop(r, None)
            else:
                acc[r] = s
        return acc

    # ---------------------------------------------------------------- field gains
    def _out_gains(self, gains: Mapping[NeuronId, float]) -> dict[int, float]:
        return {p: g for nid, g in gains.items() for p in self._neuron_out.get(nid, ())}

    def _in_gains(self, gains: Mapping[NeuronId, float]) -> dict[int, float]:
        return {p: g for nid, g in gains.items() for p in self._neuron_in.get(nid, {}).values()}

    def _scaled(self, v: _Parts, gains: dict[int, float], n: int) -> _Parts:
        """Each port's value times its gain, as ``vvalue.scale`` does it."""
        if not gains:
            return v
        ports = torch.tensor(list(gains), dtype=torch.long, device=self.device)
        g = torch.ones(n, dtype=torch.float64, device=self.device)
        g[ports] = torch.tensor([float(x) for x in gains.values()], dtype=torch.float64, device=self.device)
        gint = torch.ones(n, dtype=torch.bool, device=self.device)
        gint[ports] = torch.tensor([type(x) is int for x in gains.values()], device=self.device)
        num = v.num * g
        isint = None if v.ints is None else (v.ints & gint) | (num == 0)
        tens: Rows = {}
        for kind, (rows, data) in v.tens.items():
            s = g[rows]
            keep = s != 0
            if not bool(keep.all()):
                rows, data, s = rows[keep], data[keep], s[keep]
            if rows.numel():
                tens[kind] = (rows, data * s.to(data.dtype).reshape((-1,) + (1,) * (data.dim() - 1)))
        rest: dict[int, Any] = {}
        for p, children in v.rest.items():
            c = gains.get(p, 1)
            if c != 0:
                s2 = vv._scale(c, children)
                if s2 is not None:
                    rest[p] = s2
        return _Parts(num, isint, tens, rest)

    # ---------------------------------------------------------------- up movement
    def _structure(self) -> dict[str, Any]:
        """Active instances by type and the index arrays that gather their
        inputs: rebuilt only when the active part or the rows of W change."""
        if self._struct_cache is not None and self._struct_cache[0] == self._sv:
            return self._struct_cache[1]
        by_type: dict[str, list[str]] = {}
        for f, n in self._count:
            if (f, n) != SELF:
                by_type.setdefault(f, []).append(n)
        for f, names in by_type.items():  # in row order (see _compile_matrix)
            names.sort(key=functools.partial(self._first_row, f))
        types: list[tuple[str, list[str], NeuronType | None]] = []
        inputs: dict[str, Any] = {}
        for f, names in by_type.items():
            ntype = self.registry.get(f) if f in self.registry else None
            types.append((f, names, ntype))
            per_name: dict[str, list[int]] = {}
            inst_names: list[list[str]] = []
            for r, n in enumerate(names):
                mine = [(i, p) for i, p in self._neuron_in.get((f, n), {}).items() if self._row_count[p] > 0]
                inst_names.append([i for i, _ in mine])
                for i, p in mine:
                    if ntype is not None and not ntype.variadic_inputs and i not in ntype.inputs:
                        continue
                    per_name.setdefault(i, [-1] * len(names))[r] = p
            idx = {
                i: (torch.tensor(ps, dtype=torch.long, device=self.device), _span(ps))
                for i, ps in per_name.items()
            }
            inputs[f] = {"idx": idx, "names": inst_names, "inverse": {}}
        struct = {"types": types, "inputs": inputs, "out": {}}
        self._struct_cache = (self._sv, struct)
        return struct

    def _out_index(
        self, struct: dict[str, Any], type_id: str, names: list[str], o: str
    ) -> tuple[torch.Tensor | slice, list[int]]:
        cached = struct["out"].get((type_id, o))
        if cached is None:
            ps = [self._intern_out((type_id, n, o)) for n in names]
            span = _span(ps)
            cached = (
                torch.tensor(ps, dtype=torch.long, device=self.device) if span is None else slice(*span),
                ps,
            )
            struct["out"][(type_id, o)] = cached
        return cached

    def _run_type(
        self,
        ntype: NeuronType,
        batch: Batch,
        table: ParamTable,
        names: list[str],
        inst_inputs: list[list[str]],
        t: int,
    ) -> dict[str, Column]:
        kernel = ntype.batched
        if kernel is None:
            builtin = BUILTIN_KERNELS.get(ntype.id)
            if builtin is not None and _builtin_fn(ntype.id) is ntype.fn:
                kernel = builtin
        if kernel is not None:
            try:
                result = kernel(batch, table)
            except Exception:  # found again, and named, instance by instance
                result = None
            if result is not None:
                return result
        return self._per_instance(ntype, batch, table, names, inst_inputs, t)

    def _per_instance(
        self,
        ntype: NeuronType,
        batch: Batch,
        table: ParamTable,
        names: list[str],
        inst_inputs: list[list[str]],
        t: int,
    ) -> dict[str, Column]:
        values = {i: col.values() for i, col in batch.columns.items()}
        outs: dict[str, list[Any]] = {}
        for r, n in enumerate(names):
            x = {i: (values[i][r] if i in values else {}) for i in inst_inputs[r]}
            try:
                result = ntype.call(x, table.row(r))
                if not isinstance(result, Mapping):
                    raise TypeError(f"returned {type(result).__name__}, not a map of outputs")
                for o, v in result.items():
                    try:
                        c = vv.canon(v)
                    except VValueError as e:
                        raise VValueError(f"output {o!r}: {e}") from None
                    if c:
                        outs.setdefault(o, [None] * len(names))[r] = c
            except Exception as e:  # a neuron's fault is reported, never a crash
                raise StepError(t, f"{type(e).__name__}: {e}", (ntype.id, n)) from e
        return {o: Column.from_values(vs, self.device) for o, vs in outs.items()}

    def _assemble(self, outputs: list[tuple[torch.Tensor | slice, list[int], Column]]) -> _Parts:
        """The new y from the output columns (``idx``: their ports, a tensor or a slice)."""
        n = len(self._out_keys)
        num = torch.zeros(n, dtype=torch.float64, device=self.device)
        isint = None
        if any(col.ints is not None for _, _, col in outputs):
            isint = torch.ones(n, dtype=torch.bool, device=self.device)
        pieces: dict[Kind, list[tuple[torch.Tensor, torch.Tensor]]] = {}
        rest: dict[int, Any] = {}
        for idx, idx_list, col in outputs:
            num[idx] = col.num
            if isint is not None:
                isint[idx] = col.isint
            for kind, (rows, data) in col.tensors.items():
                ports = rows + idx.start if isinstance(idx, slice) else idx[rows]
                pieces.setdefault(kind, []).append((ports, data))
            for r, v in col.rest.items():
                rest[idx_list[r]] = v
        tens: Rows = {}
        for kind, ps in pieces.items():
            if len(ps) == 1:
                tens[kind] = ps[0]
            else:
                tens[kind] = (torch.cat([p for p, _ in ps]), torch.cat([d for _, d in ps]))
        return _Parts(num, isint, tens, rest)

    # ---------------------------------------------------------------- Self
    def edit_matrix(self, delta: Mapping[str, Any]) -> None:
        """``W_t += delta`` between steps through the same incremental path as
        Self's delta (weights in place, new entries patched)."""
        if self._ref is not None:  # held as dicts: edit them (and decide the form again)
            super().edit_matrix(delta)
            return
        delta = vv.canon(delta)
        if delta:
            self._apply_delta(delta)

    def _apply_delta(self, delta: vv.VValue) -> None:
        """W += delta: weights in place, new entries patched, W kept nested."""
        # regular: every leaf of the delta is a numeric weight at depth six
        edits = [(*to, *frm, dw) for to, frm, dw in matrix_wires(delta)]
        regular = len(edits) == vv.size(delta)
        if not regular:
            state = self.state()
            outs = state.setdefault(SELF_TYPE, {}).setdefault(SELF_NAME, {})
            outs[MATRIX_OUTPUT] = vv.add(outs.get(MATRIX_OUTPUT, {}), delta)
            self._load(canonical_state(state))
            return
        touches_self = False
        writes = []
        if self._w_shared:  # someone holds W: copy-on-write from the top
            self._w = dict(self._w)
            self._w_shared = False
            self._owned = {id(self._w)}
        # the dicts copied by an earlier delta since the handout are ours, the rest
        # (those no delta has touched since) are still the caller's: copied on write
        fresh = self._owned
        for f, n, i, g, m, o, dw in edits:
            touches_self = touches_self or (f, n, i) == ACCUM_PORT or (g, m, o) == M_PORT
            writes.append(self._edit(f, n, i, g, m, o, dw, fresh))
        self._A.resize(len(self._in_keys), len(self._out_keys))
        self._A.set_many(writes)
        if touches_self:
            self._slow = self._self_pattern_problem()
            if self._slow:
                self._load(canonical_state(self.state()))

    def _edit(
        self, f: str, n: str, i: str, g: str, m: str, o: str, dw: Any, fresh: set[int] | None
    ) -> tuple[int, int, Any]:
        """One weight of the nested W and the counts; returns the matrix write.
        ``fresh``: the ids of the dicts this delta may change in place (None:
        all of them; else the others are copied first, see ``_matrix``)."""
        path = [self._w]
        node = self._w
        for k in (f, n, i, g, m):
            child = node.get(k)
            if child is None:
                child = node[k] = {}
                if fresh is not None:
                    fresh.add(id(child))
            elif fresh is not None and id(child) not in fresh:
                child = node[k] = dict(child)
                fresh.add(id(child))
            node = child
            path.append(node)
        old = node.get(o)
        new = vv._add(old, dw)
        r = self._intern_in((f, n, i))
        c = self._intern_out((g, m, o))
        if new is None:
            node.pop(o, None)
            for depth in range(5, 0, -1):  # prune dicts left empty
                if path[depth]:
                    break
                del path[depth - 1][(f, n, i, g, m)[depth - 1]]
        else:
            node[o] = new
        if old is None and new is not None:
            self._entry_added(r, (f, n), (g, m, o))
        elif old is not None and new is None:
            self._entry_removed(r, (f, n), (g, m, o))
        return r, c, 0 if new is None else new


def _count_weights(w: Mapping[str, Any], limit: int) -> int:
    """The numbers at depth six of W (what the compiled form holds), counted
    up to just past ``limit``; anything else (reserved keys, leaves at other
    depths) counts as one weight."""
    k = 0
    for names in w.values():
        if type(names) is not dict:
            k += 1
            continue
        for ins in names.values():
            if type(ins) is not dict:
                k += 1
                continue
            for row in ins.values():
                if type(row) is not dict:
                    k += 1
                    continue
                for ms in row.values():
                    if type(ms) is not dict:
                        k += 1
                        continue
                    for os in ms.values():
                        k += len(os) if type(os) is dict else 1
            if k > limit:
                return k
    return k


def _range_of(col: Column, a: int, b: int) -> Column:
    """Rows ``a:b`` of a column (numbers as views)."""
    out = Column(col.num[a:b], None if col.ints is None else col.ints[a:b])
    for k, (rows, data) in col.tensors.items():
        sel = (rows >= a) & (rows < b)
        if bool(sel.all()):
            out.tensors[k] = (rows - a, data)
        elif bool(sel.any()):
            out.tensors[k] = (rows[sel] - a, data[sel])
    for r, v in col.rest.items():
        if a <= r < b:
            out.rest[r - a] = v
    return out


def _span(ports: list[int]) -> tuple[int, int] | None:
    """``(a, b)`` when ``ports`` is ``a, a + 1, ..., b - 1``, else None."""
    if (
        ports
        and ports[0] >= 0
        and ports[-1] - ports[0] == len(ports) - 1
        and ports == list(range(ports[0], ports[-1] + 1))
    ):
        return ports[0], ports[-1] + 1
    return None


def _builtin_fn(type_id: str) -> Any:
    """The function of the built-in type ``type_id`` (to check that a
    registry's type of that id is the built-in before using its kernel)."""
    if type_id == SELF_TYPE:
        return self_neuron.fn
    try:
        from dmm_studio_nodes import core
    except ImportError:  # pragma: no cover
        return None
    t = getattr(core, type_id, None)
    return t.fn if isinstance(t, NeuronType) else None
