"""The headless CLI: runs, traces, summaries, and bad input as status 2 with one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dmm_studio.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_run_waves_writes_the_wave(tmp_path, capsys):
    trace = tmp_path / "t.jsonl"
    assert (
        main(
            [
                "run",
                str(EXAMPLES / "waves.dmm.json"),
                "--steps",
                "12",
                "--trace",
                str(trace),
                "--engine",
                "reference",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert (
        "12 steps" in out and "4 active neurons" in out and "5 matrix non-zeros" in out and "steps/s" in out
    )
    rows = [json.loads(line) for line in trace.read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 13))
    readers = [
        next(iter(r["outputs"]["self"]["self"]["network_matrix"]["self"]["self"]["delta"]["identity"]))
        for r in rows
    ]
    assert readers == ["update-2", "update-3", "update-1"] * 4


def test_halting_is_reported(tmp_path, capsys):
    f = tmp_path / "h.dmm.json"
    f.write_text(
        json.dumps(
            {
                "format": "dmm-studio/1",
                "outputs": {
                    "self": {
                        "self": {
                            "network_matrix": {
                                "identity": {"a": {"single": {"identity": {"a": {"single": 1}}}}}
                            }
                        }
                    }
                },
            }
        )
    )
    assert main(["run", str(f), "--steps", "5", "--engine", "reference"]) == 0
    out = capsys.readouterr().out
    assert "halted" in out and "1 steps" in out


@pytest.mark.parametrize(
    "content, what",
    [
        ("not json", "not JSON"),
        ('{"format": "x"}', "unsupported format"),
        (
            '{"format": "dmm-studio/1", "outputs": {"self": {"self": {"network_matrix": {}}}, "zork": {}}}',
            "unknown neuron type 'zork'",
        ),
        (
            '{"format": "dmm-studio/1", "outputs": {"self": {"self": {"network_matrix": {"self": {"self": {"accum": {"self": {"self": {"network_matrix": NaN}}}}}}}}}}',
            "not a finite number",
        ),
        (
            '{"format": "dmm-studio/1", "outputs": {"self": {"self": {"network_matrix": {"self": {"self": {"accum": {"self": {"self": {"network_matrix": true}}}}}}}}}}',
            "not a V-value",
        ),
        (
            '{"format": "dmm-studio/1", "outputs": {"self": {"self": {"network_matrix": {":nope": 1}}}}}',
            "undefined reserved key",
        ),
        (
            '{"format": "dmm-studio/1", "outputs": {"self": {"self": {"network_matrix": {}}}, "identity": {"a": {"s": {":tensor": {"shape": [3], "data": [1]}}}}}}',
            "needs 3",
        ),
        ("[" * 50000 + "]" * 50000, "nesting is too deep"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, content, what):
    f = tmp_path / "bad.dmm.json"
    f.write_text(content)
    assert main(["run", str(f), "--steps", "3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(f) in err and what in err


def test_missing_file_and_bad_options(tmp_path, capsys):
    assert main(["run", str(tmp_path / "missing.dmm.json"), "--steps", "3"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["run", str(EXAMPLES / "counter.dmm.json"), "--steps", "3", "--engine", "warp"]) == 2
    assert "unknown engine 'warp'" in capsys.readouterr().err
    assert (
        main(
            [
                "run",
                str(EXAMPLES / "counter.dmm.json"),
                "--steps",
                "3",
                "--trace",
                str(tmp_path / "no" / "dir.jsonl"),
            ]
        )
        == 2
    )
    assert "cannot write the trace" in capsys.readouterr().err
    for argv in (["run", "x", "--steps", "-1"], ["run", "x", "--steps", "many"], ["run", "x"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2
        assert capsys.readouterr().err.count("\n") == 1


def test_console_script_never_prints_a_traceback(tmp_path):
    f = tmp_path / "bad.dmm.json"
    f.write_text('{"format": "dmm-studio/1", "outputs": []}')
    r = subprocess.run(
        [sys.executable, "-m", "dmm_studio.cli", "run", str(f), "--steps", "1"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1
    assert "$.outputs" in r.stderr


def test_progress_bar_only_when_asked(tmp_path, capsys):
    assert (
        main(
            [
                "run",
                str(EXAMPLES / "counter.dmm.json"),
                "--steps",
                "50",
                "--progress",
                "--engine",
                "reference",
            ]
        )
        == 0
    )
    assert "50/50" in capsys.readouterr().err  # tqdm's bar, at the total
    assert main(["run", str(EXAMPLES / "counter.dmm.json"), "--steps", "50", "--engine", "reference"]) == 0
    assert capsys.readouterr().err == ""  # not a terminal: no bar
