"""A list of 10,000 items (20,000 levels) shows in a probe: in brief, as
bars (the largest coordinates, paths built for those only) and as a tree."""

from __future__ import annotations

import pytest

from dmm_studio.gui.inspect.brief import brief, top_coordinates
from dmm_studio.gui.inspect.fastviews import FastBars
from dmm_studio.gui.inspect.inspector import Inspector
from dmm_studio.gui.inspect.views import BarsView, TreeView, classify
from dmm_studio.recorder import ProbeSpec

pytestmark = pytest.mark.gui
N = 10_000
LIST = ProbeSpec("data.cons", "l", "list")


def deep_list(n: int) -> dict:
    v: dict = {}
    for i in range(n):
        v = {"head": float(i + 1), "tail": v} if v else {"head": 1.0}
    return v


def test_the_views_show_a_list_of_10000_items(qtbot):
    v = deep_list(N)
    assert classify(v) == "bars"
    assert brief(v, 60).startswith("{head: 1e+04, tail/head: 9999,")
    assert brief(v, 60).endswith(f", … (+{N - 4} more)}}")
    n, top = top_coordinates(v, 3)
    assert n == N and [x for _, x in top] == [float(N), float(N - 1), float(N - 2)]
    assert top[2][0] == "tail/tail/head"
    bars = FastBars()
    qtbot.addWidget(bars)
    bars.show_value(v)
    assert bars.total == N and bars.shown[0] == ("head", float(N))
    slow = BarsView()
    qtbot.addWidget(slow)
    slow.show_value(v)
    assert slow.shown[0] == ("head", float(N))
    tree = TreeView()
    qtbot.addWidget(tree)
    tree.show_value(v)
    assert tree._count == TreeView.MAX_ITEMS
    assert tree.value_text(("tail", "head")) == "9999"


def test_a_probe_on_a_long_list_draws(qtbot):
    insp = Inspector()
    insp.timer.stop()
    qtbot.addWidget(insp.probes)
    insp.probes.resize(900, 700)
    insp.probes.show()
    qtbot.waitExposed(insp.probes)
    probe = insp.add_probe(LIST)
    insp.recorder.start(0, {"data.cons": {"l": {"list": deep_list(2)}}})
    insp.recorder.on_step(1, {"data.cons": {"l": {"list": deep_list(N)}}})
    qtbot.wait(1)
    insp._tick()
    qtbot.waitUntil(lambda: not insp._pending, timeout=10_000)
    assert probe.problem is None
    assert probe.value.text().strip().startswith("t = 1:")
