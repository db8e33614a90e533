"""File -> Examples: titles and descriptions from meta, opening a copy."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QDialog  # noqa: E402

from dmm_studio.gui import examples_browser as eb  # noqa: E402
from tests.conftest import EXAMPLES  # noqa: E402


def test_list_examples_reads_titles_and_descriptions():
    found = eb.list_examples()
    assert len(found) == len(list(EXAMPLES.glob("*.dmm.json")))
    by_title = {e.title: e for e in found}
    for path in EXAMPLES.glob("*.dmm.json"):
        meta = json.loads(path.read_text())["meta"]
        assert by_title[meta["title"]].description == meta["description"]
    assert [e.title.lower() for e in found] == sorted(e.title.lower() for e in found)


def test_file_menu_lists_the_examples_and_opens_a_copy(win):
    em = eb.install(win)
    titles = {a.text() for a in em.menu.actions()}
    assert "Counter" in titles and "Duplicate-character detector" in titles
    assert em.menu.menuAction() in win.menus["File"].actions()
    em.actions["Counter"].trigger()
    assert win.doc.network.meta["title"] == "Counter"
    assert win.doc.path is None
    assert ("accum", "count") in win.canvas.nodes


def test_the_dialog_shows_the_description_and_opens_the_choice(win, monkeypatch):
    em = eb.install(win)
    dlg = em.dialog()
    titles = [dlg.list.item(i).text() for i in range(dlg.list.count())]
    row = titles.index("Duplicate-character detector")
    dlg.list.setCurrentRow(row)
    assert "repeats" in dlg.description.text()
    assert dlg.chosen().path.name == "duplicates.dmm.json"

    def fake_exec(self):
        self.list.setCurrentRow(row)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(eb.ExamplesDialog, "exec", fake_exec)
    assert em.browse()
    assert ("arith.dot", "detector") in win.canvas.nodes
    assert win.doc.network.params["data.text_reader"]["reader"]["text"].startswith("a bookkeeper")


def test_a_broken_example_is_listed_and_not_opened(win, tmp_path):
    (tmp_path / "bad.dmm.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "plain.dmm.json").write_text(
        json.dumps({"format": "dmm-studio/1", "outputs": {"self": {"self": {"network_matrix": {}}}}}),
        encoding="utf-8",
    )
    found = eb.list_examples(tmp_path)
    assert [e.title for e in found] == ["bad", "plain"]
    assert found[0].description.startswith("cannot be read")
    before = win.doc.network
    assert not eb.open_example(win, found[0])
    assert win.doc.network is before
