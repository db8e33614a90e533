"""Work is never lost: every way of replacing or closing the design asks to save
it, a save that fails keeps the window and the work, the work is autosaved and
offered back after a crash, and recent files are kept.

Dialogs are answered by monkeypatching QMessageBox / QFileDialog; QSettings and
the state folder (platformdirs) point into tmp_path, never at the real home."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import platformdirs
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox

from dmm_studio.fileformat import load_network
from dmm_studio.network import Network

from ..conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.gui

B = QMessageBox.StandardButton


@pytest.fixture
def home(tmp_path, monkeypatch):
    """Settings and the state folder of a fresh user, under tmp_path."""
    config, state = tmp_path / "config", tmp_path / "state" / "dmm-studio"
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(config))
    monkeypatch.setattr(platformdirs, "user_state_dir", lambda *a, **k: str(state))
    yield {"config": config, "state": state, "recovery": state / "recovery"}
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "after"))


class Answers:
    """QMessageBox's static dialogs answered by the test, and what they were asked."""

    def __init__(self, monkeypatch, question=B.Cancel):
        self.question = question
        self.asked: list[str] = []
        self.errors: list[str] = []
        self.warnings: list[str] = []
        monkeypatch.setattr(QMessageBox, "question", self._question)
        monkeypatch.setattr(QMessageBox, "critical", self._critical)
        monkeypatch.setattr(QMessageBox, "warning", self._warning)

    def _question(self, _parent, _title, text, *_a, **_k):
        self.asked.append(text)
        return self.question

    def _critical(self, _parent, _title, text, *_a, **_k):
        self.errors.append(text)
        return B.Ok

    def _warning(self, _parent, _title, text, *_a, **_k):
        self.warnings.append(text)
        return B.Ok


def make_window(qtbot, remember=False):
    from dmm_studio.gui.document import Document
    from dmm_studio.gui.main_window import MainWindow

    w = MainWindow(Document(), remember=remember)
    w.asks_user = True  # dialogs as in a real window (answered by the test)
    qtbot.addWidget(w)
    w.resize(1000, 700)
    return w


@pytest.fixture
def win(qtbot):
    w = make_window(qtbot)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.asks_user = False
    w.runner.shutdown()


def edit(win) -> tuple[str, str]:
    nid = win.doc.add_neuron("identity", (10.0, 20.0), name="mine")
    assert nid is not None and not win.doc.undo_stack.isClean()
    return nid


def still_there(win, nid) -> bool:
    return win.doc.network.has_neuron(*nid) and not win.doc.undo_stack.isClean()


def a_file(tmp_path) -> str:
    path = tmp_path / "other.dmm.json"
    Network.load(EXAMPLES / "counter.dmm.json").save(path)
    return str(path)


# --------------------------------------------------------------- ask to save


def do_new(win, tmp_path, monkeypatch):
    win.actions_by_name["New"].trigger()


def do_open(win, tmp_path, monkeypatch):
    path = a_file(tmp_path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (path, ""))
    win.actions_by_name["Open"].trigger()


def do_example(win, tmp_path, monkeypatch):
    from dmm_studio.gui import examples_browser

    em = examples_browser.install(win)
    em.rebuild()
    next(iter(em.actions.values())).trigger()


def do_recent(win, tmp_path, monkeypatch):
    path = a_file(tmp_path)
    win.recent.add(path)
    win._rebuild_recent()
    (act,) = [a for a in win.recent_menu.actions() if a.data() == path]
    act.trigger()


def do_close(win, tmp_path, monkeypatch):
    win.close()


def do_api(win, tmp_path, monkeypatch):
    # what any panel calls to show a network (e.g. File > Sweep opening a run)
    win.open_network(Network.load(EXAMPLES / "counter.dmm.json"))


REPLACING = {"new": do_new, "open": do_open, "example": do_example, "recent": do_recent, "api": do_api}
ALL = {**REPLACING, "close": do_close}


@pytest.mark.parametrize("how", list(ALL))
def test_cancel_keeps_the_unsaved_work(how, win, qtbot, tmp_path, monkeypatch):
    answers = Answers(monkeypatch, question=B.Cancel)
    nid = edit(win)
    ALL[how](win, tmp_path, monkeypatch)
    assert answers.asked and "untitled" in answers.asked[0]
    assert still_there(win, nid)
    assert win.isVisible()
    assert win.doc.undo_stack.canUndo()  # the edits can still be undone


@pytest.mark.parametrize("how", list(REPLACING))
def test_discard_goes_on(how, win, qtbot, tmp_path, monkeypatch):
    answers = Answers(monkeypatch, question=B.Discard)
    nid = edit(win)
    REPLACING[how](win, tmp_path, monkeypatch)
    assert len(answers.asked) == 1
    assert not win.doc.network.has_neuron(*nid)


@pytest.mark.parametrize("how", list(ALL))
def test_save_then_go_on(how, win, qtbot, tmp_path, monkeypatch):
    Answers(monkeypatch, question=B.Save)
    target = tmp_path / "mine.dmm.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    nid = edit(win)
    ALL[how](win, tmp_path, monkeypatch)
    assert load_network(target).has_neuron(*nid)
    assert not win.doc.network.has_neuron(*nid) or not win.isVisible()


def test_no_question_without_changes(win, qtbot, tmp_path, monkeypatch):
    answers = Answers(monkeypatch)
    for how in REPLACING.values():
        how(win, tmp_path, monkeypatch)
    win.close()
    assert answers.asked == [] and not win.isVisible()


# --------------------------------------------------------------- failed saves


def _folder_gone(tmp_path, monkeypatch):
    return str(tmp_path / "gone" / "net.dmm.json"), "No such file or directory"


def _not_a_folder(tmp_path, monkeypatch):
    (tmp_path / "plain").write_text("x")
    return str(tmp_path / "plain" / "net.dmm.json"), "Not a directory"


def _disk_full(tmp_path, monkeypatch):
    import dmm_studio.gui.document as document

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(document, "save_network", full)
    return str(tmp_path / "net.dmm.json"), os.strerror(errno.ENOSPC)


FAILURES = {"folder gone": _folder_gone, "not a folder": _not_a_folder, "disk full": _disk_full}


@pytest.mark.parametrize("why", list(FAILURES))
def test_ctrl_s_that_fails_says_why_and_keeps_the_work(why, win, qtbot, tmp_path, monkeypatch):
    answers = Answers(monkeypatch)
    path, says = FAILURES[why](tmp_path, monkeypatch)
    nid = edit(win)
    win.doc.path = path
    assert win.actions_by_name["Save"].shortcut().toString() == "Ctrl+S"
    win.actions_by_name["Save"].trigger()
    assert len(answers.errors) == 1 and says in answers.errors[0] and path in answers.errors[0]
    assert still_there(win, nid)
    assert "cannot save" in win.statusBar().currentMessage()


@pytest.mark.parametrize("why", list(FAILURES))
def test_save_at_quit_that_fails_keeps_the_window(why, win, qtbot, tmp_path, monkeypatch):
    answers = Answers(monkeypatch, question=B.Save)
    path, says = FAILURES[why](tmp_path, monkeypatch)
    nid = edit(win)
    win.doc.path = path
    win.actions_by_name["Quit"].trigger()
    assert answers.asked and len(answers.errors) == 1 and says in answers.errors[0]
    assert win.isVisible()
    assert still_there(win, nid)


def test_save_as_that_fails_before_new_keeps_the_work(win, qtbot, tmp_path, monkeypatch):
    answers = Answers(monkeypatch, question=B.Save)
    bad = tmp_path / "gone" / "x.dmm.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(bad), ""))
    nid = edit(win)
    win.actions_by_name["New"].trigger()
    assert len(answers.errors) == 1
    assert still_there(win, nid)


# --------------------------------------------------------------- autosave and recovery


def test_autosave_every_30s_while_modified(qtbot, home, monkeypatch):
    from dmm_studio.gui.autosave import INTERVAL_MS

    w = make_window(qtbot, remember=True)
    try:
        a = w.autosave
        assert INTERVAL_MS == 30_000 and a.timer.interval() == 30_000 and a.timer.isActive()
        assert a.folder == home["recovery"]
        a.timer.setInterval(20)
        qtbot.wait(100)
        assert not a.file.exists()  # nothing unsaved: nothing written
        nid = edit(w)
        qtbot.waitUntil(a.file.exists, timeout=3000)
        assert load_network(a.file).has_neuron(*nid)
        # saved by the user: the autosave goes
        w.doc.save(str(home["state"].parent / "saved.dmm.json"))
        assert not a.file.exists()
    finally:
        w.asks_user = False
        w.close()
    assert list(home["recovery"].iterdir()) == []  # a clean end leaves nothing


def test_autosave_when_a_run_starts_and_stops(qtbot, home):
    w = make_window(qtbot, remember=True)
    try:
        a = w.autosave
        nid = edit(w)
        assert not a.file.exists()
        w.runner.running_changed.emit(True)
        assert load_network(a.file).has_neuron(*nid)
        a.file.unlink()
        w.runner.running_changed.emit(False)
        assert a.file.exists()
    finally:
        w.asks_user = False
        w.close()


CRASH = textwrap.dedent(
    """
    import os, signal, sys
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from dmm_studio.gui.document import Document
    from dmm_studio.gui.main_window import MainWindow
    w = MainWindow(Document(), remember=True)
    w.doc.add_neuron("identity", (5.0, 5.0), name="unsaved")
    assert w.autosave.save_now()
    print(w.autosave.file, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_after_a_crash_the_next_start_restores_the_work(qtbot, home, tmp_path, monkeypatch):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env["XDG_CONFIG_HOME"] = str(home["config"])
    env["XDG_STATE_HOME"] = str(home["state"].parent)
    proc = subprocess.run([sys.executable, "-c", CRASH], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    left = Path(proc.stdout.strip())
    assert left.parent == home["recovery"] and left.exists()

    asked = []

    def restore(box):
        asked.append(box.text())
        return B.Yes

    monkeypatch.setattr(QMessageBox, "exec", restore)
    w = make_window(qtbot, remember=True)
    try:
        w.show()
        qtbot.waitUntil(lambda: w.doc.network.has_neuron("identity", "unsaved"), timeout=5000)
        assert "did not close properly" in asked[0] and "untitled" in asked[0]
        assert not w.doc.undo_stack.isClean() and "*" in w.windowTitle()
        assert not left.exists()  # taken over by this session's own autosave
        assert load_network(w.autosave.file).has_neuron("identity", "unsaved")
    finally:
        w.asks_user = False
        w.close()


def _leave_a_crashed_autosave(qtbot, path=None):
    """A studio that autosaved and died (its lock released as the OS does)."""
    w = make_window(qtbot, remember=True)
    w.doc.path = path
    edit(w)
    assert w.autosave.save_now()
    w.autosave.timer.stop()
    w.autosave.lock.unlock()
    w.autosave = None
    w.asks_user = False
    w.runner.shutdown()
    w.hide()
    return w


def test_discard_after_a_crash_forgets_it(qtbot, home, monkeypatch, tmp_path):
    from dmm_studio.gui.autosave import recoverable

    monkeypatch.chdir(tmp_path)
    _leave_a_crashed_autosave(qtbot, path="work.dmm.json")  # as given on the command line
    (found,) = recoverable(home["recovery"])
    assert found.path == str(tmp_path / "work.dmm.json")  # wherever the next studio starts
    texts = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: texts.append(box.text()) or B.Discard)
    w = make_window(qtbot, remember=True)
    try:
        assert w.offer_recovery() is False
        assert "work.dmm.json" in texts[0]
        assert recoverable(home["recovery"]) == []
        assert not w.doc.network.has_neuron("identity", "mine")
    finally:
        w.asks_user = False
        w.close()


def test_later_keeps_it_and_a_running_studio_is_not_offered(qtbot, home, monkeypatch):
    from dmm_studio.gui.autosave import recoverable

    running = make_window(qtbot, remember=True)
    edit(running)
    assert running.autosave.save_now()
    assert recoverable(home["recovery"]) == []  # its studio is alive: not a crash
    _leave_a_crashed_autosave(qtbot)
    monkeypatch.setattr(QMessageBox, "exec", lambda box: B.Cancel)
    w = make_window(qtbot, remember=True)
    try:
        assert w.offer_recovery() is False
        assert len(recoverable(home["recovery"])) == 1  # offered again next time
    finally:
        for x in (w, running):
            x.asks_user = False
            x.close()


# --------------------------------------------------------------- recent files


def test_recent_files_are_kept_between_launches(qtbot, home, tmp_path, monkeypatch):
    Answers(monkeypatch)
    first = make_window(qtbot, remember=True)
    a, b = tmp_path / "a.dmm.json", tmp_path / "b.dmm.json"
    for p in (a, b):
        Network.load(EXAMPLES / "counter.dmm.json").save(p)
        assert first.open_file(str(p))
    first.close()

    second = make_window(qtbot, remember=True)
    try:
        assert second.recent.paths() == [str(b), str(a)]  # newest first
        second.recent_menu.aboutToShow.emit()
        entries = [act for act in second.recent_menu.actions() if act.data()]
        assert [e.data() for e in entries] == [str(b), str(a)]
        assert "b.dmm.json" in entries[0].text()
        entries[1].trigger()
        assert second.doc.path == str(a)
        assert second.recent.paths()[0] == str(a)
        # a saved file joins the list
        c = tmp_path / "c.dmm.json"
        second.doc.save(str(c))
        assert second.recent.paths()[0] == str(c)
        # a file that is gone is said so and leaves the list
        os.remove(b)
        assert second.open_recent(str(b)) is False
        assert str(b) not in second.recent.paths()
        assert "gone" in second.statusBar().currentMessage()
    finally:
        second.asks_user = False
        second.close()
    assert (home["config"] / "dmm-studio" / "studio.ini").is_file()


def test_recent_files_list_is_bounded_and_can_be_cleared(qtbot, win, tmp_path):
    for i in range(15):
        win.recent.add(str(tmp_path / f"n{i}.dmm.json"))
    assert len(win.recent.paths()) == win.recent.MAX
    assert win.recent.paths()[0].endswith("n14.dmm.json")
    win.recent_menu.aboutToShow.emit()
    (clear,) = [a for a in win.recent_menu.actions() if a.text() == "&Clear Recent"]
    clear.trigger()
    assert win.recent.paths() == []


def test_saving_while_the_engine_thread_imports_torch(win, tmp_path, monkeypatch):
    """The engine's thread imports torch when the studio starts: a save in those
    seconds sees a partly imported module (no ``Tensor`` yet) and must still work."""
    import types

    monkeypatch.setitem(sys.modules, "torch", types.ModuleType("torch"))
    edit(win)
    win.doc.path = str(tmp_path / "early.dmm.json")
    assert win.save()
    assert load_network(tmp_path / "early.dmm.json").has_neuron("identity", "mine")
