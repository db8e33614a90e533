"""Probes: each kind of stream gets the view that suits it, with the right data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from inspect_nets import counter_with_frames, registry

from dmm_studio.fileformat import load_network
from dmm_studio.gui.inspect import brief
from dmm_studio.gui.inspect.fastviews import FastBars, FastImage, FastPlot
from dmm_studio.gui.inspect.inspector import Inspector
from dmm_studio.gui.inspect.views import BarsView, HeatMapView, ImageView, ScalarPlotView, TreeView, classify
from dmm_studio.recorder import ProbeSpec

pytestmark = pytest.mark.gui
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture
def running(qtbot):
    """An inspector tapped onto the counter-with-frames machine (stepped by hand)."""
    insp = Inspector(fps=30)
    insp.timer.stop()  # frames are drawn by the test
    m = counter_with_frames().machine(registry=registry())
    insp.attach_engine(m.engine)
    panel = insp.probes
    qtbot.addWidget(panel)
    panel.resize(900, 700)
    panel.show()
    yield insp, m
    insp.tap.detach()


def test_classify_picks_a_view_per_stream():
    assert classify({}) == "plot"
    assert classify({":number": 2}) == "plot"
    assert classify({":tensor": torch.ones(1)}) == "plot"
    assert classify({"a": 1, "b": {"c": 2}}) == "bars"
    assert classify({":tensor": torch.ones(3, 4)}) == "image"
    assert classify({":tensor": torch.ones(3, 4, 3)}) == "image"
    assert classify({":tensor": torch.ones(5)}) == "heatmap"
    assert classify({":tensor": torch.ones(2, 4, 5)}) == "heatmap"
    assert classify({"a": 1, "img": torch.ones(2, 2)}) == "tree"


COMPACT = {"plot": FastPlot, "image": FastImage, "heatmap": FastImage, "bars": FastBars, "tree": TreeView}
ZOOM = {
    "plot": ScalarPlotView,
    "image": ImageView,
    "heatmap": HeatMapView,
    "bars": BarsView,
    "tree": TreeView,
}


@pytest.mark.parametrize("zoom", [False, True], ids=["compact", "pyqtgraph"])
def test_each_kind_of_probe_shows_its_data(running, qtbot, zoom):
    insp, m = running
    ws = {
        "scalar": insp.add_probe(ProbeSpec("accum", "count", "single", zoom=zoom)),
        "image": insp.add_probe(ProbeSpec("test.frame", "f", "image", zoom=zoom)),
        "cube": insp.add_probe(ProbeSpec("test.frame", "f", "cube", zoom=zoom)),
        "words": insp.add_probe(ProbeSpec("test.frame", "f", "words", zoom=zoom)),
        "mixed": insp.add_probe(ProbeSpec("test.frame", "f", "mixed", zoom=zoom)),
    }
    qtbot.waitUntil(lambda: all(w.isVisible() for w in ws.values()))
    m.step(30)
    insp.frame()
    kinds = {"scalar": "plot", "image": "image", "cube": "heatmap", "words": "bars", "mixed": "tree"}
    assert {k: w.kind for k, w in ws.items()} == kinds
    classes = ZOOM if zoom else COMPACT
    for k, w in ws.items():
        assert type(w.current_view()) is classes[kinds[k]], k
    # scalar: the counter's whole run, t = 0..30, value = t
    x, y = ws["scalar"].current_view().data()
    assert list(x) == list(range(31)) and list(y) == list(range(31))
    # image: exactly the tensor the neuron emitted at t = 30 (its tick was 29)
    img = ws["image"].current_view()
    expected = m.output("test.frame", "f", "image")[":tensor"].numpy()
    assert img.array.shape == (24, 32)
    np.testing.assert_allclose(img.array, expected)
    # other tensors: a heat map folded to 2-D
    heat = ws["cube"].current_view()
    assert heat.array.shape == (4, 6)
    np.testing.assert_allclose(
        heat.array.reshape(-1), m.output("test.frame", "f", "cube")[":tensor"].numpy().reshape(-1)
    )
    # a word-count vector: the top coordinates by value, labelled by the words
    bars = ws["words"].current_view()
    words = m.output("test.frame", "f", "words")
    top = sorted(words.items(), key=lambda kv: -kv[1])
    assert [v for _, v in bars.shown] == [v for _, v in top[: len(bars.shown)]]
    assert {w for w, _ in bars.shown} <= set(words)
    assert len(bars.shown) >= 5
    if zoom:
        labels = bars.axis.tickStrings([float(i) for i in range(len(bars.shown))], 1, 1)
        assert labels == [w for w, _ in bars.shown]
    # a mixed value: an expandable tree with values
    tree = ws["mixed"].current_view()
    assert tree.value_text(("count",)) == "29"
    assert tree.value_text(("sub", "b")) == "-2"
    assert tree.value_text(("img",)).startswith("tensor[2x2]")
    # the header shows the value in brief
    assert ws["scalar"].value.text().strip() == "t = 30: 30"
    # every view paints (grab renders it) without error
    for w in ws.values():
        assert not w.grab().isNull()


def test_compact_views_draw_what_they_show(qtbot, tmp_path):
    """Pixels: the compact bars are blue for positive, red for negative values;
    the compact image is gray, row 0 on top."""
    import torch as _t

    bars = FastBars()
    qtbot.addWidget(bars)
    bars.resize(300, 200)
    bars.show()
    bars.show_value({"up": 5, "down": -5})
    img = bars.grab().toImage()
    colors = {img.pixelColor(x, y).name() for x in range(0, 300, 3) for y in range(0, 40, 2)}
    assert "#1f77b4" in colors and "#d62728" in colors
    im = FastImage()
    qtbot.addWidget(im)
    im.resize(200, 220)
    im.show()
    a = _t.zeros(10, 10)
    a[:5] = 1.0  # top half white
    im.show_tensor(a)
    g = im.grab().toImage()
    assert g.pixelColor(100, 60).lightness() > 240 and g.pixelColor(100, 140).lightness() < 15


def test_input_probe_sees_what_the_step_computed(qtbot):
    insp = Inspector()
    insp.timer.stop()
    m = load_network(EXAMPLES / "waves.dmm.json").machine()
    insp.attach_engine(m.engine)
    w = insp.add_probe(ProbeSpec("self", "self", "delta", side="input"))
    qtbot.addWidget(insp.probes)
    insp.probes.show()
    qtbot.waitUntil(w.isVisible)
    m.step(2)
    insp.frame()
    # during step 2, Self's delta row read update-2's output
    assert w.buf.latest() == (2, m.output("identity", "update-2", "single"))
    assert w.kind == "bars"
    insp.tap.detach()


def test_auto_view_keeps_its_kind_through_zero(qtbot):
    from dmm_studio.gui.inspect.views import ProbeWidget
    from dmm_studio.recorder import ProbeBuffer

    buf = ProbeBuffer(ProbeSpec("data.text_reader", "reader", "token"))
    w = ProbeWidget(buf)
    qtbot.addWidget(w)
    buf.append(1, {"the": 1})
    w.refresh()
    assert w.kind == "bars"
    buf.append(2, {})  # between words: zero, still a (sparse) vector
    w.refresh()
    assert w.kind == "bars"
    assert w.current_view().shown == []


def test_user_can_pick_another_view(running, qtbot):
    insp, m = running
    w = insp.add_probe(ProbeSpec("test.frame", "f", "image"))
    qtbot.waitUntil(w.isVisible)
    m.step(3)
    insp.frame()
    w.combo.setCurrentText("heatmap")
    assert w.kind == "heatmap"
    w.combo.setCurrentText("tree")
    assert w.kind == "tree"
    assert insp.probe_layout() == {"test.frame/f": [{"port": "image", "view": "tree"}]}


def test_sixteen_probes_at_once_and_only_changed_ones_redraw(running, qtbot):
    insp, m = running
    outputs = [("test.frame", "f", o) for o in ("image", "cube", "words", "mixed")]
    outputs += [
        ("accum", "count", "single"),
        ("identity", "one", "single"),
        ("self", "self", "network_matrix"),
    ]
    inputs = [("accum", "count", "accum"), ("accum", "count", "delta"), ("test.frame", "f", "tick")]
    inputs += [("self", "self", "accum"), ("self", "self", "delta"), ("identity", "one", "single")]
    for f, n, o in outputs:
        insp.add_probe(ProbeSpec(f, n, o))
    for f, n, i in inputs:
        insp.add_probe(ProbeSpec(f, n, i, side="input"))
    for k in range(3):  # outputs nobody writes read as 0, and are shown as such
        insp.add_probe(ProbeSpec("accum", f"absent{k}", "single"))
    assert len(insp.probes.widgets) == 16
    qtbot.waitUntil(lambda: all(w.isVisible() for w in insp.probes.widgets.values()))
    m.step(5)
    insp.frame()
    before = {k: w.frames for k, w in insp.probes.widgets.items()}
    insp.frame()  # nothing new: nothing redrawn
    assert {k: w.frames for k, w in insp.probes.widgets.items()} == before
    m.step(1)
    insp.frame()
    assert all(w.frames == before[k] + 1 for k, w in insp.probes.widgets.items())


def test_probes_are_kept_in_the_layout_and_survive_save_and_load(tmp_path, qtbot):
    insp = Inspector()
    insp.timer.stop()
    qtbot.addWidget(insp.probes)
    net = load_network(EXAMPLES / "counter.dmm.json")
    insp.add_probe(ProbeSpec("accum", "count", "single"))
    insp.add_probe(ProbeSpec("accum", "count", "delta", side="input", view="tree"))
    insp.save_probes(net.layout)
    assert net.layout["accum/count"]["probes"] == [
        {"port": "single"},
        {"port": "delta", "side": "input", "view": "tree"},
    ]
    net.save(tmp_path / "c.dmm.json")
    back = load_network(tmp_path / "c.dmm.json")
    other = Inspector()
    other.timer.stop()
    qtbot.addWidget(other.probes)
    specs = other.load_probes(back.layout)
    assert [s.key for s in specs] == ["accum/count/single", "accum/count/delta (input)"]
    assert other.probes.widgets["accum/count/delta (input)"].mode == "tree"
    # removing a probe removes it from the layout
    insp.remove_probe("accum/count/single")
    insp.save_probes(net.layout)
    assert net.layout["accum/count"]["probes"] == [{"port": "delta", "side": "input", "view": "tree"}]


def test_probe_spec_parsing():
    assert ProbeSpec.parse("accum/count/single") == ProbeSpec("accum", "count", "single")
    assert ProbeSpec.parse("self/self/delta:in").side == "input"
    with pytest.raises(ValueError, match="TYPE/NAME/OUTPUT"):
        ProbeSpec.parse("accum/count")


def test_brief_hover_text():
    assert brief({}) == "0"
    assert brief({":number": 3.5}) == "3.5"
    assert brief({"a": 1, "b": {"c": 2.5}}) == "{a: 1, b/c: 2.5}"
    long = brief({f"w{i}": i for i in range(1, 40)})
    assert long.endswith("(+31 more)}") and len(long) < 120
    assert brief({":tensor": torch.zeros(3, 4)}) == "tensor[3x4] float32 0..0"
