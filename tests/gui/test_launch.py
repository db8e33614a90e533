"""``dmm-studio`` / ``dmm-studio open FILE --screenshot OUT.png``: the studio's
entry point, its screenshot mode and its answers to bad input."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtGui import QImage

from dmm_studio.cli import build_parser
from dmm_studio.gui import launch

from ..conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.gui


def test_screenshot_mode_runs_steps_and_writes_a_png(tmp_path):
    out = tmp_path / "waves.png"
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}  # it sets offscreen itself
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dmm_studio.cli",
            "open",
            str(EXAMPLES / "waves.dmm.json"),
            "--steps",
            "3",
            "--screenshot",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    img = QImage(str(out))
    assert img.width() >= 800 and img.height() >= 600
    # not a blank image: the canvas's dark background and lighter panels both appear
    colors = {
        img.pixelColor(x, y).lightness() // 32
        for x in range(0, img.width(), 37)
        for y in range(0, img.height(), 41)
    }
    assert len(colors) >= 3


@pytest.mark.parametrize(
    "argv, says",
    [
        (["open", "no-such-file.dmm.json", "--screenshot", "x.png"], "no such file"),
        (["open", "README.md", "--screenshot", "x.png"], "not JSON"),
        (
            ["open", "examples/counter.dmm.json", "--engine", "nope", "--screenshot", "x.png"],
            "unknown engine",
        ),
        (["open", "examples/counter.dmm.json", "--screenshot", "/no/such/dir/x.png"], "cannot write"),
        (
            ["open", "examples/waves.dmm.json", "--probe", "bogus", "--screenshot", "x.png"],
            "--probe: a probe is TYPE/NAME/OUTPUT, not 'bogus'",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, says, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code = launch(build_parser().parse_args(argv))
    err = capsys.readouterr().err
    assert code == 2
    assert says in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_open_in_process_screenshot(qapp, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "counter.png"
    code = launch(
        build_parser().parse_args(
            ["open", "examples/counter.dmm.json", "--steps", "4", "--screenshot", str(out)]
        )
    )
    assert code == 0
    assert QImage(str(out)).width() > 0


def _runaway_counter(path) -> str:
    """A counter whose own weight is 1e300: its value is inf at step 3, where
    the NaN/Inf break (on by default) pauses the run."""
    from dmm_studio.network import Network

    net = Network.empty()
    net.add_neuron("identity", "one", pos=(-300.0, 0.0))
    net.add_neuron("accum", "count", pos=(0.0, 0.0))
    net.set_output("identity", "one", "single", 1)
    one = ("identity", "one", "single")
    net.set_weight(one, one, 1)
    net.set_weight(("accum", "count", "accum"), ("accum", "count", "single"), 1e300)
    net.set_weight(("accum", "count", "delta"), one, 1)
    net.save(path)
    return str(path)


def test_screenshot_of_a_run_a_break_pauses_is_taken_there(qapp, tmp_path, capsys):
    import time

    out = tmp_path / "runaway.png"
    file = _runaway_counter(tmp_path / "runaway.dmm.json")
    t0 = time.monotonic()
    code = launch(build_parser().parse_args(["open", file, "--steps", "10", "--screenshot", str(out)]))
    took = time.monotonic() - t0
    err = capsys.readouterr().err
    assert took < 60, took  # it waited for the 120 s timer before
    assert code == 0, err
    assert QImage(str(out)).width() > 0
    assert err.count("\n") == 1, err
    assert "stopped at step 3 of 10" in err and "break" in err, err


def test_screenshot_timeout_says_so_and_fails(tmp_path):
    # in a process of its own: the run it gives up on must not go on beside the other tests
    out = tmp_path / "counter.png"
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env["DMM_STUDIO_SCREENSHOT_TIMEOUT_S"] = "0.5"
    argv = ["open", "examples/counter.dmm.json", "--steps", "1000000000", "--screenshot", str(out)]
    proc = subprocess.run(
        [sys.executable, "-m", "dmm_studio.cli", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 4, proc.stderr  # EXIT_TIMEOUT
    assert "timed out after 0.5 s before step 1000000000" in proc.stderr, proc.stderr
    assert QImage(str(out)).width() > 0
