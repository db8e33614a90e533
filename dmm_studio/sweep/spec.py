"""Sweep specs (``*.sweep.json``): one network, the axes to vary, how to
sample them and what to collect per run (docs/sweeps.md).

A spec is checked against the JSON Schema ``sweep.schema.json`` (package
data beside this module) with ``jsonschema``, then against its base network
(every axis path and collected output names something the network has).
Every fault is a ``SweepSpecError``: one line naming the spec file and the
JSON path of the first thing wrong.

An axis path addresses a part of the network file:

* ``params/TYPE/NAME/PARAM``: a neuron's param (the type must declare it);
* ``weights/TO_TYPE/TO_NAME/TO_INPUT/FROM_TYPE/FROM_NAME/FROM_OUTPUT``: one
  weight of ``W_0`` (the wire may be new; both neurons must exist);
* ``fields/FIELD/KEY[/KEY...]``: a key of a modulating field, by its name
  (``fields/ripple/strength``, ``fields/ripple/source/wavelength``);
* ``outputs/TYPE/NAME/OUTPUT[/PATH...]``: a number in the initial output
  ``y_0`` (``PATH`` inside its V-value).

``*`` and ``?`` in ``NAME`` match several neurons; a list of paths sets
each to the point's value.

A training sweep names a training task (``"task": "x.train.json"``): each run
trains the point's network on the point's task for ``steps`` training steps
(``dmm_studio.learn.train``), and ``train/KEY[/KEY...]`` paths set keys of the
task's JSON (``train/optimizer/lr``, ``train/regularization/l1``,
``train/truncation``, ``train/seed``, ``train/prune/threshold``,
``train/steps``, which overrides ``steps``).
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..breaks import condition_from_dict
from ..fileformat import load_network, network_from_json, network_to_json
from ..jsonio import FileProblem, NetworkFileError
from ..network import Network
from ..registry import default_registry

SWEEP_FORMAT = "dmm-studio-sweep/1"
SCHEMA_FILE = "sweep.schema.json"
PATH_KINDS = ("params", "weights", "fields", "outputs", "train")
TRAIN_COLUMNS = ("loss", "loss_min", "links", "loss_curve")


class SweepSpecError(FileProblem):
    """A sweep spec that cannot be used; the message is one line naming the
    file and, where it applies, the JSON path."""


def schema() -> dict[str, Any]:
    """The sweep spec's JSON Schema (read once from the package)."""
    from ..schema import read_schema

    return read_schema(__package__, SCHEMA_FILE)


def _sweep_wording(error: Any) -> str | None:
    """What the sweep spec's schema says better than the generic wording."""
    from ..schema import short

    if error.validator == "pattern":
        return f"{short(error.instance)} is not TYPE/NAME/OUTPUT[/PATH...]"
    if error.validator == "oneOf" and error.schema.get("oneOf") == [{"required": ["values"]}, {"required": ["range"]}]:
        return "an axis takes either 'values' or 'range'"
    return None


def _schema_problem(data: Any) -> tuple[str, tuple[Any, ...]] | None:
    from ..schema import plain_problem

    return plain_problem(schema(), data, _sweep_wording)


@dataclass
class Axis:
    """One axis: a name, the network paths it sets, its values or range."""

    name: str
    paths: list[tuple[str, ...]]  # resolved: JSON paths into the network file's data
    values: list[Any] | None = None
    range: dict[str, Any] | None = None

    def grid(self) -> list[Any]:
        if self.values is not None:
            return list(self.values)
        assert self.range is not None
        r = self.range
        lo, hi, num = r["min"], r["max"], r["num"]
        if num == 1:
            pts = [lo]
        elif r.get("log"):
            pts = [math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * i / (num - 1)) for i in range(num)]
        else:
            pts = [lo + (hi - lo) * i / (num - 1) for i in range(num)]
        # 12 significant digits: 150, not 149.99999999999997 from exp(log(150))
        return [round(p) for p in pts] if r.get("integer") else [float(f"{p:.12g}") for p in pts]

    def draw(self, rng: Any) -> Any:
        if self.values is not None:
            return self.values[int(rng.integers(len(self.values)))]
        assert self.range is not None
        r = self.range
        lo, hi = r["min"], r["max"]
        if r.get("integer"):
            return int(rng.integers(math.ceil(lo), math.floor(hi) + 1))
        if r.get("log"):
            return math.exp(rng.uniform(math.log(lo), math.log(hi)))
        return float(rng.uniform(lo, hi))


@dataclass
class SweepSpec:
    """A checked spec. ``points()`` lists the runs: dicts of axis name -> value."""

    source: str
    data: dict[str, Any]
    network_path: Path
    base: dict[str, Any]  # the base network file's data (validated)
    axes: list[Axis]
    steps: int
    engine: str | None = None
    timeout_s: float | None = None
    sampling: dict[str, Any] = field(default_factory=lambda: {"kind": "grid"})
    collect: dict[str, Any] = field(default_factory=dict)
    keep_traces: bool = False
    task_data: dict[str, Any] | None = None  # the training task's JSON (a training sweep)
    task_path: Path | None = None
    tune: dict[str, Any] | None = None

    @property
    def training(self) -> bool:
        return self.task_data is not None

    def points(self) -> list[dict[str, Any]]:
        """Every run's axis values, in a fixed order (the row's ``run`` is the index).

        Grid: the product of the axes' values, the last axis fastest.
        Random: ``samples`` draws from a numpy generator seeded with ``seed``
        (0 when absent), so the same spec always gives the same points."""
        names = [a.name for a in self.axes]
        if self.sampling["kind"] == "grid":
            pts = [
                dict(zip(names, combo, strict=True))
                for combo in itertools.product(*(a.grid() for a in self.axes))
            ]
        else:
            import numpy as np

            rng = np.random.default_rng(self.sampling.get("seed", 0))
            pts = [{a.name: a.draw(rng) for a in self.axes} for _ in range(self.sampling["samples"])]
        repeat = self.sampling.get("repeat", 1)
        return [dict(p) for p in pts for _ in range(repeat)]

    def network_data(self, point: dict[str, Any]) -> dict[str, Any]:
        """The base network file's data with the point's values set."""
        data = copy.deepcopy(self.base)
        for axis in self.axes:
            for path in axis.paths:
                if path[0] != "train":
                    _set_path(data, path, point[axis.name])
        return data

    def train_data(self, point: dict[str, Any]) -> dict[str, Any] | None:
        """The training task's JSON with ``steps`` and the point's ``train/...`` values set
        (None when the spec names no task)."""
        if self.task_data is None:
            return None
        data = copy.deepcopy(self.task_data)
        data["steps"] = self.steps
        for axis in self.axes:
            for path in axis.paths:
                if path[0] == "train":
                    _set_path(data, path[1:], point[axis.name])
        return data

    def network(self, point: dict[str, Any]) -> Network:
        """The network of one point (validated like a network file)."""
        net = network_from_json(self.network_data(point), source=f"{self.network_path} (sweep point)")
        net.source = str(self.network_path)
        return net

    def fingerprint(self) -> str:
        """A hash of the spec and the base network: results in a folder belong to it."""
        text = json.dumps([self.data, self.base], sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    # ---------------------------------------------------------- columns
    def output_columns(self) -> list[str]:
        return [f"out:{o}" for o in self.collect.get("outputs", [])]

    def probe_columns(self) -> list[str]:
        return [f"probe:{p['output']}" for p in self.collect.get("probes", [])]

    def metric_columns(self) -> list[str]:
        return [m["name"] for m in self.collect.get("metrics", [])]

    def columns(self) -> list[str]:
        """The table's header, in order."""
        return [
            "run",
            *(a.name for a in self.axes),
            *self.output_columns(),
            *self.metric_columns(),
            *self.probe_columns(),
            *(TRAIN_COLUMNS if self.training else ()),
            "status",
            "steps",
            "wall_s",
            "error",
            "error_step",
            "error_neuron",
            "break",
        ]


def _set_path(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node: Any = data
    for k in path[:-1]:
        if isinstance(k, int):
            node = node[k]
        else:
            nxt = node.get(k)
            if not isinstance(nxt, (dict, list)):  # a number leaf becomes a V-value with children
                nxt = {":number": nxt} if isinstance(nxt, (int, float)) and nxt else {}
                node[k] = nxt
            node = nxt
    node[path[-1]] = value


# ------------------------------------------------------------------ loading


def load_spec(path: str | Path) -> SweepSpec:
    """Read and check a ``*.sweep.json`` (and its base network).

    Raises SweepSpecError (one line: the spec file, the JSON path, what is
    wrong), or NetworkFileError for a base network that is not a valid file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SweepSpecError(str(p), f"cannot read it: {getattr(e, 'strerror', None) or e}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise SweepSpecError(str(p), f"not JSON: {e.msg} (line {e.lineno}, column {e.colno})") from None
    return spec_from_json(data, source=str(p), folder=p.parent)


def spec_from_json(data: Any, source: str = "<spec>", folder: Path | None = None) -> SweepSpec:
    """A SweepSpec from parsed JSON (see ``load_spec``)."""
    folder = folder or Path.cwd()

    def fail(message: str, *path: Any) -> SweepSpecError:
        return SweepSpecError(source, message, tuple(path) or None)

    problem = _schema_problem(data)
    if problem is not None:
        raise fail(problem[0], *problem[1])
    for i, a in enumerate(data["axes"]):
        numbers = [("values", j, v) for j, v in enumerate(a.get("values", []))]
        numbers += [("range", k, v) for k, v in a.get("range", {}).items() if k in ("min", "max")]
        for *where, v in numbers:
            if isinstance(v, float) and not math.isfinite(v):
                raise fail(f"{v} is not a finite number", "axes", i, *where)
    net_path = folder / data["network"]
    try:
        base_net = load_network(net_path)
    except NetworkFileError:
        if not net_path.exists():
            raise fail(f"the network file {str(net_path)!r} does not exist", "network") from None
        raise
    base = network_to_json(base_net)
    base = json.loads(json.dumps(base))  # plain JSON data, owned here
    task_data: dict[str, Any] | None = None
    task_path: Path | None = None
    if "task" in data:
        task_path = folder / data["task"]
        from ..learn import TaskError, TrainTask

        if not task_path.exists():
            raise fail(f"the training task {str(task_path)!r} does not exist", "task")
        try:
            TrainTask.load(task_path).check(base_net)
        except TaskError as e:
            raise fail(f"the training task does not fit: {e}", "task") from None
        task_data = json.loads(task_path.read_text(encoding="utf-8"))
    elif "tune" in data:
        raise fail("'tune' is for training sweeps: name a training task ('task')", "tune")
    elif "train" in data.get("collect", {}):
        raise fail("collect.train is for training sweeps: name a training task ('task')", "collect", "train")

    sampling = data.get("sampling", {"kind": "grid"})
    axes: list[Axis] = []
    seen: set[str] = set()
    for i, a in enumerate(data["axes"]):
        raw = a["path"] if isinstance(a["path"], list) else [a["path"]]
        name = a.get("name") or raw[0]
        if name in seen:
            raise fail(f"another axis is named {name!r} (give each a 'name')", "axes", i)
        seen.add(name)
        paths: list[tuple[str, ...]] = []
        for j, text in enumerate(raw):
            where = ("axes", i, "path", j) if isinstance(a["path"], list) else ("axes", i, "path")
            if text.split("/")[0] == "train":
                if task_data is None:
                    raise fail(f"{text!r}: a train/ path needs a training task ('task')", *where)
                try:
                    paths.append(_train_path(text, task_data))
                except ValueError as e:
                    raise fail(str(e), *where) from None
                continue
            try:
                paths.extend(resolve_path(base_net, base, text))
            except ValueError as e:
                raise fail(str(e), *where) from None
        r = a.get("range")
        if r is not None:
            if r["max"] < r["min"]:
                raise fail(f"'max' {r['max']} is below 'min' {r['min']}", "axes", i, "range")
            if r.get("log") and r["min"] <= 0:
                raise fail("a log range needs 'min' > 0", "axes", i, "range", "min")
            if sampling["kind"] == "grid" and "num" not in r:
                raise fail("a grid needs 'num' (how many points) in a range", "axes", i, "range")
        axes.append(Axis(name, paths, a.get("values"), r))
    if sampling["kind"] == "random" and "samples" not in sampling:
        raise fail("random sampling needs 'samples' (how many runs)", "sampling")
    if sampling["kind"] == "grid" and ("samples" in sampling or "seed" in sampling):
        key = "samples" if "samples" in sampling else "seed"
        raise fail(f"{key!r} is for random sampling (a grid takes every point)", "sampling", key)

    collect = data.get("collect", {})
    for key in ("outputs",):
        for j, out in enumerate(collect.get(key, [])):
            _check_output(base_net, out, fail, ("collect", key, j))
    for j, pr in enumerate(collect.get("probes", [])):
        _check_output(base_net, pr["output"], fail, ("collect", "probes", j, "output"))
    names = {a.name for a in axes}
    for j, m in enumerate(collect.get("metrics", [])):
        if m["name"] in names or m["name"] in ("run", "status", "steps", "wall_s", "error", *TRAIN_COLUMNS):
            raise fail(f"the metric name {m['name']!r} is taken by another column", "collect", "metrics", j)
        names.add(m["name"])
        _check_output(
            base_net, m["of"], fail, ("collect", "metrics", j, "of"), group=m["kind"] == "synchrony"
        )
    for j, b in enumerate(collect.get("breaks", [])):
        try:
            condition_from_dict(b)
        except (TypeError, ValueError) as e:
            raise fail(f"not a break condition: {e}", "collect", "breaks", j) from None

    engine = data.get("engine")
    if engine is not None:
        from ..engine import ENGINES

        if engine not in ENGINES:
            raise fail(f"unknown engine {engine!r} (one of {', '.join(sorted(ENGINES))})", "engine")
    spec = SweepSpec(
        source=source,
        data=data,
        network_path=net_path,
        base=base,
        axes=axes,
        steps=data["steps"],
        engine=engine,
        timeout_s=data.get("timeout_s"),
        sampling=sampling,
        collect=collect,
        keep_traces=bool(data.get("keep", {}).get("traces", False)),
        task_data=task_data,
        task_path=task_path,
        tune=data.get("tune"),
    )
    # every axis's values must make a valid network: try the first point's
    first = {
        a.name: (a.grid()[0] if a.values is not None or a.range.get("num") else a.range["min"]) for a in axes
    }  # type: ignore[union-attr]
    try:
        spec.network(first)
    except NetworkFileError as e:
        raise fail(f"the axes' values make an invalid network: {e.reason}", "axes") from None
    if task_data is not None:
        from ..learn import TaskError, TrainTask

        try:
            TrainTask.from_dict(spec.train_data(first), source="task")
        except TaskError as e:
            raise fail(f"the axes' values make an invalid training task: {e}", "axes") from None
    return spec


def _train_path(text: str, task: dict[str, Any]) -> tuple[str, ...]:
    """``train/KEY[/KEY...]`` as a path (``("train", KEY, ...)``) into the task's JSON.
    Raises ValueError (one line) for a first key the task format does not know."""
    from ..learn.task import schema as task_schema

    parts = tuple(text.split("/"))
    known = task_schema().get("properties", {})
    if len(parts) < 2 or not parts[1]:
        raise ValueError(f"{text!r}: a training path is train/KEY[/KEY...]")
    if parts[1] in ("episodes", "format", "meta"):
        raise ValueError(f"{text!r}: a sweep sets the task's hyperparameters, not {parts[1]!r}")
    if known and parts[1] not in known:
        raise SweepSpecError(
            "", f"{text!r}: a training task has no key {parts[1]!r} (keys: {', '.join(sorted(known))})"
        )
    return parts


def _neurons(net: Network, type: str, pattern: str) -> list[tuple[str, str]]:
    found = [(t, n) for t, n in sorted(net.neurons()) if t == type and fnmatch.fnmatchcase(n, pattern)]
    if not found:
        raise ValueError(f"no neuron {type}/{pattern} in the network")
    return found


def resolve_path(net: Network, data: dict[str, Any], text: str) -> list[tuple[str, ...]]:
    """The network file's JSON paths that an axis path names (see the module's doc).

    Raises ValueError (one line) when the path names nothing in ``net``."""
    parts = tuple(text.split("/"))
    kind = parts[0]
    if kind not in PATH_KINDS:
        raise ValueError(f"{text!r}: a path begins with one of {', '.join(PATH_KINDS)}")
    if kind == "params":
        if len(parts) != 4:
            raise ValueError(f"{text!r}: a param path is params/TYPE/NAME/PARAM")
        _, type, name, param = parts
        found = _neurons(net, type, name)
        reg = default_registry()
        if type in reg and param not in reg.get(type).params:
            known = ", ".join(sorted(reg.get(type).params)) or "none"
            raise ValueError(f"{text!r}: type {type} has no param {param!r} (its params: {known})")
        return [("params", t, n, param) for t, n in found]
    if kind == "weights":
        if len(parts) != 7:
            raise ValueError(
                f"{text!r}: a weight path is weights/TO_TYPE/TO_NAME/TO_INPUT/FROM_TYPE/FROM_NAME/FROM_OUTPUT"
            )
        tos = _neurons(net, parts[1], parts[2])
        frms = _neurons(net, parts[4], parts[5])
        return [
            ("outputs", "self", "self", "network_matrix", tt, tn, parts[3], ft, fn, parts[6])
            for tt, tn in tos
            for ft, fn in frms
        ]
    if kind == "fields":
        if len(parts) < 3:
            raise ValueError(f"{text!r}: a field path is fields/FIELD/KEY[/KEY...]")
        names = [f.get("name") for f in data.get("fields", [])]
        if parts[1] not in names:
            raise ValueError(
                f"{text!r}: no field named {parts[1]!r} (fields: {', '.join(map(str, names)) or 'none'})"
            )
        if parts[2] not in ("strength", "source", "covers"):
            raise ValueError(f"{text!r}: a sweep sets a field's 'strength' or a key of its 'source'")
        return [("fields", names.index(parts[1]), *parts[2:])]
    if len(parts) < 4:
        raise ValueError(f"{text!r}: an output path is outputs/TYPE/NAME/OUTPUT[/PATH...]")
    return [("outputs", t, n, *parts[3:]) for t, n in _neurons(net, parts[1], parts[2])]


def _check_output(net: Network, text: str, fail: Any, where: tuple[Any, ...], group: bool = False) -> None:
    t, n, o = text.split("/")[:3]
    try:
        found = _neurons(net, t, n)
    except ValueError as e:
        raise fail(str(e), *where) from None
    reg = default_registry()
    if t in reg and not reg.get(t).has_output(o):
        outs = ", ".join(reg.get(t).outputs) or "none"
        raise fail(f"type {t} has no output {o!r} (its outputs: {outs})", *where)
    if len(found) > 1 and not group:
        raise fail(f"{text!r} names {len(found)} neurons; only a synchrony metric takes a group", *where)


def output_ports(net: Network, text: str) -> list[tuple[tuple[str, str, str], tuple[str, ...]]]:
    """``TYPE/NAME/OUTPUT[/PATH]`` as (port, path in the V-value) pairs, one per matching neuron."""
    parts = text.split("/")
    return [((t, n, parts[2]), tuple(parts[3:])) for t, n in _neurons(net, parts[0], parts[1])]
