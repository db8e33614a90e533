"""API edits validate like the loader (issue 11): what ``Network`` and
``Machine`` accept, a file holds; what they refuse, they refuse with one
line (``EditError``, a ``NetworkFileError``) before changing anything."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dmm_studio.designcheck import EditError
from dmm_studio.fileformat import dumps_network, loads_network
from dmm_studio.jsonio import NetworkFileError
from dmm_studio.network import Network

W = ("accum", "a", "delta")
F = ("identity", "b", "single")


def roundtrip(net: Network) -> Network:
    return loads_network(dumps_network(net))


def refused(fn, *args, match: str) -> EditError:
    with pytest.raises(EditError, match=match) as info:
        fn(*args)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("cannot ")
    assert isinstance(info.value, NetworkFileError) and isinstance(info.value, ValueError)
    return info.value


# ------------------------------------------------------------ the named cases


def test_set_param_on_an_unknown_type_is_refused():
    net = Network.empty()
    e = refused(net.set_param, "nope", "a", "x", 1, match="unknown neuron type 'nope'")
    assert e.json_path == ("params", "nope")
    assert net.params == {}


def test_set_param_undeclared_is_refused_naming_the_declared_ones():
    net = Network.empty()
    refused(net.set_param, "arith.tanh", "t", "zzz", 1, match=r"has no param 'zzz' \(its params: gain\)")
    refused(net.set_param, "accum", "a", "gain", 1, match="its params: none")
    assert net.params == {}


@pytest.mark.parametrize("x", [math.nan, math.inf, -math.inf, 2**1100])
def test_non_finite_values_are_refused(x):
    net = Network.empty()
    refused(net.set_param, "arith.tanh", "t", "gain", x, match="finite|float64")
    refused(net.set_param, "arith.tanh", "t", "gain", [1, {"k": x}], match="finite|float64")
    refused(net.set_weight, W, F, x, match="finite|float64")
    refused(net.set_output, "identity", "b", "single", {"k": x}, match="finite|float64")
    assert roundtrip(net) == Network.empty()


def test_a_param_that_is_not_json_is_refused_and_a_tuple_kept_as_a_list():
    net = Network.empty()
    refused(net.set_param, "arith.tanh", "t", "gain", object(), match="not JSON data")
    net.set_param("data.cons", "c", "max_length", (2, 3))
    assert net.param("data.cons", "c", "max_length") == [2, 3]
    assert roundtrip(net) == net


@pytest.mark.parametrize("bad", ["", "nope", "a/b"])
def test_set_weight_naming_a_type_the_loader_refuses(bad):
    net = Network.empty()
    before = net.matrix
    refused(net.set_weight, (bad, "a", "x"), F, 1, match=f"unknown neuron type {bad!r}")
    refused(net.set_weight, W, (bad, "b", "y"), 1, match=f"unknown neuron type {bad!r}")
    refused(net.set_weights, [(W, F, 1), (W, (bad, "b", "y"), 1)], match="unknown neuron type")
    assert net.matrix is before  # nothing changed, not even the good first weight


def test_set_weight_with_a_reserved_key_or_not_a_number():
    net = Network.empty()
    refused(net.set_weight, ("accum", "a", ":x"), F, 1, match="':x' starts with ':'")
    refused(net.set_weight, W, ("accum", "a", ":number"), 1, match="starts with ':'")
    refused(net.set_weight, ("accum", ":tensor", "x"), F, 1, match="starts with ':'")
    refused(net.set_weight, W, F, True, match="a weight must be a number")
    refused(net.set_weight, W, F, "1", match="a weight must be a number")
    net.set_weight(("nope", "a", "x"), F, 0)  # removing nothing is no fault


def test_set_output_refuses_unknown_types_and_bad_matrices():
    net = Network.empty()
    refused(net.set_output, "nope", "a", "x", 1, match="unknown neuron type 'nope'")
    w = dict(net.matrix)
    refused(net.set_matrix, {**w, "nope": {"a": {"x": {"identity": {"b": {"single": 1}}}}}}, match="'nope'")
    refused(net.set_matrix, {**w, "accum": 3}, match="a number where neuron names belong")
    assert net == Network.empty()


def test_layout_edits_refuse_what_the_layout_cannot_hold():
    net = Network.empty()
    refused(net.set_pos, "nope", "a", (0, 0), match="unknown neuron type 'nope'")
    refused(net.set_pos, "accum", "", (0, 0), match="non-empty string")
    refused(net.set_pos, "accum", "a", (math.nan, 0), match="finite")
    refused(net.add_neuron, "nope", "a", (0, 0), match="unknown neuron type")
    refused(net.add_neuron, "accum", ":a", None, match="starts with ':'")
    refused(net.add_neuron, "accum", ":number", None, match="starts with ':'")
    refused(net.set_ports, "nope", "a", {"inputs": ["x"]}, match="unknown neuron type")
    refused(net.set_probes, {"noslash": [{}]}, match="unknown neuron type 'noslash'")
    refused(net.set_layout_entry, "accum", "a", {"pos": [0, math.inf]}, match="finite")
    net.add_neuron("accum", "a", (1, 2))
    refused(net.rename_neuron, "accum", "a", "", match="non-empty string")
    assert net.has_neuron("accum", "a") and not net.has_neuron("accum", "")
    assert roundtrip(net) == net


def test_machine_live_edits_validate_like_the_loader():
    net = Network.empty()
    net.set_weight(W, F, 1)
    m = net.machine()
    refused(m.set_param, "accum", "a", "zzz", 1, match="has no param 'zzz'")
    refused(m.set_param, "nope", "a", "x", 1, match="unknown neuron type")
    refused(m.set_weight, ("", "a", "x"), F, 1, match="unknown neuron type ''")
    refused(m.set_weight, W, F, math.nan, match="finite")
    refused(m.edit_weight, W, F, math.inf, match="finite")
    refused(m.set_output, "identity", "b", "single", math.nan, match="finite")
    refused(m.set_output, "nope", "b", "single", 1, match="unknown neuron type")
    refused(m.edit_matrix, {"nope": {"a": {"x": {"identity": {"b": {"single": 1}}}}}}, match="'nope'")
    m.edit_matrix({"accum": {"a": {"delta": {"identity": {"b": {"single": 1.7e308}}}}}})
    refused(m.edit_matrix, {"accum": {"a": {"delta": {"identity": {"b": {"single": 1.7e308}}}}}}, match="sum")
    refused(m.rename_neuron, "accum", "a", "", match="non-empty string")
    refused(m.set_fields, [{"name": "f"}], match="field")
    snap = m.snapshot()
    assert roundtrip(snap) == snap


# ------------------------------------------------------------ the property

TYPES = ["accum", "identity", "arith.tanh", "data.cons", "", "nope", "a/b"]
NAMES = ["a", "b", "", ":x", "x y", "/", "c/d"]
PORTS = ["single", "delta", "", ":number", ":q", "p"]
PARAMS = ["gain", "max_length", "zzz", ""]
NUMBERS = st.one_of(
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.just(2**1100),
    st.just(True),
)
VALUES = st.recursive(
    st.one_of(NUMBERS, st.none(), st.text(max_size=3)),
    lambda c: st.one_of(
        st.lists(c, max_size=3), st.dictionaries(st.sampled_from(["k", ":number", ":x", "w"]), c, max_size=3)
    ),
    max_leaves=6,
)
nids = st.tuples(st.sampled_from(TYPES), st.sampled_from(NAMES))
ports = st.tuples(st.sampled_from(TYPES), st.sampled_from(NAMES), st.sampled_from(PORTS))
points = st.tuples(NUMBERS, NUMBERS)
EDITS = st.one_of(
    st.tuples(st.just("set_param"), nids, st.sampled_from(PARAMS), VALUES),
    st.tuples(st.just("clear_param"), nids, st.sampled_from(PARAMS)),
    st.tuples(st.just("set_weight"), ports, ports, NUMBERS),
    st.tuples(st.just("set_weights"), st.lists(st.tuples(ports, ports, NUMBERS), max_size=3)),
    st.tuples(st.just("set_output"), ports, VALUES),
    st.tuples(st.just("set_pos"), nids, points),
    st.tuples(st.just("add_neuron"), nids, st.one_of(st.none(), points)),
    st.tuples(st.just("remove_neuron"), nids),
    st.tuples(st.just("rename_neuron"), nids, st.sampled_from(NAMES)),
    st.tuples(st.just("set_ports"), nids, st.lists(st.sampled_from(PORTS), max_size=2)),
)


def apply(net: Network, edit: tuple) -> None:
    op, *args = edit
    if op == "set_param":
        (f, n), p, v = args
        net.set_param(f, n, p, v)
    elif op == "clear_param":
        (f, n), p = args
        net.clear_param(f, n, p)
    elif op == "set_weight":
        net.set_weight(*args)
    elif op == "set_weights":
        net.set_weights(args[0])
    elif op == "set_output":
        (f, n, o), v = args
        net.set_output(f, n, o, v)
    elif op == "set_pos":
        (f, n), xy = args
        net.set_pos(f, n, xy)
    elif op == "add_neuron":
        (f, n), xy = args
        net.add_neuron(f, n, xy)
    elif op == "remove_neuron":
        net.remove_neuron(*args[0])
    elif op == "rename_neuron":
        (f, n), new = args
        net.rename_neuron(f, n, new)
    elif op == "set_ports":
        (f, n), ps = args
        net.set_ports(f, n, {"inputs": ps})


def equal_design(a: Network, b: Network) -> bool:
    return dumps_network(a) == dumps_network(b)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(EDITS, max_size=8))
def test_every_edit_the_network_accepts_saves_and_reloads_equal(edits):
    net = Network.empty()
    for edit in edits:
        try:
            apply(net, edit)
        except EditError as e:
            assert "\n" not in str(e)
        except ValueError as e:  # the API's own refusals: Self, a name taken
            assert "Self" in str(e) or "already a neuron" in str(e)
    back = roundtrip(net)
    assert back == net and equal_design(back, net)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("set_param"), nids, st.sampled_from(PARAMS), VALUES),
            st.tuples(st.just("set_weight"), ports, ports, NUMBERS),
            st.tuples(st.just("edit_weight"), ports, ports, NUMBERS),
            st.tuples(st.just("set_output"), ports, VALUES),
            st.tuples(st.just("rename_neuron"), nids, st.sampled_from(NAMES)),
        ),
        max_size=6,
    )
)
def test_every_live_edit_the_machine_accepts_leaves_a_snapshot_that_reloads(edits):
    net = Network.empty()
    net.set_weight(W, F, 1)
    m = net.machine(engine="reference")
    for op, *args in edits:
        try:
            if op == "set_param":
                (f, n), p, v = args
                m.set_param(f, n, p, v)
            elif op in ("set_weight", "edit_weight"):
                getattr(m, op)(*args)
            elif op == "set_output":
                (f, n, o), v = args
                m.set_output(f, n, o, v)
            else:
                (f, n), new = args
                m.rename_neuron(f, n, new)
        except EditError as e:
            assert "\n" not in str(e)
    snap = m.snapshot()
    back = roundtrip(snap)
    assert equal_design(back, snap)
