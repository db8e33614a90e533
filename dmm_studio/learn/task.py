"""Training tasks (``*.train.json``): what to feed, what to match, how to train.

A task is data, checked against the JSON Schema
``dmm_studio/schema/train.schema.json`` (jsonschema), then against the
network it trains (``TrainTask.check``): every fed or target port names a
neuron the network has and an output its type has; every stream of an
episode has the episode's length; trainable neurons, wires and fields exist.
Every fault is a :class:`TaskError`: one line naming the file, the JSON path
and what is wrong. The format is documented in docs/learning.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..jsonio import FileProblem, NetworkFileError, parse_json, read_text
from ..matrix import NeuronId, Port, matrix_wires
from ..network import Network
from ..registry import Registry, default_registry

TRAIN_FORMAT = "dmm-studio-train/1"
SCHEMA_FILE = "train.schema.json"
LOSSES = ("mse", "mae")


class TaskError(FileProblem):
    """A training task that cannot be used: one line naming the file, the
    JSON path where it applies, and what is wrong."""


def schema() -> dict[str, Any]:
    """The task file's JSON Schema (package data of ``dmm_studio.schema``)."""
    from ..schema import read_schema

    return read_schema("dmm_studio.schema", SCHEMA_FILE)


def _schema_problem(data: Any) -> tuple[str, tuple[Any, ...]] | None:
    from ..schema import plain_problem

    return plain_problem(schema(), data)


@dataclass
class TrainTask:
    """A training task (see the module docstring and docs/learning.md).

    ``episodes``: ``[{"inputs": {port: [value per step]}, "targets": {...}}]``
    with ports ``"type/name/output"``; values are numbers, ``{label: number}``
    or None (an input of nothing; a target not scored). ``steps`` training
    steps, each one pass over every episode (run side by side)."""

    episodes: list[dict[str, Any]]
    loss: str = "mse"
    l1: float = 0.0
    l2: float = 0.0
    optimizer: str = "Adam"
    lr: float = 0.01
    optimizer_options: dict[str, Any] = field(default_factory=dict)
    steps: int = 100
    truncation: int | None = None
    clip: float | None = None
    seed: int | None = None
    trainable: dict[str, Any] = field(default_factory=dict)
    surrogate: str = "straight_through"
    temperature: float = 0.1
    prune_threshold: float | None = None
    prune_every: int | None = None
    prune_start: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    source: str = "<task>"
    data: dict[str, Any] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------ reading
    @classmethod
    def load(cls, path: str | Path) -> TrainTask:
        """Read and check a ``*.train.json``; raises TaskError (one line)."""
        p = Path(path)
        try:
            data = parse_json(read_text(p, "training task"), str(p))
        except NetworkFileError as e:
            raise TaskError(str(p), e.reason if hasattr(e, "reason") else str(e)) from None
        return cls.from_dict(data, source=str(p))

    @classmethod
    def from_dict(cls, data: Any, source: str = "<task>") -> TrainTask:
        """A task from parsed JSON; raises TaskError (one line)."""
        problem = _schema_problem(data)
        if problem is not None:
            raise TaskError(source, problem[0], problem[1])
        bad = _non_finite(data)
        if bad is not None:
            raise TaskError(source, f"{bad[1]} is not a finite number", bad[0])
        length = None
        for e_i, ep in enumerate(data["episodes"]):
            if not ep.get("targets"):
                raise TaskError(source, "an episode needs at least one target stream", ("episodes", e_i, "targets"))
            for part in ("inputs", "targets"):
                for port, stream in (ep.get(part) or {}).items():
                    if length is None:
                        length = len(stream)
                    elif len(stream) != length:
                        raise TaskError(
                            source,
                            f"a stream of {len(stream)} values; every stream of every episode has "
                            f"{length} (the first one's length)",
                            ("episodes", e_i, part, port),
                        )
        opt = data.get("optimizer", {})
        reg = data.get("regularization", {})
        le = data.get("less_or_equal", {})
        prune = data.get("prune") or {}
        return cls(
            episodes=data["episodes"],
            loss=data.get("loss", "mse"),
            l1=float(reg.get("l1", 0.0)),
            l2=float(reg.get("l2", 0.0)),
            optimizer=opt.get("name", "Adam"),
            lr=float(opt.get("lr", 0.01)),
            optimizer_options=dict(opt.get("options", {})),
            steps=int(data.get("steps", 100)),
            truncation=data.get("truncation"),
            clip=data.get("clip"),
            seed=data.get("seed"),
            trainable=dict(data.get("trainable", {})),
            surrogate=le.get("surrogate", "straight_through"),
            temperature=float(le.get("temperature", 0.1)),
            prune_threshold=prune.get("threshold"),
            prune_every=prune.get("every"),
            prune_start=int(prune.get("start", 0)),
            meta=dict(data.get("meta", {})),
            source=source,
            data=data,
        )

    @property
    def length(self) -> int:
        """Network steps per episode (every stream's length)."""
        ep = self.episodes[0]
        return len(next(iter({**(ep.get("inputs") or {}), **ep["targets"]}.values())))

    def fail(self, message: str, *path: Any) -> TaskError:
        return TaskError(self.source, message, tuple(path) or None)

    # ------------------------------------------------------------ against a network
    def ports(self, part: str) -> list[Port]:
        """The ports fed (``"inputs"``) or scored (``"targets"``), in first-seen order."""
        out: dict[Port, None] = {}
        for ep in self.episodes:
            for key in ep.get(part) or {}:
                out[tuple(key.split("/"))] = None  # type: ignore[index]
        return list(out)  # type: ignore[arg-type]

    def check(self, net: Network, registry: Registry | None = None) -> None:
        """Check the task against ``net``; raises TaskError naming the first fault."""
        reg = registry or net.registry or default_registry()
        fed = set(self.ports("inputs"))
        for e_i, ep in enumerate(self.episodes):
            for part in ("inputs", "targets"):
                for key in ep.get(part) or {}:
                    f, n, o = key.split("/")
                    where = ("episodes", e_i, part, key)
                    if not net.has_neuron(f, n):
                        raise self.fail(f"no neuron {f}/{n} in the network", *where)
                    if f not in reg:
                        raise self.fail(f"neuron {f}/{n} has type {f!r}, which is not installed", *where)
                    ntype = reg.get(f)
                    if not ntype.has_output(o) and not (ntype.mirror and o in _inputs_of(net, (f, n))):
                        outs = ", ".join(ntype.outputs) or "none"
                        raise self.fail(f"type {f!r} has no output {o!r} (its outputs: {outs})", *where)
                    if part == "targets" and (f, n, o) in fed:
                        raise self.fail(f"{key} is fed by an input stream; it cannot be a target too", *where)
        tr = self.trainable
        w = tr.get("weights", "all")
        if isinstance(w, dict):
            for i, key in enumerate(w.get("neurons", [])):
                f, n = key.split("/")
                if not net.has_neuron(f, n):
                    raise self.fail(f"no neuron {f}/{n} in the network", "trainable", "weights", "neurons", i)
            for i, wire in enumerate(w.get("wires", [])):
                to, frm = tuple(wire["to"].split("/")), tuple(wire["from"].split("/"))
                if net.weight(to, frm) in (0, None):  # type: ignore[arg-type]
                    raise self.fail(
                        f"no wire {wire['to']} <- {wire['from']} in W (only weights W holds train)",
                        "trainable", "weights", "wires", i,
                    )
        for i, entry in enumerate(tr.get("params", [])):
            if "neuron" not in entry and "type" not in entry:
                raise self.fail("give 'neuron' or 'type'", "trainable", "params", i)
            if "neuron" in entry:
                f, n = entry["neuron"].split("/")
                if not net.has_neuron(f, n):
                    raise self.fail(f"no neuron {f}/{n} in the network", "trainable", "params", i, "neuron")
            f = entry.get("type") or entry["neuron"].split("/")[0]
            if f not in reg:
                raise self.fail(f"unknown neuron type {f!r}", "trainable", "params", i)
            for j, pname in enumerate(entry["names"]):
                default = reg.get(f).params.get(pname)
                if pname not in reg.get(f).params:
                    raise self.fail(f"type {f!r} has no param {pname!r}", "trainable", "params", i, "names", j)
                if not isinstance(default, (int, float)) or isinstance(default, bool):
                    raise self.fail(f"param {pname!r} of {f!r} is not numeric", "trainable", "params", i, "names", j)
        names = {e.get("name"): e for e in net.fields}
        from .modulation import trainable_keys

        for i, entry in enumerate(tr.get("fields", [])):
            fe = names.get(entry["field"])
            if fe is None:
                raise self.fail(f"the network has no field {entry['field']!r}", "trainable", "fields", i, "field")
            keys = trainable_keys(fe)
            for j, k in enumerate(entry["keys"]):
                if k not in keys:
                    raise self.fail(
                        f"field {entry['field']!r} has no trainable key {k!r} (one of {', '.join(keys)})",
                        "trainable", "fields", i, "keys", j,
                    )

    def weight_mask(self, entries: list[tuple[Port, Port]]) -> list[bool] | None:
        """Which entries of W train (None: all)."""
        w = self.trainable.get("weights", "all")
        if w == "all":
            return None
        if w == "none":
            return [False] * len(entries)
        neurons = {tuple(k.split("/")) for k in w.get("neurons", [])}
        wires = {(tuple(x["to"].split("/")), tuple(x["from"].split("/"))) for x in w.get("wires", [])}
        mask = {(to, frm) for to, frm, x in matrix_wires(w.get("mask", {})) if x}
        return [
            to[:2] in neurons or frm[:2] in neurons or (to, frm) in wires or (to, frm) in mask
            for to, frm in entries
        ]

    def param_selection(self, net: Network) -> dict[NeuronId, list[str]]:
        """``(type, name) -> param names`` that train (a type entry: every
        instance of the type in W)."""
        out: dict[NeuronId, list[str]] = {}
        wired = {to[:2] for to, _, _ in matrix_wires(net.matrix)} | {frm[:2] for _, frm, _ in matrix_wires(net.matrix)}
        for entry in self.trainable.get("params", []):
            if "neuron" in entry:
                targets = [tuple(entry["neuron"].split("/"))]
            else:
                targets = [nid for nid in wired if nid[0] == entry["type"]]
            for nid in targets:
                names = out.setdefault(nid, [])  # type: ignore[arg-type]
                names += [p for p in entry["names"] if p not in names]
        return out  # type: ignore[return-value]

    def field_selection(self) -> dict[str, list[str]]:
        return {e["field"]: list(e["keys"]) for e in self.trainable.get("fields", [])}


def _inputs_of(net: Network, nid: NeuronId) -> set[str]:
    return {to[2] for to, _, _ in matrix_wires(net.matrix) if to[:2] == nid}


def _non_finite(data: Any, path: tuple[Any, ...] = ()) -> tuple[tuple[Any, ...], Any] | None:
    if isinstance(data, float) and not math.isfinite(data):
        return path, data
    if isinstance(data, dict):
        for k, v in data.items():
            hit = _non_finite(v, (*path, k))
            if hit:
                return hit
    elif isinstance(data, list):
        for i, v in enumerate(data):
            hit = _non_finite(v, (*path, i))
            if hit:
                return hit
    return None
