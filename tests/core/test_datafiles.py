"""Files as data: a network reads data files from its own folder only, unless
the user allows more (data.text_reader's path)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dmm_studio.cli import main
from dmm_studio.datafiles import FileAccessError, file_access, outside_paths, resolve_data_path
from dmm_studio.engine import StepError
from dmm_studio.fileformat import dumps_network, load_network

SECRET = "s3cret"


def reader_network(path: str) -> dict:
    """A text reader that reads ``path``: its first character comes out at step 1."""
    w = {
        "self": {"self": {"accum": {"self": {"self": {"network_matrix": 1}}}}},
        "data.text_reader": {"reader": {"t": {"identity": {"zero": {"single": 1}}}}},
    }
    return {
        "format": "dmm-studio/1",
        "outputs": {"self": {"self": {"network_matrix": w}}},
        "params": {"data.text_reader": {"reader": {"path": path}}},
    }


@pytest.fixture
def layout(tmp_path, monkeypatch):
    """tmp/net/ holds the network and its own words.txt; tmp/secret.txt is outside.
    The current directory is elsewhere, so relative paths must not follow it."""
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "words.txt").write_text("hello", encoding="utf-8")
    (tmp_path / "secret.txt").write_text(SECRET, encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "words.txt").write_text("WRONG", encoding="utf-8")
    monkeypatch.chdir(tmp_path / "elsewhere")
    return tmp_path


def write_net(folder: Path, path: str) -> Path:
    f = folder / "reader.dmm.json"
    f.write_text(json.dumps(reader_network(path)), encoding="utf-8")
    return f


@pytest.mark.parametrize("engine", ["reference", "compiled"])
def test_a_relative_path_is_read_from_the_network_files_folder(layout, engine):
    m = load_network(write_net(layout / "net", "words.txt")).machine(engine=engine)
    m.step()
    assert m.output("data.text_reader", "reader", "token") == {"h": 1}


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink"])
def test_a_path_out_of_the_folder_is_refused_by_the_cli_and_nothing_is_copied(layout, capsys, how):
    if how == "symlink":
        os.symlink(layout / "secret.txt", layout / "net" / "link.txt")
    path = {"dotdot": "../secret.txt", "absolute": str(layout / "secret.txt"), "symlink": "link.txt"}[how]
    net = write_net(layout / "net", path)
    trace = layout / "t.jsonl"
    assert main(["run", str(net), "--steps", "3", "--trace", str(trace)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "data.text_reader/reader" in err and "outside the network's folder" in err
    assert "--allow-outside-files" in err and repr(path) in err
    assert SECRET[0] not in trace.read_text()  # the trace holds no step


def test_the_user_may_allow_paths_outside(layout, capsys):
    net = write_net(layout / "net", "../secret.txt")
    trace = layout / "t.jsonl"
    assert main(["run", str(net), "--steps", "2", "--trace", str(trace), "--allow-outside-files"]) == 0
    first = json.loads(trace.read_text().splitlines()[0])
    assert first["outputs"]["data.text_reader"]["reader"]["token"] == {SECRET[0]: 1}


def test_the_machine_flag_allows_it_after_asking(layout):
    net = load_network(write_net(layout / "net", "../secret.txt"))
    # what the studio asks about before a run
    assert outside_paths(net.params, layout / "net") == [
        ("data.text_reader", "reader", "path", "../secret.txt")
    ]
    assert outside_paths(load_network(write_net(layout / "net", "words.txt")).params, layout / "net") == []
    m = net.machine(engine="reference")
    with pytest.raises(StepError, match="outside the network's folder"):
        m.step()
    assert m.t == 0
    m.allow_outside_files = True
    m.step()
    assert m.output("data.text_reader", "reader", "token") == {SECRET[0]: 1}
    # or on the network, before it goes to a runner (not saved with it)
    net.allow_outside_files = True
    m = net.copy().machine(engine="reference")
    m.step()
    assert m.output("data.text_reader", "reader", "token") == {SECRET[0]: 1}
    assert "allow" not in dumps_network(net)


def test_a_network_built_in_code_reads_from_the_current_directory(layout):
    assert resolve_data_path("words.txt") == (layout / "elsewhere" / "words.txt").resolve()
    with pytest.raises(FileAccessError):
        resolve_data_path("../secret.txt")
    with file_access(layout / "net"):
        assert resolve_data_path("words.txt") == (layout / "net" / "words.txt").resolve()
        with pytest.raises(FileAccessError):
            resolve_data_path(str(layout / "secret.txt"))
    with file_access(layout / "net", allow_outside=True):
        assert resolve_data_path("../secret.txt") == (layout / "secret.txt").resolve()
