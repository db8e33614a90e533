"""V-value algebra: SPEC §1 vectors, the vector-space laws, tensors, JSON."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dmm_studio import vvalue as vv
from dmm_studio.vvalue import VValueError, add, canon, max_norm, mult_mask, scale

T = {"a": 1, "b": 2, "c": {"a": 1, "b": 2, "c": {"x": 1, "y": 3}}}


# ------------------------------------------------------------ SPEC vectors
def test_spec_vectors():
    assert add({"a": 1, "b": {"c": 2}}, {"a": -1, "b": {"c": -2}}) == {}
    assert add({"a": 3}, {"a": {"x": 1}}) == {"a": {"x": 1, ":number": 3}}
    assert scale(2, {"a": 0, "b": {}, "c": 1}) == {"c": 2}
    assert mult_mask({"c": 7}, T) == {"c": {"a": 7, "b": 14, "c": {"x": 7, "y": 21}}}


def test_talk_example_is_canonical():
    v = {":number": 3.5, "foo": {":number": 2, "bar": 7}, "baz": {"foo": {"bar": -4}}}
    assert canon(v) == v
    assert max_norm(v) == 7


def test_canonical_forms():
    assert canon(5) == {":number": 5}
    assert canon({}) == {}
    assert canon({"c": {":number": 2}}) == {"c": 2}
    assert canon({"c": {":number": 0, "d": {}}}) == {}
    assert canon({"a": {"b": {"c": 0}}, "d": 1}) == {"d": 1}
    assert add(1, 2) == {":number": 3}
    assert add({":number": 1}, {":number": -1}) == {}


def test_mult_mask_rules():
    # map x map recurses; a key missing in v is dropped
    assert mult_mask({"a": {"x": 2}, "q": 5}, {"a": {"x": 3, "y": 4}}) == {"a": {"x": 6}}
    # number x map scales the whole subtree (scalars under :number included)
    assert mult_mask({"a": 2}, {"a": {":number": 1, "x": 3}}) == {"a": {":number": 2, "x": 6}}
    # map x number is 0
    assert mult_mask({"a": {"x": 1}}, {"a": 5}) == {}
    # number x number multiplies, zeros removed
    assert mult_mask({":number": 3}, {":number": 2}) == {":number": 6}
    assert mult_mask({"a": 1e-200}, {"a": 1e-200}) == {}


def test_operations_do_not_mutate():
    a = {"a": {"x": 1}, "b": 2}
    b = {"a": {"x": -1}, "c": 3}
    snapshot = (repr(a), repr(b))
    add(a, b)
    scale(3, a)
    mult_mask(a, b)
    vv.set_in(a, ("a", "y"), 4)
    assert (repr(a), repr(b)) == snapshot


def test_max_norm():
    assert max_norm({}) == 0
    assert max_norm({"a": -9, "b": {"c": 4}}) == 9
    assert max_norm({"t": torch.tensor([1.0, -5.0])}) == 5.0


def test_reserved_keys_are_checked():
    with pytest.raises(VValueError, match="undefined reserved key ':foo'"):
        canon({"a": {":foo": 1}})
    with pytest.raises(VValueError, match="at a: .:number. holds the string"):
        canon({"a": {":number": "x"}})
    with pytest.raises(VValueError, match="not a V-value"):
        canon({"a": [1, 2]})


def test_set_in():
    w = {"a": {"b": 1}}
    assert vv.set_in(w, ("a", "c"), 2) == {"a": {"b": 1, "c": 2}}
    assert vv.set_in(w, ("a", "b"), 0) == {}
    assert vv.set_in({"a": 3}, ("a", "x"), 1) == {"a": {":number": 3, "x": 1}}


# ------------------------------------------------------------ tensors
def test_tensor_leaves_add_and_scale():
    t = torch.ones(2, 2)
    v = add({"img": t}, {"img": t})
    assert torch.equal(v["img"], 2 * t)
    mixed = add({"a": 1}, {":tensor": t})
    assert mixed["a"] == 1 and torch.equal(mixed[":tensor"], t)
    both = add(3, {":tensor": t})
    assert both[":number"] == 3 and torch.equal(both[":tensor"], t)
    assert scale(0, {"img": t}) == {}
    assert torch.equal(scale(-2, {"img": t})["img"], -2 * t)


def test_tensor_shape_mismatch_names_the_path():
    with pytest.raises(VValueError) as e:
        add({"a": {"img": torch.ones(2, 2)}}, {"a": {"img": torch.ones(3)}})
    assert "a/img" in str(e.value) and "[2, 2]" in str(e.value) and "[3]" in str(e.value)


def test_tensor_json_round_trip():
    v = {"img": torch.arange(6, dtype=torch.float32).reshape(2, 3), "n": 2}
    j = vv.to_json(v)
    assert j["img"] == {":tensor": {"shape": [2, 3], "dtype": "float32", "data": [0, 1, 2, 3, 4, 5]}}
    back = vv.from_json(j)
    assert vv.equal(back, v)


@pytest.mark.parametrize(
    "bad, message",
    [
        ({":tensor": {"shape": [2, 2], "data": [1, 2, 3]}}, "needs 4"),
        ({":tensor": {"shape": [2], "dtype": "complex", "data": [1, 2]}}, "dtype"),
        ({":tensor": {"shape": "2", "data": [1, 2]}}, "shape"),
        ({":tensor": {"shape": [1], "data": ["x"]}}, "data\\[0\\]"),
        ({"a": math.inf}, "not a finite number"),
        ({"a": math.nan}, "not a finite number"),
        ({"a": True}, "boolean"),
        ({"a": None}, "null"),
        ({"a": "s"}, "string"),
        ({":bogus": 1}, "reserved"),
    ],
)
def test_from_json_refuses(bad, message):
    with pytest.raises(VValueError, match=message):
        vv.from_json(bad)


# ------------------------------------------------------------ the laws
labels = st.sampled_from(["a", "b", "c", "d"])
small = st.integers(min_value=-4, max_value=4)


def _trees(depth: int) -> st.SearchStrategy:
    if depth == 0:
        return small
    return st.one_of(
        small, st.dictionaries(st.one_of(labels, st.just(":number")), _trees(depth - 1), max_size=4)
    )


def _is_valid(v) -> bool:
    try:
        canon(v)
        return True
    except VValueError:
        return False


vvalues = st.dictionaries(labels, _trees(3), max_size=4).filter(_is_valid).map(canon)
scalars = st.integers(min_value=-5, max_value=5)


@settings(max_examples=300, deadline=None)
@given(vvalues, vvalues)
def test_add_commutes(a, b):
    assert add(a, b) == add(b, a)


@settings(max_examples=300, deadline=None)
@given(vvalues, vvalues, vvalues)
def test_add_associates(a, b, c):
    assert add(add(a, b), c) == add(a, add(b, c))


@settings(max_examples=200, deadline=None)
@given(vvalues)
def test_zero_and_inverse(v):
    assert add(v, {}) == v
    assert add(v, scale(-1, v)) == {}
    assert scale(1, v) == v
    assert scale(0, v) == {}


@settings(max_examples=300, deadline=None)
@given(scalars, vvalues, vvalues)
def test_scale_distributes_over_add(c, a, b):
    assert scale(c, add(a, b)) == add(scale(c, a), scale(c, b))


@settings(max_examples=200, deadline=None)
@given(scalars, scalars, vvalues)
def test_scalars_distribute(c, d, v):
    assert scale(c + d, v) == add(scale(c, v), scale(d, v))
    assert scale(c * d, v) == scale(c, scale(d, v))


@settings(max_examples=200, deadline=None)
@given(vvalues)
def test_results_are_canonical(v):
    for r in (v, add(v, v), scale(3, v), mult_mask(v, v)):
        assert canon(r) == r
        assert all(leaf != 0 for _, leaf in vv.leaves(r))


@settings(max_examples=200, deadline=None)
@given(vvalues)
def test_json_round_trip(v):
    assert vv.from_json(vv.to_json(v)) == v


def test_an_empty_mask_lets_nothing_through():
    # regression: mult_mask({}, v) raised TypeError (found by the compiled engine's tests)
    assert mult_mask({}, {"a": 1}) == {}
    assert mult_mask({"a": {}}, {"a": 1}) == {}
