"""What the matrix says is what the user sees: entries of W that are no weight
(a number above the sixth level, a tensor or a map in a weight's place) make
no neuron active, are skipped by the down movement, and are reported once by
path; both engines agree."""

from __future__ import annotations

import warnings

import pytest
import torch

from dmm_studio.engine.reference import NotAWeightWarning
from dmm_studio.matrix import matrix_neurons, not_weights
from dmm_studio.network import Network, self_accum_row
from dmm_studio.vvalue import add, equal

ENGINES = [("reference", {}), ("compiled", {}), ("compiled", {"threshold": 0})]


def writes(fragment, extra=None) -> Network:
    """identity/frag holds ``fragment`` (a constant) and feeds Self's delta:
    the fragment is added to W every step. identity/c counts on beside it."""
    w = add(
        self_accum_row(),
        {"identity": {"frag": {"single": {"identity": {"frag": {"single": 1}}}}}},
        {"self": {"self": {"delta": {"identity": {"frag": {"single": 1}}}}}},
        {
            "accum": {
                "c": {"accum": {"accum": {"c": {"single": 1}}}, "delta": {"identity": {"one": {"single": 1}}}}
            }
        },
        {"identity": {"one": {"single": {"identity": {"one": {"single": 1}}}}}},
        extra or {},
    )
    return Network(
        outputs={
            "self": {"self": {"network_matrix": w}},
            "identity": {"frag": {"single": fragment}, "one": {"single": 1}},
        }
    )


CASES = {
    "a number above the sixth level": ({"foo": {"word": 1.25}}, "foo/word"),
    "a tensor in a weight's place": (
        {"identity": {"a": {"single": {"identity": {"b": {"single": torch.ones(2)}}}}}},
        "identity/a/single/identity/b/single",
    ),
    "a map in a weight's place": (
        {"identity": {"a": {"single": {"identity": {"b": {"single": {"deeper": 2}}}}}}},
        "identity/a/single/identity/b/single",
    ),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("engine, kw", ENGINES)
def test_an_entry_that_is_no_weight_makes_nothing_active_and_is_reported_once(case, engine, kw):
    fragment, where = CASES[case]
    m = writes(fragment).machine(engine=engine, **kw)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        m.step(6)  # today: foo/word is active, "unknown neuron type 'foo'"
    assert m.output("accum", "c", "single") == {":number": 6}
    active = m.active()
    assert (
        ("foo", "word") not in active and ("identity", "a") not in active and ("identity", "b") not in active
    )
    ours = [str(w.message) for w in caught if issubclass(w.category, NotAWeightWarning)]
    assert len([s for s in ours if f"at {where}," in s]) == 1, ours
    assert "is no weight" in ours[0]


def test_the_down_movement_skips_them_and_both_engines_agree():
    """identity/b reads identity/x through a real weight, and the same fragment
    puts a tensor in another of b's rows: every engine computes what it
    computes without that entry."""
    extra = {"identity": {"x": {"single": {"identity": {"x": {"single": 1}}}}}}
    good = {"identity": {"b": {"single": {"identity": {"x": {"single": 2}}}}}}
    junk = {"identity": {"b": {"other": {"identity": {"x": {"single": torch.ones(3)}}}}}}
    outs = []
    for frag in (good, add(good, junk)):
        for engine, kw in ENGINES:
            net = writes(frag, extra)
            net.outputs["identity"]["x"] = {"single": 5}
            m = net.machine(engine=engine, **kw)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m.step(4)
            assert m.output("identity", "b", "other") == {}
            state = m.state
            del state["self"]
            del state["identity"]["frag"]
            outs.append(state)
    assert outs[0]["identity"]["b"] == {"single": {":number": 30}}  # 2 * 3 copies of the fragment * 5
    for s in outs[1:]:
        assert equal(s, outs[0])


def test_not_weights_lists_every_kind_by_path():
    w = {
        "foo": {"word": 1.25},
        ":x": {"a": 1},
        "identity": {
            "a": {"single": {"identity": {"b": {"single": torch.ones(2), "ok": 3}}}},
            "c": {"in": {"identity": {"d": 4}}},
        },
    }
    paths = [p for p, _ in not_weights(w)]
    assert paths == [
        ("foo", "word"),
        (":x",),
        ("identity", "a", "single", "identity", "b", "single"),
        ("identity", "c", "in", "identity", "d"),
    ]
    assert list(matrix_neurons(w)) == [("identity", "a"), ("identity", "b")]


def test_the_cli_reports_it_in_one_line_and_runs_on(tmp_path, capsys):
    from dmm_studio.cli import main
    from dmm_studio.fileformat import save_network

    f = tmp_path / "w.dmm.json"
    save_network(writes({"foo": {"word": 1.25}}), f)  # clean: W gets foo/word as it runs
    assert main(["run", str(f), "--steps", "5", "--engine", "reference"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "warning: the network matrix holds a number at foo/word" in err, err
