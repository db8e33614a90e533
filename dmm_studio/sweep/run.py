"""Running a sweep: every point of a spec, one row per run, on Ray or in this process.

``run_point(task)`` runs one point and returns its row; it never raises for
a run that fails (a neuron's error, a break, a run past ``timeout_s``): the
row's ``status`` says what happened and ``error``, ``error_step`` and
``error_neuron`` name the fault as the CLI does. ``Sweep`` writes each row to
``runs.csv`` as it arrives (flushed), so a killed sweep resumes: rows already
in the file are skipped on restart.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from ..breaks import scalar_of
from ._ray import ray_session
from .metrics import metric_value
from .spec import SweepSpec, output_ports

RUNS_FILE = "runs.csv"
PARQUET_FILE = "runs.parquet"
SPEC_COPY = "sweep.json"
STATUSES = ("ok", "halted", "break", "error", "timeout", "stopped")  # stopped: a scheduler ended it early
HARD_SLACK_S = 5.0  # on Ray: seconds past twice timeout_s before a run's worker is ended


class SweepOutError(ValueError):
    """The output folder cannot take this sweep (one line)."""


# ------------------------------------------------------------------ one run


def make_task(spec: SweepSpec, run: int, point: dict[str, Any], out: Path | None) -> dict[str, Any]:
    """Everything one run needs, as plain data (it travels to Ray workers)."""
    trace = str(out / "traces" / f"run{run:05d}.jsonl") if out is not None and spec.keep_traces else None
    return {
        "run": run,
        "point": point,
        "network": spec.network_data(point),
        "source": str(spec.network_path),
        "steps": spec.steps,
        "engine": spec.engine,
        "timeout_s": spec.timeout_s,
        "collect": spec.collect,
        "trace": trace,
        "columns": spec.columns(),
        "train": spec.train_data(point),
        "curve_every": spec.collect.get("train", {}).get("curve_every", 1),
        "save_network": (
            str(out / "networks" / f"run{run:05d}.dmm.json")
            if out is not None and spec.collect.get("train", {}).get("networks")
            else None
        ),
    }


def run_point(task: dict[str, Any], report: Callable[[Any], None] | None = None) -> dict[str, Any]:
    """Run one point; the row (a dict over ``task["columns"]``). Never raises
    for the run's own faults: they are the row's status. A training point
    (``task["train"]``) trains instead; ``report(step_report)`` is then called
    after each training step (Ray Tune's hook)."""
    if task.get("train") is not None:
        return train_point(task, report)
    from ..breaks import Breaks, condition_from_dict
    from ..engine import NetworkHalted, StepError
    from ..fileformat import TraceWriter, network_from_json

    row: dict[str, Any] = dict.fromkeys(task["columns"])
    row.update(task["point"])
    row["run"] = task["run"]
    collect = task["collect"]
    start = time.perf_counter()
    t = 0
    trace = None
    try:
        net = network_from_json(task["network"], source=f"{task['source']} (run {task['run']})")
        net.source = task["source"]
        machine = net.machine(engine=task["engine"])
        watch: dict[str, list[tuple[Any, tuple[str, ...]]]] = {}
        for o in collect.get("outputs", []):
            watch[o] = output_ports(net, o)
        series: dict[str, list[list[float]]] = {}  # output text -> per port, its values
        every: dict[str, int] = {}
        for p in collect.get("probes", []):
            every[p["output"]] = p.get("every", 1)
            watch[p["output"]] = output_ports(net, p["output"])
        for m in collect.get("metrics", []):
            watch[m["of"]] = output_ports(net, m["of"])
        for key in watch:
            series[key] = [[] for _ in watch[key]]
        breaks = Breaks([condition_from_dict(b) for b in collect.get("breaks", [])])
        if task["trace"]:
            Path(task["trace"]).parent.mkdir(parents=True, exist_ok=True)
        trace = TraceWriter(task["trace"]) if task["trace"] else None
        prev = machine.engine.state_view() if breaks else None
        timeout = task["timeout_s"]
        for _ in range(task["steps"]):
            machine.step()
            t = machine.t
            for key, ports in watch.items():
                for k, (port, path) in enumerate(ports):
                    x = scalar_of(machine.output(*port), path)
                    series[key][k].append(math.nan if x is None else x)
            if trace:
                trace.write(t, machine.state)
            if breaks:
                state = machine.engine.state_view()
                hit = breaks.check(t, state, prev)
                prev = state
                if hit is not None:
                    row.update(
                        status="break", **{"break": hit.condition}, error=hit.message, error_step=hit.t
                    )
                    if hit.neuron:
                        row["error_neuron"] = f"{hit.neuron[0]}/{hit.neuron[1]}"
                    break
            if timeout is not None and time.perf_counter() - start > timeout:
                row.update(
                    status="timeout", error=f"step {t}: past the time limit of {timeout:g} s", error_step=t
                )
                break
        else:
            row["status"] = "ok"
    except NetworkHalted as e:
        row.update(status="halted", error=str(e), error_step=e.t)
    except StepError as e:
        row.update(status="error", error=str(e), error_step=e.t)
        if e.neuron:
            row["error_neuron"] = f"{e.neuron[0]}/{e.neuron[1]}"
    except Exception as e:  # a run's fault never takes the sweep down
        row.update(status="error", error=f"{type(e).__name__}: {e}", error_step=t + 1)
    finally:
        if trace:
            trace.close()
    row["steps"] = t
    row["wall_s"] = round(time.perf_counter() - start, 6)
    if row["status"] != "error" or t > 0:
        try:
            _fill_collected(row, collect, locals().get("series", {}))
        except Exception as e:  # a metric that cannot be computed is that run's fault
            row.update(status="error", error=f"collecting: {type(e).__name__}: {e}")
    return row


def _fill_collected(
    row: dict[str, Any], collect: dict[str, Any], series: dict[str, list[list[float]]]
) -> None:
    for o in collect.get("outputs", []):
        s = series.get(o)
        if s and s[0]:
            row[f"out:{o}"] = s[0][-1]
    for p in collect.get("probes", []):
        s = series.get(p["output"])
        if s:
            row[f"probe:{p['output']}"] = s[0][:: p.get("every", 1)]
    for m in collect.get("metrics", []):
        s = series.get(m["of"])
        if s and s[0]:
            row[m["name"]] = metric_value(m["kind"], [x[m.get("from_step", 0) :] for x in s])


def train_point(task: dict[str, Any], report: Callable[[Any], None] | None = None) -> dict[str, Any]:
    """Train one point's network on its task; the row gets ``loss`` (the last
    training step's), ``loss_min``, ``links`` (weights left after pruning),
    ``loss_curve`` (every ``curve_every``-th step's loss, and the last) and
    ``steps`` (training steps done)."""
    from ..fileformat import network_from_json
    from ..learn import TrainTask, train

    row: dict[str, Any] = dict.fromkeys(task["columns"])
    row.update(task["point"])
    row["run"] = task["run"]
    start = time.perf_counter()
    losses: list[float] = []
    last: list[Any] = []

    def on_step(r: Any) -> bool | None:
        losses.append(float(r.loss))
        last[:] = [r]
        if report is not None:
            report(r)
        if task["timeout_s"] is not None and time.perf_counter() - start > task["timeout_s"]:
            row.update(status="timeout", error=f"training step {r.step}: past the time limit of {task['timeout_s']:g} s")
            return False
        return None

    try:
        net = network_from_json(task["network"], source=f"{task['source']} (run {task['run']})")
        net.source = task["source"]
        tt = TrainTask.from_dict(task["train"], source=f"training task (run {task['run']})")
        result = train(net, tt, on_step=on_step)
        row["status"] = row["status"] or "ok"
        if task.get("save_network"):
            Path(task["save_network"]).parent.mkdir(parents=True, exist_ok=True)
            result.network.save(task["save_network"])
    except Exception as e:  # a run's fault never takes the sweep down
        row.update(status="error", error=f"{type(e).__name__}: {e}", error_step=len(losses) + 1)
    row["steps"] = len(losses)
    row["wall_s"] = round(time.perf_counter() - start, 6)
    if losses:
        every = max(1, int(task.get("curve_every") or 1))
        curve = losses[::every]
        if (len(losses) - 1) % every:
            curve.append(losses[-1])
        row.update(loss=losses[-1], loss_min=min(losses), loss_curve=curve, links=last[0].links)
    return row


# ------------------------------------------------------------------ the table


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, (list, dict)):
        return json.dumps(v, allow_nan=True)
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)  # nan, inf, -inf: what float() reads back
    return v


def parse_cell(text: str) -> Any:
    """A CSV cell back as a value: '' -> None, numbers, JSON lists, else the text."""
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        pass
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a ``runs.csv``, values parsed (a cut-off last line is left out)."""
    p = Path(path)
    if not p.exists():
        return []
    text = p.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    return [{k: parse_cell(v) for k, v in r.items()} for r in csv.DictReader(io.StringIO(text))]


class RowWriter:
    """Appends rows to ``runs.csv``, one flushed line each; starts a new file
    with the header, or continues an old one (cutting a half-written last line)."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.columns = columns
        if path.exists():
            text = path.read_text(encoding="utf-8")
            header = next(csv.reader([text.split("\n", 1)[0]])) if text else []
            if text and header != columns:
                raise SweepOutError(f"{path}: its columns are not this spec's (use another --out)")
            if text and not text.endswith("\n"):
                with open(path, "r+", encoding="utf-8") as fh:
                    fh.truncate(len(text[: text.rfind("\n") + 1].encode()))
            self._fh: TextIO = open(path, "a", encoding="utf-8", newline="")  # noqa: SIM115
            if not text:
                self._write_header()
        else:
            self._fh = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115
            self._write_header()

    def _write_header(self) -> None:
        csv.writer(self._fh).writerow(self.columns)
        self._fh.flush()

    def write(self, row: dict[str, Any]) -> None:
        buf = io.StringIO()
        csv.writer(buf).writerow([_cell(row.get(c)) for c in self.columns])
        self._fh.write(buf.getvalue())  # one write per row: a kill leaves whole rows
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


# ------------------------------------------------------------------ the sweep


def ray_available() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


class Sweep:
    """A sweep of ``spec`` into the folder ``out``.

    ``pending()`` lists the runs not yet in ``runs.csv``; ``run(...)`` runs
    them, calling ``on_row(row)`` as each finishes (in order of finishing)."""

    def __init__(self, spec: SweepSpec, out: str | Path) -> None:
        self.spec = spec
        self.out = Path(out)
        self.points = spec.points()
        self.runs_path = self.out / RUNS_FILE
        self._claim()

    def _claim(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        mark = self.out / SPEC_COPY
        record = {"fingerprint": self.spec.fingerprint(), "spec": self.spec.data, "source": self.spec.source}
        if mark.exists():
            try:
                old = json.loads(mark.read_text(encoding="utf-8")).get("fingerprint")
            except ValueError:
                old = None
            if old != record["fingerprint"]:
                raise SweepOutError(
                    f"{self.out} holds the results of another sweep (another spec or base network): "
                    "use another --out"
                )
        else:
            mark.write_text(json.dumps(record, indent=1), encoding="utf-8")

    def done(self) -> set[int]:
        return {r["run"] for r in read_rows(self.runs_path) if isinstance(r.get("run"), int)}

    def pending(self) -> list[int]:
        done = self.done()
        return [i for i in range(len(self.points)) if i not in done]

    def tasks(self, runs: Iterable[int]) -> Iterator[dict[str, Any]]:
        for i in runs:
            yield make_task(self.spec, i, self.points[i], self.out)

    def run(
        self,
        *,
        use_ray: bool | None = None,
        address: str | None = None,
        num_cpus: int | None = None,
        on_row: Callable[[dict[str, Any]], None] | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> int:
        """Run the pending points; the number of rows written.

        ``use_ray``: None runs on Ray when it imports, else in this process.
        ``stop()`` (checked between runs in this process) ends the sweep early;
        what is written stays, and a later run resumes it."""
        pending = self.pending()
        writer = RowWriter(self.runs_path, self.spec.columns())
        n = 0
        try:
            use = ray_available() if use_ray is None else use_ray
            if use and self.spec.training and self.spec.tune is not None and pending:
                from .tune import tune_rows

                source = tune_rows(self, pending, address, num_cpus, run_point)
            elif use:
                source = _ray_rows(self, pending, address, num_cpus, stop)
            else:
                source = self._serial(pending, stop)
            for row in source:
                writer.write(row)
                n += 1
                if on_row:
                    on_row(row)
        finally:
            writer.close()
        return n

    def _serial(self, pending: list[int], stop: Callable[[], bool] | None) -> Iterator[dict[str, Any]]:
        for task in self.tasks(pending):
            if stop is not None and stop():
                return
            yield run_point(task)

    def write_parquet(self) -> Path:
        """``runs.parquet`` from ``runs.csv`` (needs pyarrow; ImportError otherwise)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = read_rows(self.runs_path)
        cols = {c: [r.get(c) for r in rows] for c in self.spec.columns()}
        path = self.out / PARQUET_FILE
        pq.write_table(pa.table(cols), path)
        return path


def _lost_row(task: dict[str, Any], status: str, error: str) -> dict[str, Any]:
    """The row of a run whose worker never answered (its steps are unknown)."""
    row: dict[str, Any] = dict.fromkeys(task["columns"])
    row.update(task["point"], run=task["run"], status=status, error=error)
    return row


def _ray_rows(
    sweep: Sweep,
    pending: list[int],
    address: str | None,
    num_cpus: int | None,
    stop: Callable[[], bool] | None,
) -> Iterator[dict[str, Any]]:
    """Run the points as Ray tasks, yielding rows as they finish. A task whose
    worker dies (a crash, out of memory) is that run's error row; with a time
    limit, a task still running at twice the limit plus ``HARD_SLACK_S`` (a
    step that never returns, which the limit checked between steps cannot
    stop) is cancelled, its worker ended, and its row says ``timeout``."""
    import ray

    with ray_session(address, num_cpus):
        remote = ray.remote(run_point).options(max_retries=0)
        # as many tasks in flight as Ray has CPUs: a task starts when it is
        # submitted, so its age is its run's age (and a huge sweep is not all
        # submitted at once)
        slots = max(1, int(ray.cluster_resources().get("CPU", 1)))
        timeout = sweep.spec.timeout_s
        hard = None if timeout is None else 2 * timeout + HARD_SLACK_S
        queue = sweep.tasks(pending)
        flying: dict[Any, tuple[dict[str, Any], float]] = {}
        while True:
            while len(flying) < slots:
                task = next(queue, None)
                if task is None:
                    break
                flying[remote.remote(task)] = (task, time.monotonic())
            if not flying:
                return
            if stop is not None and stop():
                for r in flying:
                    ray.cancel(r, force=True)
                return
            ready, _ = ray.wait(list(flying), num_returns=1, timeout=0.25)
            for r in ready:
                task, _t0 = flying.pop(r)
                try:
                    yield ray.get(r)
                except Exception as e:  # the worker died: the run's error, not the sweep's
                    text = str(e).splitlines()[0] if str(e) else ""
                    yield _lost_row(task, "error", f"{type(e).__name__}: {text}")
            if hard is not None:
                now = time.monotonic()
                for r, (task, t0) in list(flying.items()):
                    if now - t0 > hard:  # a step that never returns: end its worker
                        ray.cancel(r, force=True)
                        del flying[r]
                        yield _lost_row(
                            task,
                            "timeout",
                            f"no step ended within {hard:g} s (twice the time limit, and "
                            f"{HARD_SLACK_S:g} s): Ray ended the run's worker",
                        )
