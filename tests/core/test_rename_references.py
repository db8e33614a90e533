"""Renaming a neuron renames the references to it inside matrix-valued
outputs and params (issue 11): the fragments that feed Self's delta (the
waves), matrix.patch fragments (live_edit), matrix.summary's row."""

from __future__ import annotations

from pathlib import Path

from dmm_studio import vvalue as vv
from dmm_studio.fileformat import load_network
from dmm_studio.matrix import is_fragment, matrix_neurons, rename_references

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def wave_reader(m) -> str:
    return next(iter(m.matrix["self"]["self"]["delta"]["identity"]))


def test_the_wave_goes_on_through_a_renamed_neuron():
    """Renaming identity/update-2 stopped the wave: the fragments held by the
    other update neurons still named update-2."""
    net = load_network(EXAMPLES / "waves.dmm.json")
    before = net.machine()
    changes = net.rename_neuron("identity", "update-2", "u2")
    assert {(k, nid) for k, nid, *_ in changes} == {
        ("output", ("identity", "update-1")),
        ("output", ("identity", "u2")),
    }
    after = net.machine()
    for _ in range(9):
        before.step()
        after.step()
        want = wave_reader(before)
        assert wave_reader(after) == ("u2" if want == "update-2" else want)
    assert ("identity", "update-2") not in matrix_neurons(after.matrix)


def test_live_edit_patches_the_renamed_counter_not_a_stray_neuron():
    net = load_network(EXAMPLES / "live_edit.dmm.json")
    before = net.machine()
    net.rename_neuron("accum", "count", "counter")
    after = net.machine()
    before.step(70)
    after.step(70)
    assert ("accum", "count") not in matrix_neurons(after.matrix)
    assert vv.equal(after.output("accum", "counter", "single"), before.output("accum", "count", "single"))
    assert vv.equal(after.output("accum", "total", "single"), before.output("accum", "total", "single"))


def test_summary_rows_and_running_machines_follow_a_rename():
    net = load_network(EXAMPLES / "live_edit.dmm.json")
    net.add_neuron("matrix.summary", "s")
    net.set_param("matrix.summary", "s", "row", "accum/count/delta")
    m = net.machine()
    m.step(2)
    m.rename_neuron("accum", "count", "counter")
    assert m.engine.params["matrix.summary"]["s"]["row"] == "accum/counter/delta"
    frag = m.engine.params["matrix.patch"]["faster"]["fragment"]
    assert "counter" in frag["accum"] and "count" not in frag["accum"]
    m.step(40)
    assert ("accum", "count") not in matrix_neurons(m.matrix)
    net.rename_neuron("accum", "count", "c2")
    assert net.param("matrix.summary", "s", "row") == "accum/c2/delta"


def test_only_fragments_and_port_strings_are_touched():
    word_counts = {"accum": {"count": 3}}  # a V-value, not a piece of matrix
    assert rename_references(word_counts, "accum", "count", "c") is word_counts
    assert not is_fragment(word_counts) and not is_fragment({"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}})
    assert rename_references("accum/count", "accum", "count", "c") == "accum/count"
    frag = {"accum": {"x": {"delta": {"accum": {"count": {"single": 2}}}}}}
    assert rename_references(frag, "accum", "count", "c") == {
        "accum": {"x": {"delta": {"accum": {"c": {"single": 2}}}}}
    }
    assert frag["accum"]["x"]["delta"]["accum"] == {"count": {"single": 2}}  # not changed in place


def test_restore_references_undoes_a_rename_exactly():
    net = load_network(EXAMPLES / "waves.dmm.json")
    outputs = vv.canon(net.outputs)
    changes = net.rename_neuron("identity", "update-2", "u2")
    net.rename_neuron("identity", "u2", "update-2", references=False)
    back = ("identity", "update-2")
    net.restore_references([(k, back if nid == ("identity", "u2") else nid, key, b, a) for k, nid, key, b, a in changes])
    assert vv.equal(net.outputs, outputs)
