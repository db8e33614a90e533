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


# ------------------------------------------------------------ issue 11: bad files, one clear line


def _tensor_doc(dtype, data, shape=None) -> str:
    t = {"shape": [len(data)] if shape is None else shape, "dtype": dtype, "data": data}
    return json.dumps(
        doc(outputs={"self": {"self": {"network_matrix": W}}, "identity": {"a": {"single": {":tensor": t}}}})
    )


BIG = 2**1024
TENSOR_AT = '$.outputs.identity.a.single[":tensor"]'
EMPTY_W = '{"format": "dmm-studio/1", "outputs": {"self": {"self": {"network_matrix": {}}}}}'


@pytest.mark.parametrize(
    "data, where, what",
    [
        # numbers that do not fit
        (EMPTY_W[:-1] + ', "meta": {"y": ' + "9" * 4301 + "}}", None, "an integer of 4,301 digits"),
        (
            json.dumps(
                doc(outputs={"self": {"self": {"network_matrix": W}}, "identity": {"a": {"single": BIG}}})
            ),
            "$.outputs.identity.a.single",
            "beyond a float64's range",
        ),
        (
            json.dumps(
                doc(
                    outputs={
                        "self": {"self": {"network_matrix": W}},
                        "identity": {"a": {"single": {"x": -BIG}}},
                    }
                )
            ),
            "$.outputs.identity.a.single.x",
            "beyond a float64's range",
        ),
        (
            json.dumps(doc(layout={"identity/a": {"pos": [BIG, 0]}})),
            '$.layout["identity/a"].pos',
            "'pos' must be",
        ),
        (
            json.dumps(
                doc(
                    fields=[
                        {"name": "f", "source": {"kind": "constant", "value": BIG}, "targets": ["outputs"]}
                    ]
                )
            ),
            "$.fields[0].source.value",
            "'value' must be a finite number",
        ),
        (
            json.dumps(doc(params={"time.constant": {"c": {"value": BIG}}})),
            '$.params["time.constant"].c.value',
            "beyond",
        ),
        (json.dumps(doc(meta={"n": [BIG]})), "$.meta.n[0]", "beyond a float64's range"),
        (_tensor_doc("float32", [BIG]), TENSOR_AT, "data[0] is an integer of 309 digits"),
        (_tensor_doc("int32", [0, 2147483648]), TENSOR_AT, "data[1] is 2147483648, outside int32's range"),
        (_tensor_doc("int32", [-2147483649]), TENSOR_AT, "outside int32's range"),
        (_tensor_doc("int64", [2**63]), TENSOR_AT, "outside int64's range"),
        (
            _tensor_doc("float32", [], [0, 9223372036854775808]),
            TENSOR_AT,
            "'shape' must be a list of integers",
        ),
        (
            _tensor_doc("float32", [], [4294967296, 4294967296, 0]),
            TENSOR_AT,
            "'shape' must be a list of integers",
        ),
        (_tensor_doc("float32", [], [2**30, 2**30, 2**30, 0]), TENSOR_AT, "too large"),
        # values the docs say are refused
        (
            EMPTY_W[:-1] + ', "params": {"time.constant": {"c": {"value": [NaN]}}}}',
            '$.params["time.constant"].c.value[0]',
            "nan is not a finite number",
        ),
        (
            EMPTY_W[:-1] + ', "params": {"time.constant": {"c": {"value": -Infinity}}}}',
            '$.params["time.constant"].c.value',
            "-inf is not a finite number",
        ),
        (
            EMPTY_W[:-1] + ', "meta": {"title": "t", "x": {"y": Infinity}}}',
            "$.meta.x.y",
            "inf is not a finite number",
        ),
        (
            EMPTY_W[:-1] + ', "layout": {"identity/a": {"pos": [0, 0], "probes": [NaN]}}}',
            '$.layout["identity/a"].probes[0]',
            "not a finite number",
        ),
        (_tensor_doc("float16", [1, 70000]), TENSOR_AT, "data[1] is 70000, beyond float16's range"),
        (_tensor_doc("float32", [1e39]), TENSOR_AT, "beyond float32's range"),
        (_tensor_doc("int32", [1.5]), TENSOR_AT, "data[0] is 1.5, not an integer"),
        (_tensor_doc("int64", [2, 3.25]), TENSOR_AT, "data[1] is 3.25, not an integer"),
        (
            '{"format": "dmm-studio/1", "outputs": {"self": {"self": {"network_matrix": '
            + json.dumps(W)
            + '}}}, "outputs": {"self": {"self": {"network_matrix": {}}}}}',
            None,
            "the key 'outputs' appears twice",
        ),
        (
            EMPTY_W[:-1] + ', "layout": {"identity/a": {"pos": [0, 0], "pos": [1, 1]}}}',
            '$.layout["identity/a"]',
            "'pos' appears twice",
        ),
        (
            '{"format": "dmm-studio/1", "outputs": {"self": {"self": {"network_matrix": {}}}, '
            '"identity": {"a": {"single": {"x": 1, "x": 2}}}}}',
            "$.outputs.identity.a.single",
            "'x' appears twice",
        ),
        # files the CLI accepted but the studio could not open
        (
            json.dumps(doc(layout={"nosuch/a": {"pos": [0, 0]}})),
            '$.layout["nosuch/a"]',
            "unknown neuron type 'nosuch'",
        ),
        (
            EMPTY_W[:-1] + ', "meta": ' + '{"a": ' * 500 + "1" + "}" * 500 + "}",
            "$.meta.a.a",
            "nesting is too deep",
        ),
        (json.dumps(doc(meta={"title": 3})), "$.meta.title", "'title' must be a string"),
    ],
)
def test_issue_11_bad_files_get_one_line_with_the_path(data, where, what):
    text = str(_error(data))
    assert text.startswith("net.dmm.json")
    assert what in text, text
    if where:
        assert f" at {where}" in text, text
    assert "\n" not in text and len(text) < 400


def test_deep_values_are_walked_without_recursion_and_refused_at_the_documented_depth():
    from dmm_studio import vvalue as vv
    from dmm_studio.fileformat import MAX_DEPTH

    deep: dict = {"a": 1}
    for _ in range(10_000):
        deep = {"a": deep}
    # reading V-values from JSON handles any depth
    assert vv.get_in(vv.from_json(deep), ("a",) * 10_001) == 1
    with pytest.raises(vv.VValueError, match="nested deeper than 50 levels"):
        vv.from_json(deep, max_depth=50)
    # a file is refused at the documented depth, with one line
    inner = "1"
    for _ in range(10_000):
        inner = '{"a": ' + inner + "}"
    text = EMPTY_W[:-2] + ', "identity": {"x": {"single": ' + inner + "}}}}"
    assert f"at most {MAX_DEPTH} levels" in str(_error(text))
    ok = "1"
    for _ in range(MAX_DEPTH - 5):
        ok = '{"a": ' + ok + "}"
    net = loads_network(EMPTY_W[:-2] + ', "identity": {"x": {"single": ' + ok + "}}}}")
    assert loads_network(json.dumps(network_to_json(net))).outputs == net.outputs


def test_special_files_are_refused_without_reading_them(tmp_path, monkeypatch):
    import os
    import threading

    from dmm_studio import jsonio

    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe.dmm.json"
        os.mkfifo(fifo)
        result: list = []

        def load():
            try:
                load_network(fifo)
            except NetworkFileError as e:
                result.append(str(e))

        th = threading.Thread(target=load, daemon=True)
        th.start()
        th.join(10)
        assert not th.is_alive(), "loading a FIFO hangs"
        assert "FIFO" in result[0] and "not a regular file" in result[0]
    for dev in ("/dev/zero", "/dev/urandom"):
        if Path(dev).exists():
            with pytest.raises(NetworkFileError, match="a device, not a regular file"):
                load_network(dev)
    monkeypatch.setattr(jsonio, "MAX_FILE_BYTES", 1000)
    big = tmp_path / "big.dmm.json"
    big.write_text(json.dumps(doc(meta={"x": "y" * 2000})))
    with pytest.raises(NetworkFileError, match=r"big.dmm.json: is 2.0 KiB|may be at most") as e:
        load_network(big)
    assert "at most" in str(e.value)


def test_the_cli_refuses_bad_files_with_exit_2_and_one_line(tmp_path, capsys):
    from dmm_studio.cli import main

    bad = tmp_path / "bad.dmm.json"
    bad.write_text(_tensor_doc("int32", [1.5]))
    assert main(["run", str(bad), "--steps", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "bad.dmm.json at $.outputs" in err and "not an integer" in err


# ------------------------------------------------------------ what loads can be saved again

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**1100), max_value=2**1100),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
)
_json = st.recursive(
    _json_leaf,
    lambda kids: st.one_of(
        st.lists(kids, max_size=3), st.dictionaries(st.text(max_size=4), kids, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    example=st.sampled_from(sorted(EXAMPLES.glob("*.dmm.json"))),
    where=st.lists(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz:/._", max_size=6) | st.integers(0, 3), max_size=6
    ),
    value=_json,
)
def test_every_file_the_loader_accepts_saves_and_reloads_equal(example, where, value, tmp_path_factory):
    data = json.loads(example.read_text())
    node = data
    for k in where[:-1]:  # walk as far as the path goes, then put the value there
        nxt = node.get(k) if isinstance(node, dict) and isinstance(k, str) else None
        if nxt is None and isinstance(node, list) and isinstance(k, int) and k < len(node):
            nxt = node[k]
        if not isinstance(nxt, (dict, list)):
            break
        node = nxt
    last = where[-1] if where else "meta"
    if isinstance(node, dict):
        node[str(last)] = value
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = value
    text = json.dumps(data)  # NaN and Infinity become the JSON literals
    try:
        net = loads_network(text, source="m.dmm.json")
    except NetworkFileError as e:
        assert "\n" not in str(e) and str(e).startswith("m.dmm.json")
        return
    path = tmp_path_factory.mktemp("rt") / "m.dmm.json"
    net.save(path)
    again = load_network(path)
    assert network_to_json(again) == network_to_json(net)
    assert (again.params, again.fields, again.layout, again.meta) == (
        net.params,
        net.fields,
        net.layout,
        net.meta,
    )


# ------------------------------------------------------------ atomic save


def test_save_keeps_permissions_fsyncs_before_the_rename_and_cleans_up(tmp_path, monkeypatch):
    import os
    import stat as st_

    from dmm_studio import jsonio

    target = tmp_path / "keep.dmm.json"
    Network.empty().save(target)
    os.chmod(target, 0o644)
    Network.empty().save(target)
    assert st_.S_IMODE(os.stat(target).st_mode) == 0o644
    os.chmod(target, 0o640)
    Network.empty().save(target)
    assert st_.S_IMODE(os.stat(target).st_mode) == 0o640

    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(jsonio.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(jsonio.os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1])
    Network.empty().save(target)
    assert calls[:2] == ["fsync", "replace"]

    before = target.read_text()

    def broken_replace(a, b):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jsonio.os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space"):
        load_network(target).save(target)
    assert target.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.dmm.json"]


def test_a_killed_saves_temporary_file_is_removed_by_the_next_save(tmp_path):
    import os
    import time

    target = tmp_path / "k.dmm.json"
    stale = tmp_path / ".k.dmm.json.0123456789ab.tmp"
    stale.write_text("half a file")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    fresh = tmp_path / ".k.dmm.json.ba9876543210.tmp"  # perhaps another save under way: kept
    fresh.write_text("x")
    Network.empty().save(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name, "k.dmm.json"]


def test_saving_a_snapshot_that_holds_nan_names_the_path():
    net = Network.empty()
    net.meta["x"] = float("nan")
    with pytest.raises(ValueError, match=r"cannot save: \$\.meta\.x is nan"):
        net.save("/nonexistent-folder/never-written.dmm.json")


# ------------------------------------------------------------ traces stay JSON


def _strict_json(line: str):
    def refuse(token):
        raise AssertionError(f"{token} is not RFC 8259 JSON")

    return json.loads(line, parse_constant=refuse)


def test_traces_write_non_finite_numbers_as_strings_and_read_them_back(tmp_path):
    state = {
        "identity": {
            "a": {
                "single": {"x": float("nan"), "y": float("inf"), "z": -float("inf"), "w": 2.0},
                "t": {":tensor": torch.tensor([1.0, float("nan"), -float("inf")])},
            }
        }
    }
    with TraceWriter(tmp_path / "t.jsonl") as tw:
        tw.write(1, state)
    line = (tmp_path / "t.jsonl").read_text()
    row = _strict_json(line)
    single = row["outputs"]["identity"]["a"]["single"]
    assert single == {"x": "NaN", "y": "Infinity", "z": "-Infinity", "w": 2}
    assert row["outputs"]["identity"]["a"]["t"][":tensor"]["data"] == [1, "NaN", "-Infinity"]
    ((step, back),) = read_trace(tmp_path / "t.jsonl")
    x = back["identity"]["a"]["single"]
    assert x["x"] != x["x"] and x["y"] == float("inf") and x["z"] == -float("inf")
    t = back["identity"]["a"]["t"][":tensor"]
    assert torch.isnan(t[1]) and t[2] == -float("inf")


def test_exact_integers_beyond_float_range_stop_the_trace_with_one_line(tmp_path, capsys):
    from dmm_studio.cli import main

    d = json.loads((EXAMPLES / "counter.dmm.json").read_text())
    w = d["outputs"]["self"]["self"]["network_matrix"]
    w["accum"]["count"]["accum"]["accum"]["count"]["single"] = 10**300
    net = tmp_path / "grow.dmm.json"
    net.write_text(json.dumps(d))
    status = main(
        ["run", str(net), "--steps", "20", "--engine", "reference", "--trace", str(tmp_path / "t.jsonl")]
    )
    err = capsys.readouterr().err.strip()
    assert status == 1
    # the step that makes such an integer is refused (a step error naming the neuron, issue 11),
    # before the trace writer would meet it; the trace keeps the steps before
    assert err.count("\n") == 0 and "step 3: neuron accum/count: output 'single'" in err
    assert "outgrew float range" in err
    assert len((tmp_path / "t.jsonl").read_text().splitlines()) == 2


# ------------------------------------------------------------ the parse: fast, and never last-key-wins


@pytest.mark.parametrize("with_orjson", [True, False])
def test_parse_json_reads_as_the_standard_library_does_and_refuses_every_duplicate(with_orjson, monkeypatch):
    import sys

    from dmm_studio.jsonio import parse_json

    if not with_orjson:
        monkeypatch.setitem(sys.modules, "orjson", None)  # import fails: the standard library parses
    for path in EXAMPLES.glob("*.dmm.json"):
        blob = path.read_bytes()
        assert parse_json(blob) == json.loads(blob)
    exact = b'{"a": [123456789012345678901234567890, -9223372036854775809, 18446744073709551616]}'
    assert parse_json(exact) == json.loads(exact)  # integers beyond 64 bits stay exact integers
    assert parse_json('{"a:b": "c:d", "e": [":", {"f": "\\\\\\":"}]}') == {
        "a:b": "c:d",
        "e": [":", {"f": '\\":'}],
    }
    for dup, key in [
        (b'{"a": 1, "a": 2}', "'a'"),
        (b'{"x": {"a:": {"s": "::"}, "a:": 1}}', "'a:'"),  # the dropped value held colons
        (b'{"\\u003a": 1, "a": 1, "a": 2}', "'a'"),  # an escaped ':' must not hide a duplicate
        (b'{"a": [1e300, {"b": "x", "b": "y"}]}', "'b'"),
    ]:
        with pytest.raises(NetworkFileError, match=f"the key {key} appears twice"):
            parse_json(dup, "d.json")


def test_a_fuzz_sample_of_mutated_example_files_gives_no_traceback():
    """The CI-sized sample of bench/fuzz_files.py (run it with --files 10000)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("fuzz_files", EXAMPLES.parent / "bench" / "fuzz_files.py")
    fuzz = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fuzz)
    counts = fuzz.fuzz(files=150, seed=11, quiet=True)
    assert counts["traceback"] == 0 and counts["bad-message"] == 0 and counts["roundtrip-failed"] == 0
    assert counts["refused"] > 50 and counts["accepted"] > 5  # the sample exercises both sides


def test_what_saves_can_be_opened_again_nesting_deeper_than_the_limit_is_refused_at_save():
    from dmm_studio.fileformat import MAX_DEPTH, dumps_network

    deep: dict = {"x": 1}
    for _ in range(2000):  # a value the run built, deeper than any file may nest
        deep = {"x": deep}
    net = Network.empty()
    net.meta["deep"] = deep
    with pytest.raises(ValueError, match=rf"cannot save: \$\.meta\.deep.* at most {MAX_DEPTH} levels"):
        dumps_network(net)
    net.meta["deep"] = {"x": 1}
    assert loads_network(dumps_network(net)).meta == net.meta


def test_a_state_deeper_than_json_goes_gets_its_trace_line(tmp_path):
    """(It stopped the trace with one line: a value built at run time, a list
    of 10,000 items, may nest any depth, and its trace line is written.)"""
    deep: dict = {"x": 1}
    for _ in range(5000):
        deep = {"x": deep}
    with TraceWriter(tmp_path / "t.jsonl") as tw:
        tw.write(3, {"identity": {"a": {"single": deep}}})
    line = (tmp_path / "t.jsonl").read_text()
    assert line == '{"outputs":{"identity":{"a":{"single":' + '{"x":' * 5001 + "1" + "}" * 5001 + '}}},"step":3}\n'


def _file_with_matrix(w: dict) -> str:
    return json.dumps({"format": "dmm-studio/1", "outputs": {"self": {"self": {"network_matrix": w}}}})


SELF_ROW = {"self": {"self": {"accum": {"self": {"self": {"network_matrix": 1}}}}}}


@pytest.mark.parametrize(
    "extra, kept",
    [
        ({"identity": {"a": {"single": {"identity": {"b": {"single": 2.5}}}}}}, True),  # regular: as parsed
        ({"identity": {"a": {"single": {"identity": {"b": {"single": 0}}}}}}, False),  # a zero: dropped
        ({"identity": {"a": {"single": {"identity": {"b": {}}}}}}, False),  # an empty map: dropped
        ({"identity": {"a": {"single": {"identity": {"b": {"single": {":number": 3}}}}}}}, False),  # deeper
    ],
)
def test_a_regular_matrix_is_kept_as_parsed_and_any_other_canonicalised(extra, kept):
    """The loader keeps a canonical regular W as parsed (no copy of the bulk of
    a large file) and reads any other through the V-value reader: the same
    canonical network either way."""
    from dmm_studio import vvalue as vv
    from dmm_studio.matrix import canonical_state

    text = _file_with_matrix({**SELF_ROW, **extra})
    net = loads_network(text)
    w = json.loads(text)["outputs"]["self"]["self"]["network_matrix"]
    assert net.matrix == vv.from_json(w)
    assert net.outputs == canonical_state(net.outputs)
    assert (net.matrix == w) is kept


@pytest.mark.parametrize(
    "leaf, what",
    [
        (True, "is not a V-value"),
        ("x", "is not a V-value"),
        (10**400, "float64"),
    ],
)
def test_weights_that_are_not_numbers_are_refused_as_before(leaf, what):
    w = {**SELF_ROW, "identity": {"a": {"single": {"identity": {"b": {"single": leaf}}}}}}
    with pytest.raises(NetworkFileError, match=what) as e:
        loads_network(_file_with_matrix(w))
    assert "network_matrix/identity/a/single/identity/b/single" in str(e.value).replace(".", "/")


def test_an_unknown_type_in_a_regular_matrix_is_named():
    w = {**SELF_ROW, "identity": {"a": {"single": {"nosuch.type": {"b": {"single": 1}}}}}}
    with pytest.raises(NetworkFileError, match="unknown neuron type 'nosuch.type'"):
        loads_network(_file_with_matrix(w))
