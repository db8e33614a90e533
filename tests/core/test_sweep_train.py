"""Training sweeps: a spec with a training task, train/... axes, loss and links per run,
and (with Ray) Ray Tune with ASHA stopping poor runs early."""

from __future__ import annotations

import argparse
import copy
import io
import json
from pathlib import Path

import pytest

from dmm_studio.sweep import Sweep, SweepSpecError, read_rows, spec_from_json
from dmm_studio.sweep.command import sweep_command

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SPEC = EXAMPLES / "field_learn.sweep.json"


def _data(steps: int = 6, lrs: list[float] | None = None) -> dict:
    data = json.loads(SPEC.read_text(encoding="utf-8"))
    data["steps"] = steps
    data["axes"] = [{"name": "lr", "path": "train/optimizer/lr", "values": lrs or [0.002, 0.1]}]
    return data


def _spec(data: dict):
    return spec_from_json(data, source="t.sweep.json", folder=EXAMPLES)


def test_lr_axis_gives_different_losses_and_the_row_has_loss_links_curve(tmp_path: Path) -> None:
    data = _data(steps=6)
    data["collect"] = {"train": {"curve_every": 2, "networks": True}}
    spec = _spec(data)
    assert spec.training
    assert [c for c in spec.columns() if c in ("loss", "loss_min", "links", "loss_curve")] == [
        "loss", "loss_min", "links", "loss_curve"
    ]
    # the point's task has the point's lr and the spec's steps
    assert spec.train_data({"lr": 0.1})["optimizer"]["lr"] == 0.1
    assert spec.train_data({"lr": 0.1})["steps"] == 6
    sweep = Sweep(spec, tmp_path)
    assert sweep.run(use_ray=False) == 2
    rows = read_rows(tmp_path / "runs.csv")
    assert [r["status"] for r in rows] == ["ok", "ok"]
    assert [r["steps"] for r in rows] == [6, 6]
    slow, fast = rows
    # same start (same seed, same network), then different training
    assert slow["loss_curve"][0] == fast["loss_curve"][0]
    assert abs(slow["loss"] - fast["loss"]) > 1e-3
    assert slow["loss"] < slow["loss_curve"][0]  # a small step learns; 0.1 may overshoot
    assert len(slow["loss_curve"]) == 4  # steps 1, 3, 5 and the last (6)
    assert slow["loss_curve"][-1] == slow["loss"]
    assert slow["loss_min"] <= slow["loss"]
    assert isinstance(slow["links"], int)
    # the trained networks were written, and they differ from the base
    from dmm_studio.fileformat import load_network

    for run in (0, 1):
        net = load_network(tmp_path / "networks" / f"run{run:05d}.dmm.json")
        assert net is not None


def test_network_axis_and_train_axis_together() -> None:
    data = _data(steps=3)
    data["axes"].append({"name": "s0", "path": "fields/wave/strength", "values": [0.1, 0.3]})
    spec = _spec(data)
    assert len(spec.points()) == 4
    p = {"lr": 0.1, "s0": 0.3}
    assert spec.network_data(p)["fields"][0]["strength"] == 0.3
    assert spec.train_data(p)["optimizer"]["lr"] == 0.1
    assert "train" not in json.dumps(spec.network_data(p)["fields"])


@pytest.mark.parametrize(
    ("edit", "where", "what"),
    [
        (lambda d: d.update(task="nope.train.json"), "at $.task", "does not exist"),
        (lambda d: d["axes"][0].update(path="train/nope/lr"), "at $.axes[0].path", "no key 'nope'"),
        (lambda d: d["axes"][0].update(path="train/episodes"), "at $.axes[0].path", "hyperparameters"),
        (lambda d: d["axes"][0].update(values=[-1.0]), "at $.axes", "invalid training task"),
        (lambda d: (d.pop("task"), d.pop("tune"), d.pop("collect")), "at $.axes[0].path", "needs a training task"),
        (lambda d: d.update(tune={"scheduler": "hyperband"}), "at $.tune.scheduler", "must be one of"),
        (lambda d: d["collect"].update(train={"every": 2}), "at $.collect.train.every", "unknown key"),
    ],
)
def test_bad_training_specs_are_one_line_with_json_path(edit, where, what) -> None:
    data = _data()
    data.setdefault("collect", {})
    edit(data)
    with pytest.raises(SweepSpecError) as e:
        _spec(data)
    msg = str(e.value)
    assert "\n" not in msg and where in msg and what in msg, msg


def test_tune_without_task_is_refused() -> None:
    data = _data()
    data.pop("task")
    data["axes"] = [{"name": "s0", "path": "fields/wave/strength", "values": [0.1]}]
    with pytest.raises(SweepSpecError, match=r"at \$.tune: 'tune' is for training sweeps"):
        _spec(data)


def test_example_training_sweep_runs_headless_from_the_command(tmp_path: Path) -> None:
    data = json.loads(SPEC.read_text(encoding="utf-8"))
    data["steps"] = 4  # the example's grid, fewer steps
    spec_file = EXAMPLES / "field_learn.sweep.json"
    small = tmp_path / "small.sweep.json"
    data["network"] = str(EXAMPLES / data["network"])
    data["task"] = str(EXAMPLES / data["task"])
    small.write_text(json.dumps(data), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    args = argparse.Namespace(
        spec=str(small), out=str(tmp_path / "o"), address=None, in_process=True, num_cpus=None,
        keep_traces=False, parquet=False, progress=True,
    )
    assert sweep_command(args, out=out, err=err) == 0, err.getvalue()
    rows = read_rows(tmp_path / "o" / "runs.csv")
    assert len(rows) == 6 and all(r["status"] == "ok" for r in rows)
    assert len({round(r["loss"], 9) for r in rows}) == 6
    assert "6 ok" in out.getvalue()
    assert "sweep" in err.getvalue()  # the progress bar
    assert spec_file.exists()


def test_asha_on_ray_tune_stops_poor_runs_early(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    pytest.importorskip("ray.tune")
    data = _data(steps=12, lrs=[0.0001, 0.0002, 0.02, 0.05])
    data["tune"] = {"scheduler": "asha", "grace_period": 2, "reduction_factor": 2}
    spec = _spec(copy.deepcopy(data))
    sweep = Sweep(spec, tmp_path)
    assert sweep.run(use_ray=True, num_cpus=2) == 4
    rows = sorted(read_rows(tmp_path / "runs.csv"), key=lambda r: r["run"])
    statuses = [r["status"] for r in rows]
    assert "stopped" in statuses and "ok" in statuses, rows
    for r in rows:
        assert r["loss"] is not None and r["loss_curve"][-1] == r["loss"]
        if r["status"] == "stopped":
            assert r["steps"] < 12 and "scheduler stopped it" in r["error"]
        else:
            assert r["steps"] == 12
    # the tiny learning rates are the ones that lag
    assert all(r["status"] == "ok" for r in rows if r["lr"] >= 0.02) or any(
        r["status"] == "stopped" for r in rows if r["lr"] < 0.001
    )
