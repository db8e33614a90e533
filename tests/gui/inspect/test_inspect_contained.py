"""Probes never take each other down: a value one probe cannot draw, record
or export is a short note in that probe's place, and every other probe goes
on drawing; an image exports as the live view shows it (one function)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dmm_studio.gui.inspect.export import export_movie, frames_uint8
from dmm_studio.gui.inspect.fastviews import FastBars, FastImage
from dmm_studio.gui.inspect.inspector import Inspector
from dmm_studio.gui.inspect.scaling import to_uint8
from dmm_studio.recorder import ProbeBuffer, ProbeSpec, Recorder

pytestmark = pytest.mark.gui
W = {"accum": {"count": {"delta": {"identity": {"one": {"single": 1}}}}}}
EMPTY = ProbeSpec("test.x", "e", "img")
WORDS = ProbeSpec("test.x", "w", "words")
COUNT = ProbeSpec("accum", "count", "single")


def state(t: int) -> dict:
    return {
        "self": {"self": {"network_matrix": W}},
        "accum": {"count": {"single": {":number": t}}},
        "test.x": {"e": {"img": {":tensor": torch.zeros(0, 5)}}, "w": {"words": {"a": t, "b": -t}}},
    }


@pytest.fixture
def insp(qtbot):
    i = Inspector()
    i.timer.stop()  # frames drawn by hand: the timer's own path (_tick)
    qtbot.addWidget(i.probes)
    i.probes.resize(900, 700)
    i.probes.show()
    qtbot.waitExposed(i.probes)
    yield i


def tick(qtbot, insp: Inspector, t: int) -> None:
    insp.recorder.on_step(t, state(t))
    qtbot.wait(1)  # (laid out: the probes on screen are the ones drawn)
    insp._tick()
    qtbot.waitUntil(lambda: not insp._pending, timeout=3000)


def test_an_empty_tensor_is_said_and_every_other_probe_keeps_drawing(insp, qtbot):
    empty, count = insp.add_probe(EMPTY), insp.add_probe(COUNT)
    insp.recorder.start(0, state(0))
    for t in range(1, 4):
        tick(qtbot, insp, t)
        assert count.value.text().strip().startswith(f"t = {t}:")
        assert empty.value.text().strip().startswith(f"t = {t}:")
    view = empty.current_view()
    assert isinstance(view, FastImage) and view._text == "an empty tensor [0, 5]"
    assert empty.problem is None
    # the pyqtgraph view says so too
    empty.zoom.setChecked(True)
    assert "an empty tensor [0, 5]" in empty.current_view().note.text()


def test_a_view_that_fails_is_a_note_in_its_place_and_the_others_go_on(insp, qtbot, monkeypatch):
    def boom(self, v):
        raise RuntimeError("this view is broken")

    monkeypatch.setattr(FastBars, "show_value", boom)
    words, count = insp.add_probe(WORDS), insp.add_probe(COUNT)
    insp.recorder.start(0, state(0))
    for t in range(1, 4):
        tick(qtbot, insp, t)
        assert count.value.text().strip().startswith(f"t = {t}:")
        assert (
            words.value.text().strip()
            == f"t = {t}: cannot show this value: RuntimeError: this view is broken"
        )
    assert words.problem == "cannot show this value: RuntimeError: this view is broken"
    monkeypatch.undo()  # fixed: the next value draws again, and the note goes
    tick(qtbot, insp, 4)
    assert words.problem is None and "a: 4" in words.value.text()


def test_a_self_view_that_fails_says_why_and_the_probes_go_on(insp, qtbot, monkeypatch):
    from dmm_studio.gui.inspect.selfview import SelfView

    def boom(self, *a, **k):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(SelfView, "set_matrix", boom)
    count = insp.add_probe(COUNT)
    insp.recorder.start(0, state(0))
    for t in range(1, 4):
        tick(qtbot, insp, t)
        assert count.value.text().strip().startswith(f"t = {t}:")
        assert insp.self_view.info.text() == f"t = {t}: cannot show W: ZeroDivisionError: division by zero"


def test_a_probe_that_cannot_be_recorded_says_so_and_the_others_go_on(insp, qtbot):
    words, count = insp.add_probe(WORDS), insp.add_probe(COUNT)
    insp.recorder.start(0, state(0))

    def boom(*a, **k):
        raise ValueError("cannot keep this")

    words.buf.append = boom  # (this probe's buffer only)
    for t in range(1, 4):
        tick(qtbot, insp, t)
        assert count.value.text().strip().startswith(f"t = {t}:")
    assert words.buf.error == "ValueError: cannot keep this"
    assert "cannot record: ValueError: cannot keep this" in words.value.text()
    assert insp.recorder.t == 3 and insp.recorder.history.span() == (0, 3)


def test_errors_recorded_in_the_engine_reach_the_studios_copy(qtbot):
    engine_side, studio_side = Recorder(), Recorder()
    for r in (engine_side, studio_side):
        r.add_probe(WORDS)
        r.add_probe(COUNT)
    engine_side.start(0, state(0))
    engine_side.probes[WORDS.key].append = lambda *a, **k: 1 / 0
    engine_side.on_step(1, state(1))
    packet = engine_side.packet()
    assert packet["errors"] == {WORDS.key: "ZeroDivisionError: division by zero"}
    studio_side.ingest(1, state(1), packet)
    assert studio_side.probes[WORDS.key].error == "ZeroDivisionError: division by zero"
    assert studio_side.probes[COUNT.key].error is None
    assert studio_side.probes[COUNT.key].latest() == (1, {":number": 1})


def image_buffer(*arrays: np.ndarray) -> ProbeBuffer:
    buf = ProbeBuffer(ProbeSpec("test.x", "i", "img"))
    for t, a in enumerate(arrays, start=1):
        buf.append(t, {":tensor": torch.from_numpy(a)})
    return buf


def test_export_scales_images_as_the_live_view_does(qtbot, tmp_path):
    imageio = pytest.importorskip("imageio.v2")
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    a[0, 0] = np.inf  # one +Inf pixel made the whole export black (255 / inf)
    b = a.copy()
    b[1, 1], b[2, 2] = np.nan, -np.inf
    buf = image_buffer(a, b)
    frames = frames_uint8(buf)
    for x, f in zip((a, b), frames, strict=True):
        u8 = to_uint8(x)[0]
        np.testing.assert_array_equal(f, u8)  # one function for the view and the export
        assert f.max() == 255 and f[0, 0] == 255  # +Inf is white, the finite range spans 0..255
        assert f[0, 1] == 0 and f[2, 3] == 255  # the smallest finite value black, the largest white
    assert frames[1][1, 1] == 0 and frames[1][2, 2] == 0  # NaN and -Inf are black
    # the live view draws those very pixels
    view = FastImage()
    qtbot.addWidget(view)
    view.show_tensor(torch.from_numpy(b))
    img = view._image
    drawn = np.array([[img.pixelIndex(x, y) for x in range(4)] for y in range(3)], dtype=np.uint8)
    np.testing.assert_array_equal(drawn, frames[1])
    # and the GIF holds them
    assert export_movie(buf, tmp_path / "i.gif") == 2
    gif = imageio.mimread(tmp_path / "i.gif")
    first = gif[0][..., 0] if gif[0].ndim == 3 else gif[0]
    np.testing.assert_array_equal(first, frames[0])


def test_export_of_a_probe_with_only_empty_frames_says_so(tmp_path):
    buf = image_buffer(np.zeros((0, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="no image frames"):
        export_movie(buf, tmp_path / "e.gif")
