"""train(): the loss falls, on_step stops it, pruning leaves a normal network
file; the dmm-studio train command."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

import dmm_studio as dmm
from dmm_studio.cli import main
from dmm_studio.fileformat import load_network
from dmm_studio.learn import StepReport, TrainTask, train
from dmm_studio.network import Network

T = 12


def net() -> Network:
    n = Network.empty()
    n.set_weight(("identity", "y", "single"), ("identity", "x", "single"), 0.1)
    n.set_weight(("identity", "y", "single"), ("identity", "noise", "single"), 0.05)
    n.set_weight(("identity", "noise", "single"), ("identity", "noise", "single"), 1.0)
    n.set_output("identity", "noise", "single", 0.3)
    return n


def task_data(steps: int = 50, **over) -> dict:
    rng = random.Random(0)
    eps = []
    for _ in range(3):
        xs = [round(rng.uniform(-1, 1), 3) for _ in range(T)]
        ys = [None] + [0.8 * x for x in xs[:-1]]
        eps.append({"inputs": {"identity/x/single": xs}, "targets": {"identity/y/single": ys}})
    data = {
        "format": "dmm-studio-train/1",
        "episodes": eps,
        "optimizer": {"name": "Adam", "lr": 0.05},
        "steps": steps,
        "seed": 1,
        "trainable": {"weights": {"neurons": ["identity/y"]}},
    }
    data.update(over)
    return data


def test_the_loss_falls_and_the_weight_is_found() -> None:
    result = train(net(), TrainTask.from_dict(task_data(), source="t"))
    losses = result.losses
    assert losses[-1] < losses[0] / 100
    assert result.network.weight(("identity", "y", "single"), ("identity", "x", "single")) == pytest.approx(0.8, abs=0.05)
    # the noise register's own weight did not train (only identity/y's wires)
    assert result.network.weight(("identity", "noise", "single"), ("identity", "noise", "single")) == 1.0
    assert dmm.train is train


def test_on_step_stops_and_reports() -> None:
    seen: list[StepReport] = []

    def on_step(r: StepReport) -> bool | None:
        seen.append(r)
        return False if r.step == 5 else None

    result = train(net(), TrainTask.from_dict(task_data()), on_step=on_step)
    assert [r.step for r in result.history] == [1, 2, 3, 4, 5] and seen == result.history
    r = seen[-1]
    assert r.terms["mse"] == pytest.approx(r.loss) and r.links == 2 and r.elapsed_s > 0
    assert isinstance(r.network(), Network)


def test_pruning_leaves_a_normal_network(tmp_path: Path) -> None:
    data = task_data(steps=60, regularization={"l1": 0.01}, prune={"threshold": 0.02, "every": 30})
    result = train(net(), TrainTask.from_dict(data))
    assert result.history[-1].links == 1
    assert sum(r.pruned for r in result.history) == 1
    path = tmp_path / "trained.dmm.json"
    result.network.save(path)
    back = load_network(path)
    assert back.weight(("identity", "y", "single"), ("identity", "noise", "single")) in (0, None)
    m = back.machine()
    m.set_output("identity", "x", "single", 1.0)
    m.step()
    assert m.output("identity", "y", "single")[":number"] == pytest.approx(0.8, abs=0.05)


def test_truncated_bptt_trains_too() -> None:
    result = train(net(), TrainTask.from_dict(task_data(truncation=4)))
    assert result.losses[-1] < result.losses[0] / 50


def test_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    n, t = tmp_path / "n.dmm.json", tmp_path / "t.train.json"
    net().save(n)
    t.write_text(json.dumps(task_data(steps=10)))
    out, log = tmp_path / "out.dmm.json", tmp_path / "loss.csv"
    assert main(["train", str(n), str(t), "--out", str(out), "--log", str(log), "--no-progress"]) == 0
    assert "10 training steps" in capsys.readouterr().out
    lines = log.read_text().splitlines()
    assert lines[0].startswith("step,loss,links") and len(lines) == 11
    assert load_network(out).meta["trained"]["steps"] == 10
    jl = tmp_path / "loss.jsonl"
    assert main(["train", str(n), str(t), "--out", str(out), "--log", str(jl), "--steps", "2", "--no-progress"]) == 0
    assert json.loads(jl.read_text().splitlines()[-1])["step"] == 2


def test_the_command_refuses_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    n, t = tmp_path / "n.dmm.json", tmp_path / "t.train.json"
    net().save(n)
    bad = task_data()
    bad["episodes"][0]["targets"] = {"identity/zz/single": [0] * T}
    t.write_text(json.dumps(bad))
    out = tmp_path / "out.dmm.json"
    assert main(["train", str(n), str(t), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(t) in err and "no neuron identity/zz" in err
    assert not out.exists()
    assert main(["train", str(n), str(n), "--out", str(out)]) == 2
    assert "no 'episodes'" in capsys.readouterr().err
    assert main(["train", str(n), str(t), "--out", str(n)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err


def test_the_cli_says_when_no_weight_trains(tmp_path, capsys):
    # field_learn trains params and a field only: "0 links left" read as "everything was pruned"
    ex = Path(__file__).resolve().parents[2] / "examples"
    out = tmp_path / "fl.dmm.json"
    net, task = ex / "field_learn.dmm.json", ex / "field_learn.train.json"
    assert main(["train", str(net), str(task), "--out", str(out), "--steps", "1", "--no-progress"]) == 0
    said = capsys.readouterr().out
    assert "no weights trained (" in said and "params and field numbers trained)" in said
    assert "links left" not in said
