"""Sweeps (issue 14): the spec's checks, grid and random rows, failing
points, resume after a kill, the command, and Ray when it is installed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dmm_studio.cli import main
from dmm_studio.sweep import Sweep, SweepSpecError, load_spec, read_rows, spec_from_json
from dmm_studio.sweep.metrics import synchrony
from dmm_studio.sweep.run import RowWriter

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WEIGHT = "weights/accum/count/delta/identity/one/single"


def counter_spec(**over: object) -> dict:
    spec = {
        "format": "dmm-studio-sweep/1",
        "network": str(EXAMPLES / "counter.dmm.json"),
        "steps": 5,
        "engine": "reference",
        "axes": [{"name": "w", "path": WEIGHT, "values": [1, 2, 3]}],
        "collect": {"outputs": ["accum/count/single"]},
    }
    spec.update(over)
    return spec


def write(tmp_path: Path, data: object, name: str = "s.sweep.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return p


# ------------------------------------------------------------------ the spec's checks

BAD = [
    ("no steps", lambda s: s.pop("steps"), "no 'steps'", None),
    ("steps 0", lambda s: s.update(steps=0), "'steps' must be >= 1", "$.steps"),
    ("format", lambda s: s.update(format="x"), "'format' must be 'dmm-studio-sweep/1'", "$.format"),
    ("axis typo", lambda s: s["axes"][0].update(valuez=[1]), "unknown key 'valuez'", "$.axes[0].valuez"),
    (
        "both",
        lambda s: s["axes"][0].update(range={"min": 0, "max": 1, "num": 2}),
        "either 'values' or 'range'",
        "$.axes[0]",
    ),
    (
        "neuron",
        lambda s: s["axes"][0].update(path="params/accum/nobody/x"),
        "no neuron accum/nobody",
        "$.axes[0].path",
    ),
    (
        "path kind",
        lambda s: s["axes"][0].update(path="wires/a/b"),
        "a path begins with one of",
        "$.axes[0].path",
    ),
    (
        "param",
        lambda s: s["axes"][0].update(path="params/identity/one/zz"),
        "has no param 'zz'",
        "$.axes[0].path",
    ),
    (
        "field",
        lambda s: s["axes"][0].update(path="fields/ripple/strength"),
        "no field named 'ripple'",
        "$.axes[0].path",
    ),
    (
        "grid num",
        lambda s: (
            s["axes"][0].update(values=None)
            or s["axes"][0].pop("values")
            or s["axes"][0].update(range={"min": 0, "max": 1})
        ),
        "a grid needs 'num'",
        "$.axes[0].range",
    ),
    (
        "random samples",
        lambda s: s.update(sampling={"kind": "random", "seed": 1}),
        "needs 'samples'",
        "$.sampling",
    ),
    (
        "sampling kind",
        lambda s: s.update(sampling={"kind": "sobol"}),
        "must be one of 'grid', 'random'",
        "$.sampling.kind",
    ),
    (
        "output",
        lambda s: s["collect"].update(outputs=["accum/count/nope"]),
        "has no output 'nope'",
        "$.collect.outputs[0]",
    ),
    (
        "output form",
        lambda s: s["collect"].update(outputs=["accum"]),
        "is not TYPE/NAME/OUTPUT",
        "$.collect.outputs[0]",
    ),
    (
        "metric kind",
        lambda s: s["collect"].update(metrics=[{"name": "m", "kind": "median", "of": "accum/count/single"}]),
        "must be one of 'synchrony'",
        "$.collect.metrics[0].kind",
    ),
    (
        "metric name",
        lambda s: s["collect"].update(metrics=[{"name": "w", "kind": "mean", "of": "accum/count/single"}]),
        "is taken by another column",
        "$.collect.metrics[0]",
    ),
    ("engine", lambda s: s.update(engine="warp"), "unknown engine 'warp'", "$.engine"),
    ("network", lambda s: s.update(network="nowhere.dmm.json"), "does not exist", "$.network"),
    ("value kind", lambda s: s["axes"][0].update(values=["x"]), "make an invalid network", "$.axes"),
    (
        "break",
        lambda s: s["collect"].update(breaks=[{"kind": "probe", "nonsense": 1}]),
        "not a break condition",
        "$.collect.breaks[0]",
    ),
]


@pytest.mark.parametrize("what, edit, message, where", BAD, ids=[b[0] for b in BAD])
def test_bad_spec_one_line_naming_file_and_path(tmp_path, capsys, what, edit, message, where):
    spec = counter_spec()
    edit(spec)
    path = write(tmp_path, spec)
    with pytest.raises(SweepSpecError) as e:
        load_spec(path)
    text = str(e.value)
    assert text.startswith(str(path)) and message in text and "\n" not in text
    if where:
        assert f" at {where}:" in text
    # the command says the same in one line, status 2
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_not_json_and_non_finite(tmp_path):
    with pytest.raises(SweepSpecError, match=r"s.sweep.json: not JSON"):
        load_spec(write(tmp_path, "{"))
    with pytest.raises(SweepSpecError, match=r"at \$\.axes\[0\]\.values\[1\]: nan is not a finite number"):
        load_spec(write(tmp_path, json.dumps(counter_spec()).replace("[1, 2, 3]", "[1, NaN]")))


# ------------------------------------------------------------------ rows


def test_grid_rows(tmp_path):
    spec = spec_from_json(
        counter_spec(
            axes=[
                {"name": "w", "path": WEIGHT, "values": [1, 2]},
                {
                    "name": "y0",
                    "path": "outputs/identity/one/single",
                    "range": {"min": 1, "max": 3, "num": 3},
                },
            ]
        ),
        folder=tmp_path,
    )
    sweep = Sweep(spec, tmp_path / "out")
    assert sweep.run(use_ray=False) == 6
    rows = read_rows(tmp_path / "out" / "runs.csv")
    assert [r["run"] for r in rows] == list(range(6))
    assert [(r["w"], r["y0"]) for r in rows] == [(w, y) for w in (1, 2) for y in (1.0, 2.0, 3.0)]
    for r in rows:
        # the accumulator adds w * (identity's output) each step: identity passes its own y0 on
        assert r["out:accum/count/single"] == pytest.approx(5 * r["w"] * r["y0"])
        assert r["status"] == "ok" and r["steps"] == 5 and r["wall_s"] > 0 and r["error"] is None


def test_random_rows_follow_the_seed(tmp_path):
    axes = [
        {"name": "w", "path": WEIGHT, "range": {"min": 0.5, "max": 4, "log": True}},
        {"name": "k", "path": "outputs/identity/one/single", "range": {"min": 1, "max": 3, "integer": True}},
    ]
    data = counter_spec(axes=axes, sampling={"kind": "random", "samples": 7, "seed": 3})
    a = spec_from_json(data, folder=tmp_path).points()
    assert a == spec_from_json(data, folder=tmp_path).points()
    assert a != spec_from_json({**data, "sampling": {"kind": "random", "samples": 7, "seed": 4}}).points()
    assert len({p["w"] for p in a}) == 7 and all(0.5 <= p["w"] <= 4 for p in a)
    assert all(isinstance(p["k"], int) and 1 <= p["k"] <= 3 for p in a)
    Sweep(spec_from_json(data, folder=tmp_path), tmp_path / "out").run(use_ray=False)
    rows = read_rows(tmp_path / "out" / "runs.csv")
    assert [(r["w"], r["k"]) for r in rows] == [(p["w"], p["k"]) for p in a]
    assert all(r["out:accum/count/single"] == pytest.approx(5 * r["w"] * r["k"]) for r in rows)


def test_a_failing_point_is_recorded_and_the_sweep_completes(tmp_path, capsys):
    spec = {
        "format": "dmm-studio-sweep/1",
        "network": str(EXAMPLES / "softmax_images.dmm.json"),
        "steps": 2,
        "engine": "reference",
        "axes": [
            {"name": "T", "path": "params/synth.softmax_matmul/*/temperature", "values": [0.1, 0.0, 0.2]}
        ],
    }
    path = write(tmp_path, spec)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--in-process"]) == 0
    out = capsys.readouterr()
    assert "3 runs in this process (1 error, 2 ok)" in out.out
    rows = read_rows(tmp_path / "out" / "runs.csv")
    assert [r["status"] for r in rows] == ["ok", "error", "ok"]
    bad = rows[1]
    # the product sees its images from step 2 on: step 1 completed, step 2 failed
    assert bad["error_step"] == 2 and bad["steps"] == 1
    assert bad["error_neuron"].startswith("synth.softmax_matmul/")
    assert "must be > 0, not 0.0" in bad["error"] and f"neuron {bad['error_neuron']}" in bad["error"]
    assert "run 1: error: step 2: neuron synth.softmax_matmul/" in out.err


def test_a_runaway_run_stops_at_its_time_limit(tmp_path):
    spec = spec_from_json(counter_spec(steps=10**7, timeout_s=0.2, axes=[{"path": WEIGHT, "values": [1]}]))
    Sweep(spec, tmp_path / "out").run(use_ray=False)
    (row,) = read_rows(tmp_path / "out" / "runs.csv")
    assert row["status"] == "timeout" and 0 < row["steps"] < 10**7 and row["error_step"] == row["steps"]
    assert row["out:accum/count/single"] == row["steps"]  # what it collected until then is kept


def test_a_break_stops_the_run_and_names_it(tmp_path):
    brk = {"kind": "probe", "port": ["accum", "count", "single"], "op": ">=", "value": 3}
    spec = spec_from_json(counter_spec(collect={"breaks": [brk]}))
    Sweep(spec, tmp_path / "out").run(use_ray=False)
    rows = read_rows(tmp_path / "out" / "runs.csv")
    assert [(r["status"], r["break"], r["steps"]) for r in rows] == [
        ("break", "probe", 3),
        ("break", "probe", 2),
        ("break", "probe", 1),
    ]


def test_probe_series_and_synchrony(tmp_path):
    spec = spec_from_json(
        counter_spec(
            collect={
                "probes": [{"output": "accum/count/single", "every": 2}],
                "metrics": [{"name": "mean", "kind": "mean", "of": "accum/count/single", "from_step": 1}],
            }
        )
    )
    Sweep(spec, tmp_path / "out").run(use_ray=False)
    r = read_rows(tmp_path / "out" / "runs.csv")[1]  # w = 2: 2, 4, 6, 8, 10
    assert r["probe:accum/count/single"] == [2, 6, 10] and r["mean"] == pytest.approx(7)
    assert synchrony([[0, 1, 0, -1]] * 3) == pytest.approx(1)
    assert synchrony([[0, 1, 0, -1], [0, -1, 0, 1]]) == pytest.approx(0)
    assert synchrony([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]) == pytest.approx(0)


# ------------------------------------------------------------------ resume


def test_resume_after_a_kill(tmp_path):
    spec = counter_spec(
        steps=1000, axes=[{"name": "w", "path": WEIGHT, "range": {"min": 1, "max": 20, "num": 20}}]
    )
    path = write(tmp_path, spec)
    out = tmp_path / "out"
    runs = out / "runs.csv"
    cmd = [sys.executable, "-m", "dmm_studio.cli", "sweep", str(path), "--out", str(out), "--in-process"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(read_rows(runs)) < 3:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    first = read_rows(runs)
    assert 3 <= len(first) < 20
    sweep = Sweep(load_spec(path), out)
    assert sweep.pending() == list(range(len(first), 20))
    assert sweep.run(use_ray=False) == 20 - len(first)
    rows = read_rows(runs)
    assert sorted(r["run"] for r in rows) == list(range(20)) and rows[: len(first)] == first
    assert all(r["out:accum/count/single"] == pytest.approx(1000 * r["w"]) for r in rows)


def test_a_half_written_row_is_cut_and_run_again(tmp_path):
    spec = spec_from_json(counter_spec())
    Sweep(spec, tmp_path / "out").run(use_ray=False)
    runs = tmp_path / "out" / "runs.csv"
    text = runs.read_text()
    runs.write_text(text[: text.rindex("\n", 0, -1) + 5])  # the last row cut after 4 characters
    sweep = Sweep(spec, tmp_path / "out")
    assert sweep.pending() == [2]
    sweep.run(use_ray=False)
    lines = runs.read_text().splitlines()
    assert len(lines) == 4 and lines[:3] == text.splitlines()[:3]  # header, runs 0 and 1 as they were
    assert [r["run"] for r in read_rows(runs)] == [0, 1, 2]


def test_traces_kept_on_request(tmp_path):
    from dmm_studio.fileformat import read_trace

    path = write(tmp_path, counter_spec())
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--in-process", "--keep-traces"]) == 0
    assert [r["status"] for r in read_rows(tmp_path / "out" / "runs.csv")] == ["ok"] * 3
    steps = list(read_trace(tmp_path / "out" / "traces" / "run00002.jsonl"))  # w = 3
    assert [t for t, _ in steps] == [1, 2, 3, 4, 5]
    assert steps[-1][1]["accum"]["count"]["single"] == {":number": 15}
    assert main(["sweep", str(path), "--out", str(tmp_path / "plain"), "--in-process"]) == 0
    assert not (tmp_path / "plain" / "traces").exists()  # only on request


def test_parquet(tmp_path, capsys):
    path = write(tmp_path, counter_spec())
    try:
        import pyarrow.parquet as pq
    except ImportError:
        assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--parquet"]) == 2
        assert "--parquet needs pyarrow" in capsys.readouterr().err
        return
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--in-process", "--parquet"]) == 0
    table = pq.read_table(tmp_path / "out" / "runs.parquet").to_pylist()
    assert [(r["w"], r["out:accum/count/single"]) for r in table] == [(1, 5.0), (2, 10.0), (3, 15.0)]


def test_a_folder_of_another_sweep_is_refused(tmp_path, capsys):
    Sweep(spec_from_json(counter_spec()), tmp_path / "out").run(use_ray=False)
    other = write(tmp_path, counter_spec(steps=6))
    assert main(["sweep", str(other), "--out", str(tmp_path / "out"), "--in-process"]) == 2
    assert "holds the results of another sweep" in capsys.readouterr().err
    with pytest.raises(ValueError, match="columns are not this spec's"):
        RowWriter(tmp_path / "out" / "runs.csv", ["run", "other"])


def test_without_ray_the_command_says_ray_would_parallelise(tmp_path, capsys, monkeypatch):
    import dmm_studio.sweep.command as command

    monkeypatch.setattr(command, "ray_available", lambda: False)
    path = write(tmp_path, counter_spec())
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "one by one in this process; Ray would run them in parallel" in err
    assert main(["sweep", str(path), "--out", str(tmp_path / "o2"), "--address", "ray://x:1"]) == 2
    assert "--address needs Ray" in capsys.readouterr().err


def test_the_example_sweep_runs_and_shows_desynchronisation(tmp_path):
    spec = load_spec(EXAMPLES / "field_population.sweep.json")
    names = [a.name for a in spec.axes]
    assert names == ["strength", "wavelength"] and len(spec.points()) == 25
    keep = [p for p in spec.points() if p["wavelength"] == 600]  # one column of the grid
    sweep = Sweep(spec, tmp_path / "out")
    sweep.points = keep
    sweep.run(use_ray=False)
    sync = [r["synchrony"] for r in read_rows(tmp_path / "out" / "runs.csv")]
    assert sync[0] == pytest.approx(1)  # no field: lockstep
    assert all(a > b for a, b in zip(sync, sync[1:], strict=False))  # stronger ripple, less synchrony
    assert sync[-1] < 0.5


# ------------------------------------------------------------------ Ray


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for this module's Ray tests (its start-up costs seconds)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


def test_on_ray_the_rows_equal_the_in_process_rows(tmp_path, local_ray):
    spec = spec_from_json(counter_spec(axes=[{"name": "w", "path": WEIGHT, "values": [1, 2, 3, 4, 5]}]))
    Sweep(spec, tmp_path / "a").run(use_ray=False)
    Sweep(spec, tmp_path / "b").run(use_ray=True)
    drop = ("wall_s",)
    a = [{k: v for k, v in r.items() if k not in drop} for r in read_rows(tmp_path / "a" / "runs.csv")]
    b = [{k: v for k, v in r.items() if k not in drop} for r in read_rows(tmp_path / "b" / "runs.csv")]
    assert sorted(b, key=lambda r: r["run"]) == a


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a named pipe")
def test_on_ray_a_step_that_never_returns_is_ended(tmp_path, local_ray, monkeypatch):
    import dmm_studio.sweep.run as run

    monkeypatch.setattr(run, "HARD_SLACK_S", 1.0)
    (tmp_path / "words.dmm.json").write_bytes((EXAMPLES / "word_count.dmm.json").read_bytes())
    (tmp_path / "a.txt").write_text("the cat sat on the mat", encoding="utf-8")
    os.mkfifo(tmp_path / "pipe")  # reading it blocks for ever: no one writes
    spec = spec_from_json(
        {
            "format": "dmm-studio-sweep/1",
            "network": "words.dmm.json",
            "steps": 3,
            "engine": "reference",
            "timeout_s": 0.5,
            "axes": [
                {
                    "name": "file",
                    "path": "params/data.text_reader/reader/path",
                    "values": ["a.txt", "pipe", "a.txt"],
                }
            ],
        },
        folder=tmp_path,
    )
    start = time.monotonic()
    Sweep(spec, tmp_path / "out").run(use_ray=True)
    assert time.monotonic() - start < 30
    rows = sorted(read_rows(tmp_path / "out" / "runs.csv"), key=lambda r: r["run"])
    assert [r["status"] for r in rows] == ["ok", "timeout", "ok"]
    assert "no step ended within 2 s" in rows[1]["error"] and rows[1]["file"] == "pipe"
