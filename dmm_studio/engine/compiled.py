"""The compiled engine: the step of SPEC §3 as sparse products and batched calls.

It computes what ``ReferenceEngine`` computes (tested against it on every
example and on random networks), in another form, for a *regular* W: six
labels down to a number everywhere, Self the built-in one, reading W only
through its ``accum`` row with weight 1 (``AutoEngine`` in ``auto.py`` runs
every other network with the reference's code, and small ones too).

* Interning: input ports ``(f, n, i)`` are the rows of W, output ports
  ``(g, m, o)`` its columns, numbered as they are first met; each neuron has
  a number and a place among the instances of its type (:class:`TypeTable`).
  The entries of W are a :class:`PatchedCSR` (``_sparse.py``).
* The state ``y`` is a :class:`Column` over the output ports: the numbers as
  one float64 vector, root tensors stacked per stream kind (shape, dtype),
  and the children of the values that have any (word counts, matrix
  fragments) as nested dicts. W itself is kept as a nested dict for reading.
* Down movement: ``x = A @ y`` for the numbers (one CSR matvec), one sparse
  product per tensor kind, V-value arithmetic for the children along the
  columns that hold any.
* Up movement: one call per neuron type for all its active instances (the
  type's ``batched`` form, else its ``fn`` instance by instance), inputs
  gathered by index (or sliced, where they lie evenly spaced).
* Self: W_{t+1} = W_t + delta, applied in place: weights that exist are
  written into the CSR values, new ones go to its patch, and the nested W is
  copied on write along the paths that change, when next read (what
  ``state()`` and ``matrix()`` handed out never changes). Every count the
  step relies on (entries per neuron and per row) is updated by the k
  entries that change: O(k). A neuron that vanishes stays a dormant member
  of its type's plan and wakes in O(1) (see :class:`Plan`); new neurons
  rebuild their type's index arrays (numpy).

A delta that would make W irregular is applied to the nested W and sets
``problem``; the engine then refuses to step (``AutoEngine`` takes over).
Numbers are float64 throughout: ints beyond 2**53 lose precision.
Threads: call an engine from one thread at a time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import torch

from .. import vvalue as vv
from ..limits import BYTES_PER_LEAF, BYTES_PER_WEIGHT, leaves_and_bytes
from ..nonfinite import _tensor_non_finite, first_non_finite
from ..registry import SELF_NAME, SELF_TYPE, Registry, RegistryError
from ..vvalue import TENSOR
from ._batched import Batch, Column, Index, Kind, Rows
from ._sparse import PatchedCSR, keys_of
from ._tables import Grow, Plan, Ports, TypeTable, port_index
from .base import (
    MATRIX_OUTPUT,
    Engine,
    FieldGains,
    NetworkHalted,
    NeuronId,
    Params,
    Port,
    State,
    StepError,
    canonical_state,
)
from .reference import up_movement
from .regular import matrix_problem, regular_wires, self_problem

SELF: NeuronId = (SELF_TYPE, SELF_NAME)
M_PORT: Port = (SELF_TYPE, SELF_NAME, MATRIX_OUTPUT)
NO_PARAMS: Mapping[str, Any] = MappingProxyType({})
ACCUM_PORT: Port = (SELF_TYPE, SELF_NAME, "accum")
DELTA_PORT: Port = (SELF_TYPE, SELF_NAME, "delta")


class Uncovered(RuntimeError):
    """A step the compiled form does not cover (a sum of integer tensors,
    tensors of two kinds reaching one input): raised before anything changed;
    ``AutoEngine`` runs that step with the reference's code."""


class CompiledEngine(Engine):
    """Sparse-matrix, batched engine for a regular W (``device``: a torch device;
    ``AutoEngine`` resolves "auto")."""

    name = "compiled"

    def __init__(
        self, state: Mapping[str, Any], *, device: str = "cpu", checked: bool = False, **kwargs: Any
    ) -> None:
        """``checked``: ``state`` is canonical and runs compiled (``AutoEngine`` checked it)."""
        self.device = torch.device(device)
        self._checked = checked
        super().__init__(state, **kwargs)

    # ================================================================ compiling
    def set_state(self, state: Mapping[str, Any]) -> None:
        """Compile a state. Raises ValueError when it cannot run compiled."""
        checked, self._checked = self._checked, False
        y: State = state if checked else canonical_state(state)  # type: ignore[assignment]
        w = y.get(SELF_TYPE, {}).get(SELF_NAME, {}).get(MATRIX_OUTPUT) or {}
        problem = "" if checked else matrix_problem(w, self.registry)
        if problem:
            raise ValueError(f"the compiled engine cannot run this network: {problem}")
        self.problem = ""
        self._rows, self._cols = Ports(), Ports()
        self._neurons: dict[NeuronId, int] = {}
        self._nid_type: list[TypeTable] = []
        self._tables: dict[str, TypeTable] = {}
        self._stepping: list[TypeTable] = []  # the tables but Self's
        self._count, self._row_count, self._place = Grow(), Grow(), Grow()
        self._kind_cache: dict[Kind, tuple[Any, Any]] = {}
        # W is the caller's: the first delta copies the dicts along its paths
        self._w, self._w_shared, self._owned = w, True, None
        self._pending: list[list[tuple[Port, Port, float]]] = []
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for f, names in w.items():  # first the rows: a type's instances then lie in row order
            for n, ins in names.items():
                for i in ins:
                    self._intern_in((f, n, i))
        col_of, intern_out, r = self._cols.index.get, self._intern_out, 0
        for names in w.values():  # the rows again, in the same order
            for ins in names.values():
                for row in ins.values():
                    for g, ms in row.items():
                        for m, os in ms.items():
                            for o, x in os.items():
                                c = col_of((g, m, o))
                                cols.append(intern_out((g, m, o)) if c is None else c)
                                vals.append(x)
                            rows.extend([r] * len(os))
                    r += 1
        r_arr, c_arr = np.array(rows, np.int64), np.array(cols, np.int64)
        self._A = PatchedCSR(r_arr, c_arr, np.array(vals), r, len(self._cols.keys), self.device)
        nids = np.concatenate([self._rows.nid.view()[r_arr], self._cols.nid.view()[c_arr]])
        self._count.view()[:] = np.bincount(nids, minlength=self._count.n)
        self._row_count.view()[:] = np.bincount(r_arr, minlength=self._row_count.n)
        self._intern_out(M_PORT)
        self._y = self._column_of(y)

    def _column_of(self, y: State) -> Column:
        """The outputs of ``y`` as a Column over the output ports."""
        at = {self._intern_out((f, n, o)): v for f, ns in y.items() for n, outs in ns.items()
              for o, v in outs.items() if (f, n, o) != M_PORT}  # fmt: skip
        col = Column.from_values(list(at.values()), self.device)
        ports = torch.tensor(list(at), dtype=torch.long, device=self.device)
        num = torch.zeros(len(self._cols.keys), dtype=torch.float64, device=self.device)
        num[ports] = col.num
        tensors = {k: (ports[rows], data) for k, (rows, data) in col.tensors.items()}
        return Column(num, tensors, {int(ports[r]): v for r, v in col.rest.items()})

    # ---------------------------------------------------------------- interning
    def _neuron(self, f: str, n: str) -> int:
        nid = self._neurons.get((f, n))
        if nid is None:
            nid = self._neurons[(f, n)] = len(self._nid_type)
            self._count.append(0)
            table = self._tables.get(f)
            if table is None:
                ntype = self.registry.get(f) if f in self.registry and f != SELF_TYPE else None
                table = self._tables[f] = TypeTable(f, *((ntype.outputs, ntype.mirror) if ntype else ()))
            self._nid_type.append(table)
            self._place.append(len(table.names))
            table.local[n] = len(table.names)
            table.names.append(n)
            table.nids.append(nid)
            for o in table.declared:
                self._intern_out((f, n, o))
        return nid

    def _intern_in(self, port: Port) -> int:
        p = self._rows.index.get(port)
        if p is None:
            p, table = self._intern(port, self._rows, True)
            self._row_count.append(0)
            table.version += 1
            if table.mirror:
                self._intern_out(port)
        return p

    def _intern_out(self, port: Port) -> int:
        p = self._cols.index.get(port)
        return self._intern(port, self._cols, False)[0] if p is None else p

    def _intern(self, port: Port, ports: Ports, is_input: bool) -> tuple[int, TypeTable]:
        """A new row (input port) or column (output port), placed in its type's table."""
        f, n, name = port
        nid = self._neuron(f, n)
        p = ports.index[port] = len(ports.keys)
        ports.keys.append(port)
        ports.nid.append(nid)
        table = self._nid_type[nid]
        by_name = table.inputs if is_input else table.outputs
        places = by_name.get(name)
        if places is None:
            places = by_name[name] = Grow(-1)
        places.put(table.local[n], p)
        return p, table

    def _counted(self, rows: list[int], cols: list[int], signs: list[int]) -> None:
        """Count entries added (sign 1) or removed (-1) into the entries per
        neuron and per row, O(k); a neuron that vanishes or comes back toggles
        in its type's plan (or the type gets a new plan)."""
        count, row_count = self._count.view(), self._row_count.view()
        row_nid, col_nid = self._rows.nid.view(), self._cols.nid.view()
        was_n: dict[int, bool] = {}  # before the change, for the neurons and rows it touches
        was_r: dict[int, bool] = {}
        for r, c, s in zip(rows, cols, signs, strict=True):
            for nid in (int(row_nid[r]), int(col_nid[c])):
                was_n.setdefault(nid, bool(count[nid] > 0))
                count[nid] += s
            was_r.setdefault(r, bool(row_count[r] > 0))
            row_count[r] += s
        flipped = {nid for nid, was in was_n.items() if (count[nid] > 0) != was}
        by_nid: dict[int, list[tuple[str, int]]] = {}  # the rows whose entries came or went
        for r, was in was_r.items():
            if (row_count[r] > 0) != was:
                by_nid.setdefault(int(row_nid[r]), []).append((self._rows.keys[r][2], r))
        for nid in flipped | set(by_nid):
            table = self._nid_type[nid]
            plan = table.plan[1] if table.plan is not None and table.plan[0] == table.version else None
            if plan is None or nid not in flipped or not plan.toggle(
                int(self._place.view()[nid]), bool(count[nid] > 0), by_nid.get(nid, [])
            ):
                table.version += 1

    # ================================================================ the step
    def step(self) -> None:
        gains = self.field_gains()
        self.advance(self.effective_params(gains), gains)

    def advance(self, params: Params, gains: FieldGains | None, registry: Registry | None = None) -> None:
        """One step with these params and gains (Self unmodulated); ``t += 1``."""
        if self.problem:
            raise RuntimeError(f"the compiled engine cannot run this network: {self.problem}")
        if not self._A.nnz:
            raise NetworkHalted(self.t)
        registry = self.registry if registry is None else registry
        t = self.t + 1
        n_out = len(self._cols.keys)
        y = self._y
        if y.n < n_out:
            y = Column(torch.cat([y.num, y.num.new_zeros(n_out - y.n)]), y.tensors, y.rest)
        if gains is not None and gains.outputs:
            y = y.scaled(self._gains(gains.outputs, self._cols))
        x = self._down(y)
        if gains is not None and gains.inputs:
            x = x.scaled(self._gains(gains.inputs, self._rows))
        outputs: list[tuple[Index, Any, Column]] = []
        if len(self._stepping) != len(self._tables) - (SELF_TYPE in self._tables):
            self._stepping = [tb for tb in self._tables.values() if tb.type_id != SELF_TYPE]
        for table in self._stepping:
            plan = table.plan[1] if table.plan is not None and table.plan[0] == table.version else None
            plan = plan or self._plan(table)
            if len(plan.dormant) == len(plan.local):
                continue
            try:
                ntype = registry.get(table.type_id)
            except RegistryError as e:
                raise StepError(t, str(e), (table.type_id, plan.names[0])) from None
            result = None
            if ntype.batched is not None:
                batch = self._batch(plan, x)
                table_p = plan.params(ntype.params, params.get(ntype.id) or NO_PARAMS, self.device)
                try:
                    result = ntype.batched(batch, table_p)
                except Exception:  # found again, and named, instance by instance
                    result = None
            if result is None:  # the active instances alone, one by one
                if plan.dormant:
                    table.version += 1
                    plan = self._plan(table)
                batch = self._batch(plan, x)
                result = self._one_by_one(plan, batch, params, registry, t)
            elif plan.dormant:
                result = {o: col.zeroed(plan.dormant_rows(self.device)) for o, col in result.items()}
            for o, col in result.items():
                if o in plan.outputs:
                    outputs.append((plan.outputs[o], plan.out_ports[o], col))
                else:  # an output not declared: ports for the instances that emit it
                    rows = [r for r, v in enumerate(col.values()) if v]
                    if rows:
                        ports = [self._intern_out((ntype.id, plan.names[r], o)) for r in rows]
                        sub = col.take(torch.tensor(rows, device=self.device))
                        outputs.append((torch.tensor(ports, device=self.device), ports, sub))
        d = self._rows.index.get(DELTA_PORT)
        delta = x.value(d) if d is not None else {}
        self._y = self._assemble(outputs)  # everything computed: commit
        self.t = t
        if delta:
            self._apply_delta(delta)

    def _batch(self, plan: Plan, x: Column) -> Batch:
        return Batch(len(plan.local), {i: x.take(idx) for i, idx in plan.inputs.items()}, self.device)

    def _gains(self, gains: Mapping[NeuronId, float], ports: Ports) -> torch.Tensor:
        g = np.ones(len(self._nid_type))
        for nid, k in gains.items():
            if nid in self._neurons:
                g[self._neurons[nid]] = k
        return torch.from_numpy(g[ports.nid.view()]).to(self.device)

    def _plan(self, table: TypeTable) -> Plan:
        """The table's active instances and the index arrays of their inputs
        and outputs (numpy, rebuilt only when the table's version changes)."""
        if table.plan is not None and table.plan[0] == table.version:
            return table.plan[1]
        local = np.flatnonzero(self._count.view()[table.nids.view()] > 0)
        row_count = self._row_count.view()
        inputs: dict[str, Index] = {}
        in_rows: dict[str, np.ndarray] = {}
        for i, places in table.inputs.items():
            rows = places.at(local)
            rows = np.where((rows >= 0) & (row_count[np.maximum(rows, 0)] > 0), rows, -1)
            if (rows >= 0).any():
                inputs[i], in_rows[i] = port_index(rows, self.device), rows
        outputs: dict[str, Index] = {}
        out_ports: dict[str, np.ndarray] = {}
        for o, places in table.outputs.items():
            ports = places.at(local)
            if (ports >= 0).all():
                outputs[o] = port_index(ports, self.device)
                out_ports[o] = ports
        plan = Plan(table.type_id, local, inputs, outputs, out_ports, table.names, in_rows)
        table.plan = (table.version, plan)
        return plan

    def _one_by_one(
        self, plan: Plan, x: Batch, params: Params, registry: Registry, t: int
    ) -> dict[str, Column]:
        """A type instance by instance, by the reference's own up movement."""
        f, names = plan.type_id, plan.names
        values = {i: col.values() for i, col in x.columns.items()}
        has = {i: None if isinstance(idx, slice) else (idx >= 0).tolist() for i, idx in plan.inputs.items()}
        xs = {
            n: {i: vs[r] for i, vs in values.items() if has[i] is None or has[i][r]}
            for r, n in enumerate(names)
        }
        y = up_movement([(f, n) for n in names], {f: xs}, params, registry, t).get(f, {})
        outs = {o for v in y.values() for o in v}
        return {o: Column.from_values([y.get(n, {}).get(o) for n in names], self.device) for o in outs}

    def _assemble(self, outputs: list[tuple[Index, Any, Column]]) -> Column:
        """The new y from the output columns at their ports."""
        n = len(self._cols.keys)
        if len(outputs) == 1 and isinstance(outputs[0][0], slice) and outputs[0][0].step == 1:
            idx, _, col = outputs[0]  # one run of ports: one op
            if not col.tensors and not col.rest:
                return Column(torch.constant_pad_nd(col.num, (idx.start, n - idx.stop)))
        num = torch.zeros(n, dtype=torch.float64, device=self.device)
        pieces: dict[Kind, list[tuple[torch.Tensor, torch.Tensor]]] = {}
        rest: dict[int, Any] = {}
        for idx, ports, col in outputs:
            num[idx] = col.num
            for kind, (rows, data) in col.tensors.items():
                at = rows * idx.step + idx.start if isinstance(idx, slice) else idx[rows]
                pieces.setdefault(kind, []).append((at, data))
            for r, v in col.rest.items():
                rest[int(ports[r])] = v
        tens = {  # one piece (the usual case): no copy
            k: ps[0] if len(ps) == 1 else (torch.cat([p for p, _ in ps]), torch.cat([d for _, d in ps]))
            for k, ps in pieces.items()
        }
        return Column(num, tens, rest)

    # ---------------------------------------------------------------- down movement
    def _down(self, y: Column) -> Column:
        A = self._A
        if A.n_rows != len(self._rows.keys) or A.n_cols != len(self._cols.keys):
            A.resize(len(self._rows.keys), len(self._cols.keys))
        x = Column(A.matvec(y.num))
        if y.tensors:
            x.tensors = self._down_tensors(y)
        if y.rest:  # the children, along the columns that hold any
            for r, c, w in A.entries_in(list(y.rest)):
                s = vv._add(x.rest.get(r), y.rest[c] if w == 1 else vv._scale(w, y.rest[c]))
                if s is None:
                    x.rest.pop(r, None)
                else:
                    x.rest[r] = s
        return x

    def _down_tensors(self, y: Column) -> Rows:
        """One sparse product per tensor kind (the columns of A that hold it)."""
        out: Rows = {}
        for kind, (ports, data) in y.tensors.items():
            key = (self._A.stamp, self._A.n_rows, tuple(ports.tolist()))
            cached = self._kind_cache.get(kind)
            if cached is None or cached[0] != key:
                cached = self._kind_cache[kind] = (key, self._A.block(ports, kind[1]))
            rows, block = cached[1]
            if block is None:
                raise Uncovered(f"a sum of {kind[1]} tensors")
            if rows.numel():
                prod = block @ data.reshape(data.shape[0], -1)
                out[kind] = (rows, prod.reshape((rows.shape[0], *kind[0])))
        if len(out) > 1:
            rows = torch.cat([r for r, _ in out.values()])
            if torch.unique(rows).numel() < rows.numel():
                raise Uncovered("tensors of two kinds reach one input")
        return out

    # ---------------------------------------------------------------- Self: W += delta
    def edit_matrix(self, delta: Mapping[str, Any]) -> None:
        """``W_t += delta`` between steps, through the same path as Self's delta
        (one that is not regular sets ``problem``: the engine then refuses to step)."""
        delta = vv.canon(delta)
        if delta:
            self._apply_delta(delta)

    def _apply_delta(self, delta: vv.VValue) -> None:
        """W += delta: weights in place, new entries patched, the nested W
        copied on write. A delta that is not regular sets ``problem``."""
        edits = regular_wires(delta)
        if edits is None:
            self._w = vv.add(self.matrix(), delta)
            self._w_shared, self._owned = False, None
            self.problem = "Self's delta has entries that are not six labels to a number"
            return
        n = len(edits)
        rows, cols, dw = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n)
        touches_self = False
        for k, (to, frm, x) in enumerate(edits):
            rows[k], cols[k], dw[k] = self._intern_in(to), self._intern_out(frm), x
            touches_self = touches_self or to == ACCUM_PORT or frm == M_PORT
        self._A.resize(len(self._rows.keys), len(self._cols.keys))
        old, new = self._A.add(keys_of(rows, cols), dw)
        self._pending.append(edits)  # the nested W follows when read (matrix())
        sign = (new != 0).astype(np.int64) - (old != 0)
        flip = np.flatnonzero(sign)
        self._counted(rows[flip].tolist(), cols[flip].tolist(), sign[flip].tolist())
        if touches_self:
            m = self._cols.index[M_PORT]
            self.problem = self_problem(self.matrix(), self.registry, len(self._A.entries_in([m])))

    def _flush(self) -> None:
        """The edits since W was last read, into the nested W, copied on write."""
        if self._w_shared:  # someone holds W: copy-on-write from the top
            self._w = dict(self._w)
            self._w_shared = False
            self._owned = {id(self._w)}
        # the dicts copied since the last handout are ours, the others (those no
        # delta has touched since) still the caller's: copied on write
        for edits in self._pending:
            for to, frm, dw in edits:
                self._edit(to + frm, dw)
        self._pending = []

    def _edit(self, path: tuple[str, ...], dw: float) -> None:
        """One weight of the nested W."""
        fresh = self._owned
        nodes = [self._w]
        node = self._w
        for k in path[:5]:
            child = node.get(k)
            if child is None:
                child = node[k] = {}
                if fresh is not None:
                    fresh.add(id(child))
            elif fresh is not None and id(child) not in fresh:
                child = node[k] = dict(child)
                fresh.add(id(child))
            node = child
            nodes.append(node)
        old = node.get(path[5], 0)
        new = old + dw
        if new == 0:
            node.pop(path[5], None)
            for depth in range(5, 0, -1):  # prune dicts left empty
                if nodes[depth]:
                    break
                del nodes[depth - 1][path[depth - 1]]
        else:
            node[path[5]] = new

    # ================================================================ reading
    def matrix(self) -> vv.VValue:
        """W as a V-value, handed out, not copied: from now on Self's edits
        copy the dicts along the paths they change."""
        if self._pending:
            self._flush()
        self._w_shared = True
        return self._w

    def state(self) -> State:
        out: State = {}
        keys = self._cols.keys
        for p, v in enumerate(self._y.values()):
            if v:
                f, n, o = keys[p]
                out.setdefault(f, {}).setdefault(n, {})[o] = self._export(v)
        if self._A.nnz:
            out.setdefault(SELF_TYPE, {}).setdefault(SELF_NAME, {})[MATRIX_OUTPUT] = self.matrix()
        return out

    def _export(self, v: vv.VValue) -> vv.VValue:
        t = v.get(TENSOR)
        return v if t is None or t.device.type == "cpu" else {**v, TENSOR: t.cpu()}

    def output(self, type: str, name: str, output: str) -> vv.VValue:
        if (type, name, output) == M_PORT:
            return self.matrix()
        p = self._cols.index.get((type, name, output))
        return {} if p is None or p >= self._y.n else self._export(self._y.value(p))

    def active(self) -> list[NeuronId]:
        keys = list(self._neurons)
        return [keys[k] for k in np.flatnonzero(self._count.view() > 0).tolist()]

    def footprint(self) -> tuple[int, int]:
        y = self._y
        nbytes = self._A.nnz * BYTES_PER_WEIGHT + int(y.num.numel()) * BYTES_PER_LEAF
        nbytes += sum(data.numel() * data.element_size() for _, data in y.tensors.values())
        for v in y.rest.values():
            leaves, tb = leaves_and_bytes(v)
            nbytes += leaves * BYTES_PER_LEAF + tb
        return self._A.nnz, nbytes

    def all_finite(self) -> bool | None:
        """One isfinite per part of y_t (the dicts of its children are walked);
        W's own dict is not: it changes only by outputs, which are looked at."""
        y = self._y
        # a sum is finite only if every term is (~3 us for 10k numbers; isfinite
        # over them ~30 us); when it is not, isfinite tells an overflow from a NaN
        if not math.isfinite(y.num.sum().item()) and not bool(torch.isfinite(y.num).all()):
            return False
        if any(_tensor_non_finite(data) is not None for _, data in y.tensors.values()):
            return False
        return all(first_non_finite(v) is None for v in y.rest.values())

    def stats(self) -> dict[str, int]:
        return {"t": self.t, "active": int(np.count_nonzero(self._count.view())), "nonzeros": self._A.nnz}
