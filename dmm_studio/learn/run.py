"""The differentiable run: SPEC §3's two-stroke step in torch, with autograd.

A network is compiled once (:class:`DiffNet`): its neurons, the input ports
(rows of W) and output ports (columns), every V-value as a float64 vector
over a fixed *basis* (index 0 the scalar, 1.. one level of labels: see
``kernels.py``), the entries of W as one vector of weights (the trainable
ones a ``torch.nn.Parameter``), the numeric params per type as columns (the
trainable ones parameters too), the fields as :class:`TorchFields`.

One step, for ``E`` episodes side by side:

* down movement: ``x[e, r] = sum_k w_k * y[e, col_k]`` over the entries ``k``
  of row ``r``: one matmul with W made dense when it is small beside its
  entries, else a gather and an ``index_add`` (O(entries * B), sparse in W);
  with the fields' output and input gains;
* up movement: one call per neuron type of its differentiable kernel for
  every active instance (``NeuronType.differentiable``);
* fed ports (a task's input streams) take the stream's value.

W is held fixed during the run: Self's delta is refused (a network that
writes into its own matrix cannot be trained here), and so is a neuron that
reads the matrix. The active neurons are those with an entry in W, as in
the engines. With no gradient asked for, the run computes what the engines
compute (``tests/learn/test_run.py`` compares traces with the reference).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .. import vvalue as vv
from ..matrix import MATRIX_OUTPUT, SELF_NAME, SELF_TYPE, NeuronId, Port, matrix_wires
from ..network import Network
from ..registry import Registry, default_registry
from .kernels import Context
from .modulation import TorchFields

NUMBER = vv.NUMBER
DENSE_CELLS = 1 << 16  # W runs as a dense matrix up to this many cells (or 4 per entry)


class DiffError(ValueError):
    """A network (or a part of it) the differentiable run cannot hold; one line."""


def port_key(port: Port) -> str:
    return "/".join(port)


def labels_of(v: Any, where: str) -> list[str]:
    """The labels of a V-value the run can hold (a number, or one level of
    labels to numbers); raises DiffError naming ``where`` otherwise."""
    if vv.is_number(v) and not isinstance(v, bool):
        return []
    if isinstance(v, Mapping):
        out = []
        for k, x in v.items():
            if k == NUMBER and vv.is_number(x):
                continue
            if isinstance(k, str) and not k.startswith(":") and vv.is_number(x) and not isinstance(x, bool):
                out.append(k)
                continue
            if k == vv.TENSOR or vv.is_tensor(x):
                raise DiffError(f"{where}: tensor streams are not differentiable yet")
            raise DiffError(
                f"{where}: the differentiable run holds a number or one level of labels to numbers, "
                f"not {vv.short(v) if hasattr(vv, 'short') else str(v)[:60]}"
            )
        return out
    if vv.is_tensor(v):
        raise DiffError(f"{where}: tensor streams are not differentiable yet")
    raise DiffError(f"{where}: not a V-value the differentiable run can hold ({str(v)[:60]})")


@dataclass
class TypePlan:
    """One type's instances and where their inputs and outputs lie."""

    type_id: str
    kernel: Any
    names: list[str]
    nids: torch.Tensor  # [n] the run's neuron numbers
    inputs: dict[str, torch.Tensor]  # input -> [n] rows (R: none)
    outputs: dict[str, tuple[torch.Tensor, torch.Tensor]]  # output -> (instances, columns)
    params: dict[str, torch.Tensor] = field(default_factory=dict)  # numeric param -> [n] base values
    raw: dict[str, list[Any]] = field(default_factory=dict)
    trainable: dict[str, tuple[torch.Tensor, torch.nn.Parameter]] = field(default_factory=dict)


class DiffNet(torch.nn.Module):
    """A network compiled for the differentiable run (see the module docstring).

    ``fed``: output ports whose values come from streams (their neurons are
    not computed); ``extra_ports``: output ports that must have a column
    (targets); ``labels``: labels the basis must hold beyond those of ``y_0``.
    ``train_weights``: a boolean per entry of ``self.entries`` (None: all);
    ``train_params``: ``(type, name) -> param names``; ``train_fields``:
    field name -> keys. Raises DiffError (one line) for what it cannot hold.
    """

    def __init__(
        self,
        net: Network,
        *,
        registry: Registry | None = None,
        fed: Sequence[Port] = (),
        extra_ports: Sequence[Port] = (),
        labels: Sequence[str] = (),
        train_weights: Any = None,
        train_params: Mapping[NeuronId, Sequence[str]] | None = None,
        train_fields: Mapping[str, Sequence[str]] | None = None,
        surrogate: str = "straight_through",
        temperature: float = 0.1,
        device: str | torch.device = "cpu",
    ) -> None:
        super().__init__()
        self.net = net
        self.registry = registry or net.registry or default_registry()
        self.device = torch.device(device)
        self.surrogate, self.temperature = surrogate, temperature
        fed = [tuple(p) for p in fed]
        fed_neurons = {p[:2] for p in fed}
        # ---- the entries of W
        entries: list[tuple[Port, Port, float]] = []
        for to, frm, x in matrix_wires(net.matrix):
            if to[:2] == (SELF_TYPE, SELF_NAME):
                if to[2] == "accum" and frm == (SELF_TYPE, SELF_NAME, MATRIX_OUTPUT) and x == 1:
                    continue
                raise DiffError(
                    f"W[{port_key(to)}][{port_key(frm)}]: wires into Self edit the matrix while it runs; "
                    "the differentiable run holds W fixed (remove the wire to train)"
                )
            if frm[:2] == (SELF_TYPE, SELF_NAME):
                raise DiffError(
                    f"W[{port_key(to)}][{port_key(frm)}]: a neuron reads the network matrix; "
                    "the differentiable run cannot hold it"
                )
            entries.append((to, frm, float(x)))
        self.entries = [(to, frm) for to, frm, _ in entries]
        # ---- neurons, ports
        self.neurons: dict[NeuronId, int] = {}
        rows: dict[Port, int] = {}
        cols: dict[Port, int] = {}

        def neuron(nid: NeuronId) -> int:
            k = self.neurons.get(nid)
            if k is None:
                k = self.neurons[nid] = len(self.neurons)
                if nid[0] not in self.registry:
                    raise DiffError(f"neuron {port_key(nid)}: unknown neuron type {nid[0]!r}")
                ntype = self.registry.get(nid[0])
                if nid not in fed_neurons and not ntype.variadic_outputs:
                    for o in ntype.outputs:
                        cols.setdefault((*nid, o), len(cols))
            return k

        for to, frm, _ in entries:
            neuron(to[:2])
            neuron(frm[:2])
            rows.setdefault(to, len(rows))
            cols.setdefault(frm, len(cols))
        for to in list(rows):
            if to[:2] not in fed_neurons and self.registry.get(to[0]).mirror:
                cols.setdefault(to, len(cols))
        self.active = set(self.neurons)
        for p in [*fed, *extra_ports]:
            neuron(p[:2])
            cols.setdefault(p, len(cols))
        self.rows, self.cols = list(rows), list(cols)
        self.row_index, self.col_index = rows, cols
        self.fed = fed
        # ---- the basis
        basis: dict[str, None] = {NUMBER: None}
        y0: dict[int, Any] = {}
        for (f, n, o), c in cols.items():
            v = net.outputs.get(f, {}).get(n, {}).get(o)
            if v and (f, n) in self.active:
                for k in labels_of(v, f"outputs/{f}/{n}/{o}"):
                    basis[k] = None
                y0[c] = v
        for k in labels:
            basis[k] = None
        # dict params of constants (and any V-valued param) join the basis
        for (f, n) in self.active:
            for pname, pv in (net.params.get(f, {}).get(n, {}) or {}).items():
                if isinstance(pv, dict):
                    for k in labels_of(pv, f"params/{f}/{n}/{pname}"):
                        basis[k] = None
        self.basis = list(basis)
        self.basis_index = {k: i for i, k in enumerate(self.basis)}
        B = len(self.basis)
        self.B = B
        self.y0 = torch.zeros(len(self.cols), B, dtype=torch.float64, device=self.device)
        for c, v in y0.items():
            self.y0[c] = self.vector(v)
        # ---- W's entries as tensors
        self.entry_rows = torch.tensor([rows[to] for to, _ in self.entries], dtype=torch.long, device=self.device)
        self.entry_cols = torch.tensor([cols[frm] for _, frm in self.entries], dtype=torch.long, device=self.device)
        values = torch.tensor([x for _, _, x in entries], dtype=torch.float64, device=self.device)
        mask = (
            torch.ones(len(entries), dtype=torch.bool)
            if train_weights is None
            else torch.as_tensor(np.asarray(train_weights, dtype=bool).reshape(-1))
        ).to(self.device)
        self.register_buffer("w_fixed", values.clone())
        self.train_mask = mask  # entries that train (pruned ones leave it)
        self.alive = torch.ones(len(entries), dtype=torch.bool, device=self.device)  # not pruned
        self.w = torch.nn.Parameter(values.clone())
        # ---- per-type plans
        self.plans: list[TypePlan] = []
        by_type: dict[str, list[NeuronId]] = {}
        for nid in self.neurons:
            if nid in self.active and nid not in fed_neurons:
                by_type.setdefault(nid[0], []).append(nid)
        train_params = dict(train_params or {})
        self.param_modules = torch.nn.ParameterList()
        for f, nids in by_type.items():
            ntype = self.registry.get(f)
            if ntype.differentiable is None:
                raise DiffError(
                    f"neuron {port_key(nids[0])}: type {f!r} has no differentiable kernel "
                    "(see dmm_studio/learn/kernels.py)"
                )
            names = [n for _, n in nids]
            in_names: dict[str, None] = dict.fromkeys(ntype.inputs)
            for to in rows:
                if to[0] == f and to[:2] in self.active:
                    in_names[to[2]] = None
            inputs = {}
            for i in in_names:
                idx = [rows.get((f, n, i), len(rows)) for n in names]
                inputs[i] = torch.tensor(idx, dtype=torch.long, device=self.device)
            out_names: dict[str, None] = dict.fromkeys(ntype.outputs)
            if ntype.mirror:
                out_names.update(dict.fromkeys(in_names))
            for p in cols:
                if p[0] == f:
                    out_names[p[2]] = None
            outputs = {}
            for o in out_names:
                sel = [(k, cols[(f, n, o)]) for k, n in enumerate(names) if (f, n, o) in cols]
                if sel:
                    outputs[o] = (
                        torch.tensor([k for k, _ in sel], dtype=torch.long, device=self.device),
                        torch.tensor([c for _, c in sel], dtype=torch.long, device=self.device),
                    )
            plan = TypePlan(
                f, ntype.differentiable, names,
                torch.tensor([self.neurons[nid] for nid in nids], dtype=torch.long, device=self.device),
                inputs, outputs,
            )
            for pname, default in ntype.params.items():
                vals = [net.params.get(f, {}).get(n, {}).get(pname, default) for n in names]
                plan.raw[pname] = vals
                if all(vv.is_number(v) and not isinstance(v, bool) for v in vals):
                    plan.params[pname] = torch.tensor(
                        [float(v) for v in vals], dtype=torch.float64, device=self.device
                    )
            for k, n in enumerate(names):
                for pname in train_params.get((f, n), ()):
                    if pname not in plan.params:
                        raise DiffError(f"params/{f}/{n}/{pname}: not a numeric param of type {f!r}")
            for pname in plan.params:
                ks = [k for k, n in enumerate(names) if pname in train_params.get((f, n), ())]
                if ks:
                    idx = torch.tensor(ks, dtype=torch.long, device=self.device)
                    param = torch.nn.Parameter(plan.params[pname][idx].clone())
                    self.param_modules.append(param)
                    plan.trainable[pname] = (idx, param)
            self.plans.append(plan)
        for nid in train_params:
            if nid not in self.active or nid in fed_neurons:
                raise DiffError(f"params/{port_key(nid)}: not an active neuron of the run (no wire in W)")
        # ---- fields
        order = list(self.neurons)
        self.fields = (
            TorchFields(net.fields, net.layout, order, train_fields or {}, self.device) if net.fields else None
        )
        if self.fields is not None and not self.fields.entries:
            self.fields = None
        if self.fields is None and train_fields:
            name = next(iter(train_fields))
            raise DiffError(f"fields: no enabled field {name!r} covers a neuron of the run")
        self.row_nid = torch.tensor([self.neurons[p[:2]] for p in self.rows], dtype=torch.long, device=self.device)
        self.col_nid = torch.tensor([self.neurons[p[:2]] for p in self.cols], dtype=torch.long, device=self.device)
        self.fed_cols = torch.tensor([cols[p] for p in fed], dtype=torch.long, device=self.device)

    # ------------------------------------------------------------ values
    def vector(self, v: Any) -> torch.Tensor:
        """A V-value (a number or one level of labels) as a ``[B]`` float64 tensor."""
        out = torch.zeros(self.B, dtype=torch.float64, device=self.device)
        if vv.is_number(v):
            out[0] = float(v)
            return out
        for k, x in (v or {}).items():
            i = self.basis_index.get(k)
            if i is None:
                raise DiffError(f"label {k!r} is not in the run's basis")
            out[i] = float(x)
        return out

    def value(self, vec: Sequence[float]) -> vv.VValue:
        """A ``[B]`` row back as a canonical V-value (``{}`` for zero)."""
        out: dict[str, Any] = {}
        for k, x in zip(self.basis, vec, strict=True):
            if x != 0:
                out[k] = float(x)
        return out

    def weights(self) -> torch.Tensor:
        """The entries of W in force: the trained ones from the parameter, the
        others fixed, pruned ones 0."""
        w = torch.where(self.train_mask, self.w, self.w_fixed)
        return torch.where(self.alive, w, torch.zeros_like(w))

    # ------------------------------------------------------------ the run
    def run(
        self,
        steps: int,
        episodes: int = 1,
        feeds: torch.Tensor | None = None,
        y: torch.Tensor | None = None,
        t0: int = 0,
    ) -> Iterator[tuple[int, torch.Tensor]]:
        """Yield ``(t, y_t)`` for ``t = t0+1 .. t0+steps``; ``y_t`` is float64
        ``[E, C, B]`` over ``self.cols``. ``feeds``: ``[E, T, F, B]``, the fed
        ports' values by step (``T >= t0 + steps``); ``y``: the state to start
        from (default ``y_0``)."""
        E, B = episodes, self.B
        R = len(self.rows)
        if y is None:
            y = self.y0.unsqueeze(0).expand(E, -1, -1)
        w = self.weights()
        er, ec = self.entry_rows, self.entry_cols
        dtype, dev = torch.float64, self.device
        C = len(self.cols)
        # W as a dense [R+1, C] matrix when that is small beside the entries
        # (one matmul a step); else a gather and an index_add over the entries
        dense = None
        if len(er) and (R + 1) * C <= max(DENSE_CELLS, 4 * len(er)):
            dense = torch.zeros(R + 1, C, dtype=dtype, device=dev).index_put((er, ec), w, accumulate=True)
        for t in range(t0 + 1, t0 + steps + 1):
            gains = self.fields.gains(t - 1, self._reader(y), E) if self.fields is not None else {}
            yr = y
            g_out = gains.get("outputs")
            if g_out is not None:
                yr = y * g_out[:, self.col_nid].unsqueeze(-1)
            if dense is not None:
                x = torch.matmul(dense, yr)
            else:
                x = torch.zeros(E, R + 1, B, dtype=dtype, device=dev)
                if len(er):
                    x = x.index_add(1, er, w.view(1, -1, 1) * yr[:, ec])
            g_in = gains.get("inputs")
            if g_in is not None:
                x = torch.cat([x[:, :R] * g_in[:, self.row_nid].unsqueeze(-1), x[:, R:]], dim=1)
            cols: list[torch.Tensor] = []
            vals: list[torch.Tensor] = []
            for plan in self.plans:
                n = len(plan.names)
                xs = {i: x[:, idx] for i, idx in plan.inputs.items()}
                ps = {}
                for pname, base in plan.params.items():
                    col = base
                    tr = plan.trainable.get(pname)
                    if tr is not None:
                        col = col.index_put((tr[0],), tr[1])
                    col = col.unsqueeze(0).expand(E, n)
                    g = gains.get(f"param:{pname}")
                    if g is not None:
                        col = col * g[:, plan.nids]
                    ps[pname] = col
                ctx = Context(
                    self.basis, self.surrogate, self.temperature, t, plan.names,
                    plan.raw.__getitem__, self.vector, torch.zeros(E, n, B, dtype=dtype, device=dev),
                )
                outs = plan.kernel(xs, ps, ctx)
                for o, (sel, c) in plan.outputs.items():
                    v = outs.get(o)
                    if v is not None:
                        cols.append(c)
                        vals.append(v[:, sel])
            if len(self.fed):
                assert feeds is not None
                cols.append(self.fed_cols)
                vals.append(feeds[:, t - 1])
            y_new = torch.zeros(E, len(self.cols), B, dtype=dtype, device=dev)
            if cols:
                y_new = y_new.index_copy(1, torch.cat(cols), torch.cat(vals, dim=1))
            y = y_new
            yield t, y

    def forward(self, steps: int, episodes: int = 1, feeds: torch.Tensor | None = None) -> torch.Tensor:
        """``y_1 .. y_steps`` stacked: float64 ``[E, steps, C, B]`` (what
        ``torch.func.functional_call`` and gradcheck call)."""
        return torch.stack([y for _, y in self.run(steps, episodes, feeds)], dim=1)

    def _reader(self, y: torch.Tensor) -> Any:
        def read(key: str, output: str) -> torch.Tensor | None:
            f, n = key.split("/", 1)
            c = self.col_index.get((f, n, output))
            return None if c is None else y[:, c, 0]

        return read

    def state(self, y: torch.Tensor, episode: int = 0) -> dict[str, Any]:
        """``y_t`` of one episode as nested dicts (Self's matrix left out)."""
        out: dict[str, Any] = {}
        rows = y[episode].detach().cpu().tolist()
        for (f, n, o), row in zip(self.cols, rows, strict=True):
            v = self.value(row)
            if v:
                out.setdefault(f, {}).setdefault(n, {})[o] = v
        return out

    # ------------------------------------------------------------ results
    def network(self) -> Network:
        """The network with the current weights (pruned entries removed),
        params and fields; everything else as it was."""
        net = self.net.copy()
        w = self.weights().detach().cpu().tolist()
        changes = []
        for (to, frm), x in zip(self.entries, w, strict=True):
            changes.append((to, frm, float(x)))
        net.set_weights(changes)
        for plan in self.plans:
            for pname, (idx, param) in plan.trainable.items():
                for k, value in zip(idx.tolist(), param.detach().cpu().tolist(), strict=True):
                    net.set_param(plan.type_id, plan.names[k], pname, float(value))
        if self.fields is not None and len(self.fields.values):
            fields = [dict(e) for e in net.fields]
            import copy

            fields = copy.deepcopy(net.fields)
            by_name = {e["name"]: e for e in fields}
            for entry, key, value in self.fields.current():
                target = by_name[entry["name"]]
                parts = key.split(".")
                node: Any = target
                for p in parts[:-1]:
                    node = node[int(p)] if isinstance(node, list) else node[p]
                node[parts[-1]] = value
            net.fields = fields
        return net

    def links(self) -> int:
        """Non-zero trainable weights left."""
        return int(((self.weights() != 0) & self.train_mask).sum())

    def prune(self, threshold: float) -> int:
        """Trainable weights with ``|w| < threshold`` become 0 and stop
        training; returns how many were pruned now."""
        with torch.no_grad():
            hit = self.train_mask & self.alive & (self.w.abs() < threshold)
            k = int(hit.sum())
            if k:
                self.alive &= ~hit
                self.w[hit] = 0.0
        return k
