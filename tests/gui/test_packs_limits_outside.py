"""The studio's side of issue 11's guards: Help -> Neuron Packs lists the
packs, their types and the skipped ones with why; Run -> Limits shows and
changes the bounds (undoable, applied to a running machine at once); and the
studio asks before a network reads files outside its folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from dmm_studio.gui.limits_dialog import open_limits_dialog, set_limits
from dmm_studio.gui.packs_dialog import PacksDialog, open_packs_dialog, pack_rows
from dmm_studio.limits import Limits
from dmm_studio.registry import default_registry

pytestmark = pytest.mark.gui
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
START = 60_000


def test_the_packs_dialog_lists_loaded_and_skipped_packs(win, qtbot, monkeypatch):
    reg = default_registry()
    monkeypatch.setitem(reg.skipped, "brokenpack", "ImportError: No module named 'brokenpack_impl'")
    monkeypatch.setitem(reg.skipped_values, "brokenpack", "brokenpack_impl:types")
    rows = pack_rows(reg)
    assert rows[0] == ("brokenpack", "skipped", [], "ImportError: No module named 'brokenpack_impl'")
    builtin = next(r for r in rows if r[1] == "loaded")
    assert "accum" in builtin[2] and "data.cons" in builtin[2]
    assert "Neuron Packs" in win.actions_by_name and "Help" in win.menus
    win.actions_by_name["Neuron Packs"].trigger()
    dlg = win.packs_dialog
    assert isinstance(dlg, PacksDialog) and dlg.isVisible()
    item = dlg.items["brokenpack"]
    assert [item.text(c) for c in range(3)] == [
        "brokenpack",
        "skipped",
        "ImportError: No module named 'brokenpack_impl'",
    ]
    assert "brokenpack_impl:types" in item.toolTip(2)
    assert "1 skipped" in dlg.summary.text()
    dlg.close()
    assert open_packs_dialog(win).items  # opens again


def test_the_limits_dialog_shows_and_changes_the_bounds(win, qtbot):
    dlg = open_limits_dialog(win)
    assert dlg.limits() == Limits()
    dlg.boxes["max_active"].setChecked(False)
    dlg.spins["max_weights"].setValue(500)
    dlg.accept()
    assert win.doc.network.limits == {"max_weights": 500, "max_active": None}
    assert not win.doc.undo_stack.isClean()
    win.doc.undo_stack.undo()
    assert win.doc.network.limits == {}
    assert not set_limits(win, Limits())  # no change, no edit


def test_a_run_stopped_at_a_bound_goes_on_after_it_is_raised(win, qtbot):
    from dmm_studio.fileformat import load_network

    with qtbot.waitSignal(win.runner.stepped, timeout=START):
        win.open_network(load_network(EXAMPLES / "waves.dmm.json"), str(EXAMPLES / "waves.dmm.json"))
    win.step(3)
    qtbot.waitUntil(lambda: win.runner.t == 3, timeout=START)
    set_limits(win, Limits(max_weights=1))  # live: the running machine gets it at once
    with qtbot.waitSignal(win.runner.failed, timeout=10_000) as failed:
        win.step(1)
    assert "max_weights = 1" in failed.args[0] and "the step was not taken" in failed.args[0]
    assert win.runner.t == 3
    set_limits(win, Limits())
    win.step(2)
    qtbot.waitUntil(lambda: win.runner.t == 5, timeout=10_000)


def reader_network(tmp_path: Path, path: str) -> Path:
    w = {
        "self": {"self": {"accum": {"self": {"self": {"network_matrix": 1}}}}},
        "data.text_reader": {"r": {"t": {"time.clock": {"c": {"t": 1}}}}},
        "time.clock": {"c": {"tick": {"time.clock": {"c": {"t": 1}}}}},
    }
    f = tmp_path / "net" / "reader.dmm.json"
    f.parent.mkdir()
    f.write_text(
        json.dumps(
            {
                "format": "dmm-studio/1",
                "outputs": {"self": {"self": {"network_matrix": w}}},
                "params": {"data.text_reader": {"r": {"path": path}}},
            }
        )
    )
    return f


@pytest.mark.parametrize("answer", ["yes", "no"])
def test_the_studio_asks_before_reading_files_outside_the_folder(win, qtbot, tmp_path, monkeypatch, answer):
    secret = tmp_path / "secret.txt"
    secret.write_text("the secret words")
    f = reader_network(tmp_path, "../secret.txt")
    asked = []

    def question(parent, title, text, *a):
        asked.append(text)
        return QMessageBox.StandardButton.Yes if answer == "yes" else QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", question)
    monkeypatch.setattr(win, "asks_user", True)
    with qtbot.waitSignal(win.runner.stepped, timeout=START):
        assert win.open_file(str(f), ask=False)
    if answer == "yes":
        win.step(2)
        qtbot.waitUntil(lambda: win.runner.t == 2, timeout=START)
        token = win.runner.last.state["data.text_reader"]["r"]["token"]
        assert token == {"h": 1}  # "the secret words"[1]: read from outside the folder
    else:
        with qtbot.waitSignal(win.runner.failed, timeout=START) as failed:
            win.step(2)
        assert "'../secret.txt' is outside the network's folder" in failed.args[0]
    assert len(asked) == 1 and "data.text_reader/r: ../secret.txt" in asked[0]
    win.step(1)
    assert len(asked) == 1  # asked once for these paths
    assert "allow_outside_files" not in json.dumps(json.loads(f.read_text()))
