"""Properties of the library's functions on random V-values (hypothesis)."""

from __future__ import annotations

from dmm_studio_nodes._util import dot, label_token, token_label
from dmm_studio_nodes.data import from_items, list_items
from dmm_studio_nodes.selfedit import fires
from hypothesis import given, settings
from hypothesis import strategies as st

from dmm_studio import vvalue as vv
from dmm_studio.registry import default_registry

REG = default_registry()
labels = st.sampled_from(["a", "b", "c", "d"])
numbers = st.integers(-5, 5).filter(bool)
vvalues = st.recursive(numbers, lambda inner: st.dictionaries(labels, inner, max_size=3), max_leaves=8).map(
    vv.canon
)


def call(type_id, params=None, **inputs):
    return REG.get(type_id).call(inputs, params)


@settings(max_examples=60, deadline=None)
@given(vvalues, vvalues)
def test_dot_is_symmetric_and_bilinear(a, b):
    assert dot(a, b) == dot(b, a)
    assert dot(vv.scale(3, a), b) == 3 * dot(a, b)
    assert dot(vv.add(a, b), a) == dot(a, a) + dot(b, a)
    assert dot(a, a) >= 0


@settings(max_examples=60, deadline=None)
@given(vvalues)
def test_relu_is_idempotent_and_keeps_the_positive_part(v):
    r = call("arith.relu", **{"in": v})["out"]
    assert call("arith.relu", **{"in": r})["out"] == r
    assert not vv.has_negative_leaf(r)
    neg = call("arith.relu", **{"in": vv.scale(-1, v)})["out"]
    assert vv.equal(vv.add(r, vv.scale(-1, neg)), v)


@settings(max_examples=60, deadline=None)
@given(vvalues, st.floats(0.1, 10))
def test_squeeze_bounds_and_keeps_small_values(v, limit):
    out = call("synth.normalize", {"limit": limit}, **{"in": v})["out"]
    assert vv.max_norm(out) <= limit * (1 + 1e-9)
    if vv.max_norm(v) <= limit:
        assert out == v


@settings(max_examples=60, deadline=None)
@given(st.lists(vvalues.filter(bool), max_size=6))
def test_lists_round_trip(items):
    assert list_items(from_items(items)) == items


@settings(max_examples=60, deadline=None)
@given(vvalues, st.floats(-2, 3))
def test_switch_splits_without_loss(v, s):
    out = call("arith.switch", **{"in": v, "select": {":number": s} if s else {}})
    assert vv.equal(vv.add(out["on"], out["off"]), v, tol=1e-9)


@given(st.text(min_size=1, max_size=5))
def test_every_token_is_a_label(tok):
    label = token_label(tok)
    assert not label.startswith(":") and label_token(label) == tok


@given(st.integers(0, 200), st.integers(0, 50), st.integers(0, 20))
def test_a_periodic_patch_fires_every_period_from_at(t, at, period):
    expected = t == at if period == 0 else (t >= at and (t - at) % period == 0)
    assert fires(t, at, period) == expected
