"""Training task files: the schema, and faults against the network, each one
line naming the file and the JSON path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dmm_studio.learn import TaskError, TrainTask
from dmm_studio.network import Network


def net() -> Network:
    n = Network.empty()
    n.set_weight(("accum", "acc", "delta"), ("identity", "x", "single"), 0.5)
    n.set_weight(("accum", "acc", "accum"), ("accum", "acc", "single"), 1.0)
    return n


def task(**over) -> dict:
    data = {
        "format": "dmm-studio-train/1",
        "episodes": [
            {"inputs": {"identity/x/single": [1, 0, {"a": 1}]}, "targets": {"accum/acc/single": [0.5, 0.5, None]}}
        ],
        "steps": 3,
    }
    data.update(over)
    return data


def fault(data: dict, tmp_path: Path) -> str:
    p = tmp_path / "bad.train.json"
    p.write_text(json.dumps(data))
    with pytest.raises(TaskError) as e:
        TrainTask.load(p).check(net())
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(str(p))
    return msg


def test_a_good_task_loads(tmp_path: Path) -> None:
    p = tmp_path / "ok.train.json"
    p.write_text(json.dumps(task()))
    t = TrainTask.load(p)
    t.check(net())
    assert t.length == 3 and t.loss == "mse" and t.optimizer == "Adam"


def test_unknown_neuron(tmp_path: Path) -> None:
    ep = {"inputs": {"identity/nope/single": [1, 2, 3]}, "targets": {"accum/acc/single": [1, 2, 3]}}
    msg = fault(task(episodes=[ep]), tmp_path)
    assert 'at $.episodes[0].inputs["identity/nope/single"]: no neuron identity/nope' in msg


def test_target_on_an_output_that_does_not_exist(tmp_path: Path) -> None:
    ep = {"targets": {"accum/acc/total": [1, 2, 3]}}
    msg = fault(task(episodes=[ep]), tmp_path)
    assert "episodes[0].targets" in msg and "has no output 'total'" in msg


def test_stream_of_the_wrong_length(tmp_path: Path) -> None:
    ep = {"inputs": {"identity/x/single": [1, 2, 3]}, "targets": {"accum/acc/single": [1, 2]}}
    msg = fault(task(episodes=[ep]), tmp_path)
    assert 'episodes[0].targets["accum/acc/single"]: a stream of 2 values' in msg


def test_stream_of_the_wrong_kind(tmp_path: Path) -> None:
    ep = {"inputs": {"identity/x/single": [1, "b", 3]}, "targets": {"accum/acc/single": [1, 2, 3]}}
    msg = fault(task(episodes=[ep]), tmp_path)
    assert 'episodes[0].inputs["identity/x/single"][1]' in msg and "'b'" in msg
    ep = {"inputs": {"identity/x/single": [1, {"a": {"b": 1}}, 3]}, "targets": {"accum/acc/single": [1, 2, 3]}}
    assert 'episodes[0].inputs["identity/x/single"][1].a' in fault(task(episodes=[ep]), tmp_path)


def test_schema_faults(tmp_path: Path) -> None:
    assert "unknown key 'stpes'" in fault(task(stpes=3), tmp_path)
    assert "$.loss" in fault(task(loss="cosine"), tmp_path)
    assert "no 'episodes'" in fault({"format": "dmm-studio-train/1"}, tmp_path)
    p = tmp_path / "x.train.json"
    p.write_text("{nope")
    with pytest.raises(TaskError, match="x.train.json"):
        TrainTask.load(p)


def test_trainable_faults(tmp_path: Path) -> None:
    msg = fault(task(trainable={"params": [{"neuron": "accum/zz", "names": ["a"]}]}), tmp_path)
    assert "trainable.params[0].neuron: no neuron accum/zz" in msg
    msg = fault(task(trainable={"params": [{"type": "arith.tanh", "names": ["gian"]}]}), tmp_path)
    assert "has no param 'gian'" in msg
    msg = fault(task(trainable={"fields": [{"field": "ripple", "keys": ["strength"]}]}), tmp_path)
    assert "no field 'ripple'" in msg
    wire = {"to": "accum/acc/delta", "from": "accum/acc/single"}
    msg = fault(task(trainable={"weights": {"wires": [wire]}}), tmp_path)
    assert "trainable.weights.wires[0]: no wire" in msg
