"""Every example in examples/ loads, runs 100 steps headless on every
registered engine, and does what its description claims."""

from __future__ import annotations

import importlib.util
import json
import math
from collections.abc import Callable

import pytest
import torch
from dmm_studio_nodes.data import list_items

from dmm_studio import vvalue as vv
from dmm_studio.engine import ENGINES
from dmm_studio.engine.base import matrix_neurons
from dmm_studio.fields import validate_fields
from dmm_studio.fileformat import dumps_network, load_network
from dmm_studio.machine import Machine
from tests.conftest import EXAMPLES

STEPS = 100
FILES = sorted(EXAMPLES.glob("*.dmm.json"))
ENGINE_NAMES = sorted(ENGINES)

_spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES / "make_examples.py")
make_examples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_examples)


def run(
    name: str, engine: str, each: Callable[[int, Machine], None] | None = None, steps: int = STEPS
) -> Machine:
    """Run an example ``steps`` steps; every leaf of the final state is finite."""
    m = load_network(EXAMPLES / f"{name}.dmm.json").machine(engine=engine)
    for s in range(1, steps + 1):
        m.step()
        if each is not None:
            each(s, m)
    assert m.t == steps
    for _, leaf in vv.leaves(m.state):
        if vv.is_tensor(leaf):
            assert bool(torch.isfinite(leaf).all())
        else:
            assert math.isfinite(leaf)
    return m


def num(v: dict) -> float:
    return v.get(":number", 0)


# ------------------------------------------------------------------ all examples


def test_there_are_the_library_examples():
    names = {f.name.removesuffix(".dmm.json") for f in FILES}
    assert set(make_examples.EXAMPLES) <= names
    assert {"counter", "waves"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_example_has_meta_and_a_layout(path):
    net = load_network(path)
    assert net.meta.get("title") and len(net.meta.get("description", "")) > 40
    validate_fields(net.fields)
    for f, n in matrix_neurons(net.matrix):
        assert f"{f}/{n}" in net.layout, f"{path.name}: {f}/{n} has no place on the canvas"


CLAIMED = {
    "counter": "test_counter_counts",
    "waves": "test_the_wave_moves",
    "duplicates": "test_the_detector_fires_on_each_repeat",
    "word_count": "test_word_counts_form_a_sparse_vector",
    "fuzzy_if": "test_fuzzy_if_blends_and_swings",
    "live_edit": "test_live_editing_speeds_up_and_grows_the_network",
    "reflection": "test_reflection_stops_its_own_growth",
    "softmax_images": "test_softmax_images_animate_and_stay_bounded",
    "sin_synthesis": "test_sin_synthesis_animates_within_one",
    "field_population": "test_the_field_makes_identical_units_diverge",
    "lightweight_pure": "test_lightweight_pure_rewrites_itself_and_stays_bounded",
    "live_play": "test_live_play_slider_pad_and_clicks_change_what_is_shown",
    # docs/learning.md: tests/learn holds what training them claims
    "duplicates_learn": "test_the_learning_start_is_dense_and_runs",
    "field_learn": "test_the_learning_population_drifts_with_its_field",
    "field_learn_nofield": "test_the_learning_population_drifts_with_its_field",
}


def test_every_example_has_its_claims_tested():
    """Each claims test runs its example 100 steps on every engine (see ``run``)."""
    for path in FILES:
        name = path.name.removesuffix(".dmm.json")
        assert name in CLAIMED, f"{path.name} has no test of what it claims"
        assert callable(globals()[CLAIMED[name]])


@pytest.mark.parametrize("name", sorted(make_examples.EXAMPLES))
def test_the_files_are_what_the_generator_writes(name):
    made = json.loads(dumps_network(make_examples.EXAMPLES[name]()))
    on_disk = json.loads((EXAMPLES / f"{name}.dmm.json").read_text(encoding="utf-8"))
    assert made == on_disk, f"run python examples/make_examples.py to refresh {name}.dmm.json"


# ------------------------------------------------------------------ claims


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_counter_counts(engine):
    m = run("counter", engine, steps=STEPS)
    assert num(m.output("accum", "count", "single")) == STEPS


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_the_wave_moves(engine):
    rows = []
    run(
        "waves",
        engine,
        lambda s, m: rows.append(sorted(vv.get_in(m.matrix, ("self", "self", "delta", "identity")))),
    )
    assert rows[:4] == [["update-2"], ["update-3"], ["update-1"], ["update-2"]]
    assert rows[99] == [["update-2"], ["update-3"], ["update-1"]][99 % 3]


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_the_detector_fires_on_each_repeat(engine):
    text = make_examples.DUPLICATES_TEXT
    fired = []
    m = run(
        "duplicates",
        engine,
        lambda s, m: fired.append(s) if num(m.output("arith.dot", "detector", "out")) else None,
    )
    # the reader emits character i at step i + 1; the detector compares it with the one before a step later
    expected = [i + 2 for i in range(1, len(text)) if text[i] == text[i - 1]]
    assert fired == expected and len(fired) == 7
    repeats = [label for item in list_items(m.output("data.cons", "repeats", "list")) for label in item]
    assert repeats == [text[i] for i in range(1, len(text)) if text[i] == text[i - 1]][::-1]
    assert repeats[::-1] == list("okeeete")


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_word_counts_form_a_sparse_vector(engine):
    m = run("word_count", engine)
    counts = m.output("data.word_count", "counts", "counts")
    assert counts == dict(make_examples.WORD_COUNTS)
    assert counts["the"] == 8 and counts["cat"] == 3
    assert num(m.output("data.word_count", "counts", "total")) == len(make_examples.WORDS_TEXT.split())


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_fuzzy_if_blends_and_swings(engine):
    results = []
    run("fuzzy_if", engine, lambda s, m: results.append(m.output("identity", "result", "single")))
    apples = []
    for s, r in enumerate(results[3:], start=4):
        assert r.get("apple", 0) + r.get("banana", 0) == pytest.approx(1.0)
        apples.append(r.get("apple", 0))
        # s = 0.5 + 0.5 sin(2 pi (step - 3) / 40): the clock is two wires away from the gates
        assert r.get("apple", 0) == pytest.approx(0.5 + 0.5 * math.sin(2 * math.pi * (s - 3) / 40), abs=1e-9)
    assert max(apples) > 0.99 and min(apples) < 0.01


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_live_editing_speeds_up_and_grows_the_network(engine):
    counts, totals, active = [], [], []

    def each(s, m):
        counts.append(num(m.output("accum", "count", "single")))
        totals.append(m.output("accum", "total", "single"))
        active.append(len(m.active()))

    run("live_edit", engine, each)
    steps = [b - a for a, b in zip(counts, counts[1:], strict=False)]
    assert set(steps[:30]) == {1.0} and set(steps[40:]) == {2.0}
    first_total = next(i for i, v in enumerate(totals) if v)
    assert 60 <= first_total <= 66
    assert active[50] + 1 == active[-1]
    assert num(totals[-1]) > num(totals[-2]) > 0


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_reflection_stops_its_own_growth(engine):
    weights, rows = [], []

    def each(s, m):
        weights.append(vv.get_in(m.matrix, ("accum", "count", "delta", "identity", "one", "single")))
        rows.append(m.output("matrix.summary", "mirror", "row"))

    m = run("reflection", engine, each)
    assert sorted(set(weights)) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert weights[-40:] == [5.0] * 40
    assert rows[-1] == {"identity": {"one": {"single": 5.0}}}
    assert num(m.output("matrix.summary", "mirror", "max_norm")) == 5.0
    assert num(m.output("matrix.summary", "mirror", "size")) == vv.size(m.matrix)


def frames(name: str, engine: str, *keys: tuple[str, str, str]) -> list[list[torch.Tensor]]:
    """The tensors of some outputs, step by step, from one run."""
    out: list[list] = [[] for _ in keys]

    def each(s, m):
        state = m.state
        for i, key in enumerate(keys):
            out[i].append((vv.get_in(state, key) or {}).get(":tensor"))

    run(name, engine, each)
    return out


def assert_animated(fs: list, first: int, lo: float, hi: float, shape: tuple[int, int]) -> None:
    assert all(f is not None for f in fs[first:])
    fs = fs[first:]
    assert fs[0].shape == shape
    for a, b in zip(fs, fs[1:], strict=False):
        assert float((a - b).abs().max()) > 1e-3, "two frames in a row are the same"
    assert min(float(f.min()) for f in fs) >= lo and max(float(f.max()) for f in fs) <= hi


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_softmax_images_animate_and_stay_bounded(engine):
    fs, prods = frames(
        "softmax_images", engine, ("synth.blend", "mix", "out"), ("synth.softmax_matmul", "product", "out")
    )
    assert_animated(fs, 4, 0.0, 1.0 + 1e-6, (32, 32))
    assert_animated(prods, 3, 0.0, 1.0, (32, 32))


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_sin_synthesis_animates_within_one(engine):
    (fs,) = frames("sin_synthesis", engine, ("synth.blend", "frame", "out"))
    assert_animated(fs, 3, -1.0, 1.0, (48, 48))


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_the_field_makes_identical_units_diverge(engine):
    def units(with_fields: bool) -> list[float]:
        net = load_network(EXAMPLES / "field_population.dmm.json")
        if not with_fields:
            net.fields = []
        m = net.machine(engine=engine)
        m.step(STEPS)
        return [num(m.output("synth.sin", f"u{i:02d}", "y")) for i in range(make_examples.POPULATION)]

    plain, modulated = units(False), units(True)
    assert max(plain) - min(plain) < 1e-9
    assert max(modulated) - min(modulated) > 0.5
    assert len({round(v, 6) for v in modulated}) >= make_examples.POPULATION - 1


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_lightweight_pure_rewrites_itself_and_stays_bounded(engine):
    signs = []
    fs = []

    def each(s, m):
        fs.append(m.output("synth.normalize", "M", "out")[":tensor"])
        signs.append(vv.get_in(m.matrix, ("synth.normalize", "M", "in", "synth.matmul", "product", "out")))

    run("lightweight_pure", engine, each)
    assert_animated(fs, 0, -1.0, 1.0, (make_examples.PURE_N, make_examples.PURE_N))
    assert max(float(f.abs().max()) for f in fs) == pytest.approx(1.0)
    a = make_examples.PURE_ALPHA
    assert {round(w, 9) for w in signs} == {-a, a}
    flips = [i for i in range(1, len(signs)) if signs[i] != signs[i - 1]]
    assert len(flips) >= 3 and all(
        b - a_ == make_examples.PURE_FLIP for a_, b in zip(flips, flips[1:], strict=False)
    )


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_the_learning_start_is_dense_and_runs(engine):
    """Every input of every block reads every output: ~1,500 weights."""
    net = load_network(EXAMPLES / "duplicates_learn.dmm.json")
    assert 1400 <= sum(1 for _ in net.wires()) <= 1600
    run("duplicates_learn", engine, steps=20)


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_the_learning_population_drifts_with_its_field(engine):
    """Without the field the units move in lockstep; with it they drift apart."""
    spread = {}
    for name in ("field_learn", "field_learn_nofield"):
        m = run(name, engine, steps=STEPS)
        ys = [num(m.output("identity", f"p{i:02d}", "single")) for i in range(12)]
        spread[name] = max(ys) - min(ys)
    assert spread["field_learn_nofield"] < 1e-9 < 0.05 < spread["field_learn"]


# ------------------------------------------------------------------ live_play


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_live_play_slider_pad_and_clicks_change_what_is_shown(engine: str) -> None:
    m = run("live_play", engine)  # untouched, 100 steps
    image = m.output("synth.sin", "rings", "y")[":tensor"].clone()
    assert tuple(image.shape) == (48, 48)
    m.step(1)
    assert torch.equal(image, m.output("synth.sin", "rings", "y")[":tensor"])  # still while untouched
    # the slider: its value comes out at the next step, the image changes at the one after
    m.set_param("live.slider", "freq", "value", 12.0)
    m.step(1)
    assert num(m.output("live.slider", "freq", "value")) == 12.0
    assert torch.equal(image, m.output("synth.sin", "rings", "y")[":tensor"])
    m.step(1)
    moved = m.output("synth.sin", "rings", "y")[":tensor"].clone()
    assert float((moved - image).abs().max()) > 0.5
    # the pad: its position is plotted, its x turns the phase
    m.set_param("live.xy", "pad", "x", 0.75)
    m.set_param("live.xy", "pad", "y", 0.125)
    m.step(3)  # pad -> where and phase -> sin
    assert m.output("identity", "where", "single") == {"x": 0.75, "y": 0.125}
    assert float((m.output("synth.sin", "rings", "y")[":tensor"] - moved).abs().max()) > 0.5
    # clicks, one a step, onto the list
    for point in ({"x": 0.5, "y": 0.25}, {"x": 0.125, "y": 0.875}):
        m.set_param_once("live.xy", "pad", "click", point)
    m.step(4)
    assert [dict(i) for i in list_items(m.output("data.cons", "clicks", "list"))] == [
        {"x": 0.125, "y": 0.875},
        {"x": 0.5, "y": 0.25},
    ]
    assert num(m.output("data.cons", "clicks", "length")) == 2
