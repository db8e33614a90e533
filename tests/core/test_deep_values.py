"""Deep and long V-values (issue 11): every walk over a V-value handles depth
10,000 without RecursionError, and a data.cons list with no length limit fed
every step goes past 10,000 steps (it failed at step 988).

Files stay capped at 100 levels when they are read (jsonio.MAX_DEPTH); a
value built at run time may nest any depth.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings

from dmm_studio import vvalue as vv
from dmm_studio.fileformat import TraceWriter
from dmm_studio.host.protocol import dumps, loads
from dmm_studio.limits import leaves_and_bytes
from dmm_studio.network import Network
from dmm_studio.nonfinite import NonFiniteWatch, first_non_finite
from tests.core.test_vvalue import vvalues

DEPTH = 20_000  # a list of 10,000 items: {"head": x, "tail": {...}} is two levels an item


def deep_list(n: int, item: float = 1.5) -> dict:
    """A V-value list of ``n`` items built without canon (as a file or a neuron might)."""
    v: dict = {}
    for _ in range(n):
        v = {"head": item, "tail": v} if v else {"head": item}
    return v


def test_every_operation_walks_20000_levels():
    v = deep_list(DEPTH // 2)
    w = deep_list(DEPTH // 2, item=-1.5)
    assert vv.equal(vv.canon(v), v)
    assert vv.size(v) == DEPTH // 2 and vv.max_norm(v) == 1.5
    assert vv.add(v, w) == {} and vv.equal(vv.add(v, v), vv.scale(2, v))
    assert vv.equal(vv.mult_mask(v, v), vv.scale(1.5, v))
    assert vv.equal(vv._wrap(vv.lin_comb(v, v)), {":number": 1.5 * 1.5 * DEPTH // 2})
    assert not vv.has_negative_leaf(v) and vv.has_negative_leaf(w)
    paths = list(vv.leaves(v))
    assert len(paths) == DEPTH // 2 and paths[-1][0] == ("tail",) * (DEPTH // 2 - 1) + ("head",)
    assert vv.equal(vv.from_json(vv.to_json(v)), v)
    path = ("tail",) * DEPTH
    assert vv.get_in(vv.set_in(v, path, 7), path) == 7
    assert leaves_and_bytes(v) == (DEPTH // 2, 0)
    assert first_non_finite(v) is None


def test_errors_inside_a_deep_value_name_the_path():
    v = deep_list(500)  # 1,000 levels: past the recursive part of every walk
    bad = vv.set_in(v, ("tail",) * 499 + ("x",), 1)
    bad_node = bad
    for _ in range(499):
        bad_node = bad_node["tail"]
    bad_node["x"] = "oops"  # a string where a number goes (built, not edited: bad is new)
    with pytest.raises(vv.VValueError) as e:
        vv.canon(bad)
    assert e.value.path == ("tail",) * 499 + ("x",)
    a = vv.set_in({}, ("k",) * 300, torch.zeros(2))
    b = vv.set_in({}, ("k",) * 300, torch.zeros(3))
    with pytest.raises(vv.VValueError) as e:
        vv.add(a, b)
    assert e.value.path == ("k",) * 300


@settings(max_examples=150, deadline=None)
@given(vvalues, vvalues)
def test_the_stack_walks_agree_with_the_recursive_ones(a, b):
    """With ``_DEEP`` at -1 every walk takes its stack twin from the root."""
    want = (
        vv.canon(a),
        vv.add(a, b),
        vv.scale(3, a),
        vv.mult_mask(a, b),
        vv._wrap(vv.lin_comb(vv.canon(a), vv.canon(b))),
    )
    old = vv._DEEP
    vv._DEEP = -1
    try:
        got = (
            vv.canon(a),
            vv.add(a, b),
            vv.scale(3, a),
            vv.mult_mask(a, b),
            vv._wrap(vv.lin_comb(vv.canon(a), vv.canon(b))),
        )
    finally:
        vv._DEEP = old
    assert got == want


def test_the_memo_does_not_trust_a_dict_whose_entries_were_replaced():
    v = vv.canon(deep_list(300))
    assert vv.scan(v).leaves == 300
    v["extra"] = 1.0  # against the rules (V-values are not edited in place), and seen
    assert vv.scan(v).leaves == 301
    v["head"] = float("nan")
    assert not vv.scan(v).finite


def test_a_deep_state_travels_to_the_studio_and_into_a_trace(tmp_path):
    v = deep_list(DEPTH // 2)
    msg = ("frame", {"state": {"data.cons": {"l": {"list": v, "x": {":tensor": torch.ones(2)}}}}})
    back = loads(dumps(msg))
    assert vv.equal(back[1]["state"]["data.cons"]["l"]["list"], v)
    with TraceWriter(tmp_path / "t.jsonl") as tw:
        tw.write(1, {"data.cons": {"l": {"list": v}}})
    line = (tmp_path / "t.jsonl").read_text()
    assert line.startswith('{"outputs":{"data.cons":{"l":{"list":{"head":1.5,"tail":{')
    assert line.count('"head":1.5') == DEPTH // 2 and line.endswith('},"step":1}\n')
    small = deep_list(3)
    with TraceWriter(tmp_path / "s.jsonl") as tw:
        tw.write(1, {"data.cons": {"l": {"list": small}}})
    assert json.loads((tmp_path / "s.jsonl").read_text())["outputs"]["data.cons"]["l"]["list"] == small


def cons_network(max_length: int = 0) -> Network:
    w = {
        "self": {"self": {"accum": {"self": {"self": {"network_matrix": 1}}}}},
        "data.cons": {
            "l": {
                "item": {"identity": {"one": {"single": 1}}},
                "list": {"data.cons": {"l": {"list": 1}}},
            }
        },
        "identity": {"one": {"single": {"identity": {"one": {"single": 1}}}}},
    }
    return Network(
        outputs={"self": {"self": {"network_matrix": w}}, "identity": {"one": {"single": 1}}},
        params={"data.cons": {"l": {"max_length": max_length}}},
    )


def test_a_list_with_no_limit_grows_past_10000_steps():
    """It stopped at step 988 with 'maximum recursion depth exceeded'. The run
    has the CLI's checks: the size bounds before each step, NaN/Inf after it."""
    m = cons_network().machine()
    watch = NonFiniteWatch()
    for _ in range(10_001):
        m.step()
        assert watch.check(m.t, m.engine.state_view()) is None
    assert m.output("data.cons", "l", "length") == {":number": 10_001}
    lst = m.output("data.cons", "l", "list")
    assert vv.size(lst) == 10_001 and vv.get_in(lst, ("tail",) * 10_000 + ("head",)) == 1


def test_the_compiled_engine_carries_a_deep_list():
    m = cons_network().machine(engine="compiled", threshold=0)
    assert type(m.engine.inner).__name__ == "CompiledEngine"
    m.step(1_200)
    assert m.output("data.cons", "l", "length") == {":number": 1200.0}
    assert vv.size(m.output("data.cons", "l", "list")) == 1200


def test_a_limited_list_keeps_its_limit():
    m = cons_network(max_length=5).machine()
    m.step(12)
    assert m.output("data.cons", "l", "length") == {":number": 5}
    assert vv.size(m.output("data.cons", "l", "list")) == 5


def test_the_checks_of_a_step_share_one_walk_of_each_output(monkeypatch):
    """The size bounds (before a step), the engine's check of exact integers
    (in it) and the NaN/Inf check (after it) ask vvalue.scan, which walks each
    new output once and remembers the answer for the other two."""
    from dmm_studio.fileformat import load_network

    m = load_network(Path(__file__).resolve().parents[2] / "examples" / "waves.dmm.json").machine(
        engine="reference"
    )
    walks = []
    real = vv.scan

    def counting(v):
        if type(v) is dict and vv.memo.get(v, "scan") is None and vv.recent.get(v, "scan") is None:
            walks.append(id(v))
        return real(v)

    import dmm_studio.engine.reference as reference
    import dmm_studio.nonfinite as nonfinite

    for mod in (vv, reference, nonfinite):  # (limits calls vv.scan)
        monkeypatch.setattr(mod, "scan", counting)
    m.step(2)
    m.non_finite()
    walks.clear()
    for _ in range(10):
        m.step()
        assert m.non_finite() is None
    outputs = sum(len(outs) for names in m.state.values() for outs in names.values())
    assert len(walks) == len(set(walks))  # no output walked twice
    assert len(walks) <= 10 * outputs
