"""Faults a newcomer found in the CLI: inputs overwritten, Ctrl+C and full-disk
tracebacks, wrong option names, unbounded --steps, unclear sweep errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dmm_studio.cli import MAX_STEPS, build_parser, main
from dmm_studio.engine import DEFAULT_ENGINE
from dmm_studio.machine import Machine

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def counter(tmp_path):
    f = tmp_path / "counter.dmm.json"
    f.write_bytes((EXAMPLES / "counter.dmm.json").read_bytes())
    return f


def _one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


# ---- A: an output option naming the input file


@pytest.mark.parametrize("how", ["same path", "symlink", "another spelling"])
def test_trace_onto_the_network_file_is_refused(counter, tmp_path, capsys, how):
    before = counter.read_bytes()
    trace = {
        "same path": counter,
        "symlink": tmp_path / "link.jsonl",
        "another spelling": tmp_path / "." / "counter.dmm.json",
    }[how]
    if how == "symlink":
        trace.symlink_to(counter)
    assert main(["run", str(counter), "--steps", "3", "--trace", str(trace)]) == 2
    err = _one_line(capsys.readouterr().err)
    assert "--trace" in err and "input file" in err
    assert counter.read_bytes() == before


def test_screenshot_onto_the_network_file_is_refused(counter, capsys):
    before = counter.read_bytes()
    assert main(["open", str(counter), "--screenshot", str(counter)]) == 2
    assert "--screenshot" in _one_line(capsys.readouterr().err)
    assert counter.read_bytes() == before


def test_sweep_out_that_would_overwrite_its_spec_is_refused(tmp_path, capsys):
    spec = json.loads((EXAMPLES / "field_population.sweep.json").read_text())
    net = EXAMPLES / spec["network"]
    spec["network"] = str(net)
    f = tmp_path / "runs.csv"  # a spec named like the sweep's output, in the --out folder
    f.write_text(json.dumps(spec))
    before = f.read_bytes()
    assert main(["sweep", str(f), "--out", str(tmp_path), "--in-process"]) == 2
    err = _one_line(capsys.readouterr().err)
    assert "would overwrite the input file" in err
    assert f.read_bytes() == before


# ---- E: Ctrl+C during run


def test_ctrl_c_during_run_keeps_the_summary_and_a_valid_trace(counter, tmp_path, capsys, monkeypatch):
    real_step = Machine.step

    def step(self, *a, **k):
        if self.t == 3:
            raise KeyboardInterrupt
        real_step(self, *a, **k)

    monkeypatch.setattr(Machine, "step", step)
    trace = tmp_path / "t.jsonl"
    try:
        status = main(["run", str(counter), "--steps", "10", "--trace", str(trace), "--engine", "reference"])
    except KeyboardInterrupt:
        pytest.fail("Ctrl+C escaped the run command (a traceback, no summary)")
    assert status == 130
    captured = capsys.readouterr()
    assert "interrupted at step 3" in _one_line(captured.err)
    assert "3 steps in" in captured.out  # the summary so far
    assert [json.loads(line)["step"] for line in trace.read_text().splitlines()] == [1, 2, 3]


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process")
def test_sigint_to_the_console_script(counter, tmp_path):
    trace = tmp_path / "t.jsonl"
    p = subprocess.Popen(
        [sys.executable, "-m", "dmm_studio.cli", "run", str(counter), "--steps", str(MAX_STEPS)]
        + ["--trace", str(trace), "--engine", "reference"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while (not trace.exists() or trace.stat().st_size < 20000) and time.monotonic() < deadline:
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "interrupted at step" in _one_line(err)
    steps = [json.loads(line)["step"] for line in trace.read_text().splitlines()]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) > 50  # 20,000 bytes: 80 lines
    assert f"{len(steps)} steps in" in out


# ---- F: a trace that cannot be written


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("steps", ["3", "5000"])  # fails at close / at a write
def test_trace_onto_a_full_disk_is_one_line(counter, steps):
    r = subprocess.run(
        [sys.executable, "-m", "dmm_studio.cli", "run", str(counter), "--steps", steps]
        + ["--trace", "/dev/full", "--engine", "reference"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1
    err = _one_line(r.stderr)  # no traceback, no "Exception ignored" when the file is collected
    assert "/dev/full" in err and "No space left on device" in err


# ---- G, M: option errors and --help


def test_negative_threads_names_threads(capsys):
    with pytest.raises(SystemExit) as e:
        main(["run", "x.dmm.json", "--steps", "3", "--threads", "-3"])
    assert e.value.code == 2
    err = _one_line(capsys.readouterr().err)
    assert "--threads" in err and "--steps" not in err


@pytest.mark.parametrize("command", ["run", "open"])
def test_steps_is_bounded(capsys, command):
    with pytest.raises(SystemExit) as e:
        main([command, "x.dmm.json", "--steps", "99999999999999999999999"])
    assert e.value.code == 2
    assert "--steps" in _one_line(capsys.readouterr().err)
    assert build_parser().parse_args(["run", "x", "--steps", str(MAX_STEPS)]).steps == MAX_STEPS


def test_engine_help_says_the_default_the_readme_says():
    run = build_parser()._subparsers._group_actions[0].choices["run"]  # type: ignore[union-attr]
    text = " ".join(run.format_help().split())
    assert f"(default: {DEFAULT_ENGINE}," in text and "fastest" not in text
    assert f"{MAX_STEPS:,}" in text  # the --steps bound is documented
    assert f"The {DEFAULT_ENGINE} engine (the default)" in README.read_text()


# ---- I: sweep's bad --out and a network file given as the spec


def test_sweep_out_that_is_a_file(tmp_path, capsys):
    f = tmp_path / "a-file"
    f.write_text("keep me")
    assert main(["sweep", str(EXAMPLES / "field_population.sweep.json"), "--out", str(f)]) == 2
    assert _one_line(capsys.readouterr().err) == f"dmm-studio: --out must be a folder: {f} is a file\n"
    assert f.read_text() == "keep me"


def test_sweep_of_a_network_file(tmp_path, capsys):
    assert main(["sweep", str(EXAMPLES / "counter.dmm.json"), "--out", str(tmp_path / "o")]) == 2
    err = _one_line(capsys.readouterr().err)
    assert "is a network file, not a sweep spec (*.sweep.json)" in err
    assert not (tmp_path / "o").exists()
