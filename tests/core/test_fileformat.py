"""Network files and traces (SPEC §6): round trips and every kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from dmm_studio import Network, NetworkFileError, load_network, read_trace
from dmm_studio.fileformat import TraceWriter, loads_network, network_to_json

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
W = {"self": {"self": {"accum": {"self": {"self": {"network_matrix": 1}}}}}}


def doc(**over) -> dict:
    d = {"format": "dmm-studio/1", "outputs": {"self": {"self": {"network_matrix": W}}}}
    d.update(over)
    return d


def test_round_trip_keeps_everything(tmp_path):
    d = doc(
        outputs={
            "self": {
                "self": {
                    "network_matrix": {**W, "identity": {"a": {"single": {"identity": {"a": {"single": 1}}}}}}
                }
            },
            "identity": {
                "a": {
                    "single": {
                        "x": {":number": 2, "y": 1},
                        "t": {":tensor": {"shape": [2], "dtype": "float32", "data": [1, 2]}},
                    }
                }
            },
        },
        params={"identity": {"a": {}}},
        fields=[
            {
                "name": "ripple",
                "source": {"kind": "radial", "center": [0, 0], "wavelength": 300, "speed": 20},
                "targets": ["inputs"],
            }
        ],
        layout={"identity/a": {"pos": [10, 20], "probes": ["single"]}},
        meta={"title": "t"},
    )
    n = loads_network(json.dumps(d))
    assert isinstance(n.outputs["identity"]["a"]["single"]["t"], torch.Tensor)
    n.save(tmp_path / "a.dmm.json")
    again = load_network(tmp_path / "a.dmm.json")
    assert network_to_json(again) == network_to_json(n)
    assert again.fields == d["fields"] and again.layout == d["layout"] and again.meta == d["meta"]
    assert json.loads((tmp_path / "a.dmm.json").read_text())["outputs"]["identity"]["a"]["single"]["x"] == {
        ":number": 2,
        "y": 1,
    }


def test_files_are_written_in_canonical_form(tmp_path):
    d = doc(
        outputs={"self": {"self": {"network_matrix": W}}, "identity": {"a": {"single": 3, "zero": {"q": 0}}}}
    )
    n = loads_network(json.dumps(d))
    n.save(tmp_path / "c.dmm.json")
    saved = json.loads((tmp_path / "c.dmm.json").read_text())
    assert saved["outputs"]["identity"] == {"a": {"single": {":number": 3}}}


def test_examples_load():
    for path in EXAMPLES.glob("*.dmm.json"):
        assert load_network(path).matrix


def _error(text: str) -> NetworkFileError:
    with pytest.raises(NetworkFileError) as e:
        loads_network(text, source="net.dmm.json")
    return e.value


@pytest.mark.parametrize(
    "data, where, what",
    [
        ("[1, 2]", None, "JSON object"),
        (json.dumps({"outputs": {}}), None, "no 'format'"),
        (json.dumps(doc(format="dmm-studio/9")), "$.format", "unsupported format"),
        (json.dumps(doc(extra=1)), "$.extra", "unknown key"),
        (json.dumps({"format": "dmm-studio/1"}), None, "no 'outputs'"),
        (json.dumps(doc(outputs={"self": {"self": {}}})), "$.outputs", "no network matrix"),
        (
            json.dumps(doc(outputs={"self": {"self": {"network_matrix": W}}, "nosuch": {"a": {"o": 1}}})),
            "$.outputs.nosuch",
            "unknown neuron type 'nosuch'",
        ),
        (
            json.dumps(
                doc(
                    outputs={
                        "self": {
                            "self": {
                                "network_matrix": {"self": {"self": {"accum": {"bogus": {"x": {"o": 1}}}}}}
                            }
                        }
                    }
                )
            ),
            "$.outputs.self.self.network_matrix.self.self.accum.bogus",
            "unknown neuron type 'bogus'",
        ),
        (
            json.dumps(
                doc(
                    outputs={
                        "self": {
                            "self": {
                                "network_matrix": {
                                    "self": {"self": {"accum": {"self": {"self": {"network_matrix": "1"}}}}}
                                }
                            }
                        }
                    }
                )
            ),
            "$.outputs.self.self.network_matrix.self.self.accum.self.self.network_matrix",
            "not a V-value",
        ),
        (
            '{"format": "dmm-studio/1", "outputs": {"self": {"self": {"network_matrix": {"self": {"self": {"accum": {"self": {"self": {"network_matrix": Infinity}}}}}}}}}}',
            "network_matrix.self.self.accum.self.self.network_matrix",
            "not a finite number",
        ),
        (
            json.dumps(
                doc(outputs={"self": {"self": {"network_matrix": W}}, "identity": {"a": {"single": [1, 2]}}})
            ),
            "$.outputs.identity.a.single",
            "a list is not a V-value",
        ),
        (
            json.dumps(
                doc(
                    outputs={
                        "self": {"self": {"network_matrix": W}},
                        "identity": {"a": {"single": {"x": {":weight": 1}}}},
                    }
                )
            ),
            "$.outputs.identity.a.single.x",
            "undefined reserved key ':weight'",
        ),
        (
            json.dumps(
                doc(
                    outputs={
                        "self": {"self": {"network_matrix": W}},
                        "identity": {
                            "a": {
                                "single": {
                                    ":tensor": {"shape": [2, 2], "dtype": "float32", "data": [1, 2, 3]}
                                }
                            }
                        },
                    }
                )
            ),
            '$.outputs.identity.a.single[":tensor"]',
            "3 numbers but shape [2, 2] needs 4",
        ),
        (
            json.dumps(doc(params={"accum": {"a": {"rate": 1}}})),
            "$.params.accum.a.rate",
            "has no param 'rate'",
        ),
        (json.dumps(doc(params={"zzz": {}})), "$.params.zzz", "unknown neuron type"),
        (json.dumps(doc(fields={})), "$.fields", "must be a list"),
        (json.dumps(doc(layout={"identity/a": {"pos": [1]}})), '$.layout["identity/a"].pos', "'pos' must be"),
        ('{"format": "dmm-studio/1", "outputs": ', None, "not JSON"),
        ("[" * 100000 + "]" * 100000, None, "nesting is too deep"),
    ],
)
def test_bad_files_are_refused_with_the_path(data, where, what):
    e = _error(data)
    text = str(e)
    assert text.startswith("net.dmm.json")
    assert what in text
    if where:
        assert where in text
    assert "\n" not in text


def test_deep_v_value_nesting_is_refused():
    inner = "1"
    for _ in range(5000):
        inner = '{"a": ' + inner + "}"
    text = (
        '{"format": "dmm-studio/1", "outputs": {"self": {"self": {"network_matrix": {}}}, "identity": {"x": {"single": '
        + inner
        + "}}}}"
    )
    assert "nesting is too deep" in str(_error(text))


def test_missing_path_and_directory(tmp_path):
    with pytest.raises(NetworkFileError, match="no such file"):
        load_network(tmp_path / "nope.dmm.json")
    with pytest.raises(NetworkFileError, match="is a directory"):
        load_network(tmp_path)
    (tmp_path / "bin.dmm.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(NetworkFileError, match="not UTF-8"):
        load_network(tmp_path / "bin.dmm.json")


def test_failed_save_keeps_the_old_file(tmp_path):
    target = tmp_path / "keep.dmm.json"
    Network.empty().save(target)
    before = target.read_text()
    broken = Network.empty()
    broken.meta["bad"] = object()  # not JSON-serialisable
    with pytest.raises(TypeError):
        broken.save(target)
    assert target.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.dmm.json"]


def test_trace_round_trip(tmp_path):
    m = load_network(EXAMPLES / "counter.dmm.json").machine(engine="reference")
    with TraceWriter(tmp_path / "t.jsonl") as tw:
        for _ in range(3):
            m.step()
            tw.write(m.t, m.state)
    lines = (tmp_path / "t.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2, 3]
    steps = list(read_trace(tmp_path / "t.jsonl"))
    assert steps[-1][1]["accum"]["count"]["single"] == {":number": 3}


def test_bad_fields_are_refused_at_load():
    d = doc(fields=[{"name": "f", "source": {"kind": "plane", "wavelength": -3}, "targets": ["inputs"]}])
    e = _error(json.dumps(d))
    assert "$.fields" in str(e) and "field 'f'" in str(e) and "wavelength" in str(e)
