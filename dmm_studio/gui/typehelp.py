"""Help on neuron types: their documentation as people read it, the Help
menu, F1 on a node, and a small help network per type (Pd's and Max's help
patches are the model).

- ``doc_paragraphs(doc) -> [str]``: a docstring as paragraphs, each on one
  line: the line breaks and the indentation of the source are gone, list
  items (``- ``, ``* ``, ``1. ``) stay items.
- ``doc_text(t) -> str`` (paragraphs joined by blank lines) and
  ``doc_html(t, brief=False) -> str`` (the signature, the paragraphs and the
  params as rich text: what the canvas's hover, the palette and the help
  browser show).
- ``help_network(registry, type_id) -> Network``: the type's neuron, each of
  its declared inputs fed by a constant 1 (an ``identity`` neuron wired to
  itself, SPEC §5), by a clock (an input named ``t`` or ``tick``) or by its own
  output (a register: accum's single, data.cons's list); probes on its outputs. Runs headless as any network does.
- ``examples_using(type_id) -> [Example]``: the shipped examples whose
  matrix or layout name the type.
- ``HelpBrowser``: the neuron types on the left, the chosen one's help on the
  right, with links that open its help network or an example.
- ``install(window)``: the Help menu (Help on Neuron Type F1, Neuron Types...,
  Keyboard Shortcuts, About); F1 helps with the selected node, else the one
  under the pointer, else opens the browser.
"""

from __future__ import annotations

import html
import inspect
import json
import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QCursor, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..network import SELF_ID, Network, neuron_key
from ..registry import NeuronType, Registry
from .examples_browser import EXAMPLES_DIR, Example, list_examples, open_example

_ITEM = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")


def doc_paragraphs(doc: str) -> list[str]:
    """A docstring as paragraphs of one line each (list items are paragraphs too)."""
    text = inspect.cleandoc(doc or "")
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        cur: list[str] = []
        for line in block.splitlines():
            line = line.strip()
            if not line:
                continue
            if _ITEM.match(line) and cur:
                out.append(" ".join(cur))
                cur = []
            cur.append(line)
        if cur:
            out.append(" ".join(cur))
    return out


def doc_text(t: NeuronType) -> str:
    """The type's documentation as plain text, one line per paragraph."""
    return "\n\n".join(doc_paragraphs(t.doc))


def signature(t: NeuronType) -> str:
    """``inputs -> outputs`` (``...``: the type takes ports of any name)."""
    ins = ", ".join(t.inputs) + (", ..." if t.variadic_inputs else "")
    outs = ", ".join(t.outputs) + (", ..." if t.variadic_outputs else "")
    if t.mirror:
        outs = "one output per input, of the same name"
    return f"{ins.strip(', ') or '(none)'} \u2192 {outs.strip(', ') or '(none)'}"


def doc_html(t: NeuronType, brief: bool = False) -> str:
    """Rich text for a type: its id and family, its signature, its paragraphs
    and its params with their defaults (``brief``: for a hover, at most three
    paragraphs and a pointer to F1). Qt wraps it to the width it is shown at."""
    e = html.escape
    parts = [
        f"<p><b>{e(t.id)}</b> <span style='color:gray'>({e(t.family)})</span><br>"
        f"<i>{e(signature(t))}</i></p>"
    ]
    paras = doc_paragraphs(t.doc)
    shown = paras[:3] if brief else paras
    parts += [f"<p>{e(p)}</p>" for p in shown]
    if t.params:
        rows = "".join(
            f"<tr><td><code>{e(k)}</code></td><td>{e(json.dumps(v))}</td></tr>" for k, v in t.params.items()
        )
        parts.append(f"<p>params (defaults):</p><table cellspacing='4'>{rows}</table>")
    if brief:
        more = " (more)" if len(shown) < len(paras) else ""
        parts.append(f"<p style='color:gray'>F1 on a node: help, and a small network that shows it{more}</p>")
    # a fixed width: Qt sizes a rich-text tooltip to its longest unbroken run otherwise
    return f"<div style='width: 420px'>{''.join(parts)}</div>" if brief else "".join(parts)


# ------------------------------------------------------------------ help networks
CLOCK = "time.clock"
CLOCK_INPUTS = ("t", "tick")
# inputs that the type's doc says to feed from its own output (an input that has
# the name of an output is fed back too: data.cons's list)
FEEDBACK = {"accum": {"accum": "single"}, "time.clock": {"tick": "t"}}


def help_network(registry: Registry, type_id: str) -> Network:
    """A small network that shows ``type_id`` at work (see the module docstring).
    Raises ``KeyError`` for an unknown type."""
    t = registry.get(type_id)
    net = Network.empty()
    net.meta = {"title": f"Help: {t.id}", "description": doc_text(t)}
    net.set_pos(*SELF_ID, (0.0, -220.0))
    if t.id == SELF_ID[0]:
        # every network has its Self: show it holding one constant's row
        _constant(net, ("identity", "one"), (0.0, 0.0))
        return net
    name = t.id.rpartition(".")[2].replace("_", "-") or "example"
    nid = (t.id, name)
    net.add_neuron(*nid, pos=(360.0, 0.0))
    inputs = list(t.inputs)
    if not inputs and t.variadic_inputs:
        inputs = ["in"]  # a type that takes inputs of any name: one, named "in"
    y = 0.0
    for port in inputs:
        back = FEEDBACK.get(t.id, {}).get(port, port if port in t.outputs else None)
        if back is not None:  # the type's own idiom: an output wired back (a register)
            net.set_weight((*nid, port), (*nid, back), 1)
            continue
        if port in CLOCK_INPUTS and CLOCK in registry:
            src = (CLOCK, "clock")
            if not net.has_neuron(*src):
                net.add_neuron(*src, pos=(0.0, y))
                net.set_weight((*src, "tick"), (*src, "t"), 1)
                y += 160.0
            net.set_weight((*nid, port), (*src, "t"), 1)
        else:
            src = ("identity", f"{port}-const")
            _constant(net, src, (0.0, y))
            y += 160.0
            net.set_weight((*nid, port), (*src, "single"), 1)
    outputs = list(t.outputs) or (inputs if t.mirror else [])
    if not inputs:  # a source: active while something reads it
        reader = ("identity", "reader")
        net.add_neuron(*reader, pos=(720.0, 0.0))
        for o in outputs[:1]:
            net.set_weight((*reader, o), (*nid, o), 1)
    if outputs:
        net.set_probes({neuron_key(*nid): [{"port": o} for o in outputs[:3]]})
    return net


def _constant(net: Network, nid: tuple[str, str], pos: tuple[float, float]) -> None:
    """SPEC §5's constant: an identity neuron whose output feeds its own input."""
    net.add_neuron(*nid, pos=pos)
    net.set_output(*nid, "single", {":number": 1})
    net.set_weight((*nid, "single"), (*nid, "single"), 1)


def examples_using(type_id: str, folder: Path = EXAMPLES_DIR) -> list[Example]:
    """The examples in ``folder`` that hold a neuron of ``type_id`` (read as
    JSON: their matrix, outputs or layout name it), smallest file first."""
    found = []
    for ex in list_examples(folder):
        try:
            data = json.loads(ex.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        outputs = data.get("outputs") or {}
        layout = data.get("layout") or {}
        matrix = (outputs.get("self") or {}).get("self", {}).get("network_matrix") or {}
        if (
            type_id in outputs
            or type_id in matrix
            or any(k.split("/", 1)[0] == type_id for k in layout)
        ):
            found.append(ex)
    return sorted(found, key=lambda e: e.path.stat().st_size)


# ------------------------------------------------------------------ the browser
class HelpBrowser(QDialog):
    """Neuron types on the left (with a filter), the chosen one's help on the
    right. Its links open the type's help network (``help:TYPE``) or an
    example (``example:PATH``) in the window."""

    def __init__(self, window: Any, type_id: str | None = None) -> None:
        super().__init__(window)
        self.window_ = window
        self.registry: Registry = window.doc.registry
        self.setWindowTitle("Neuron Types - DMM Studio Help")
        self.resize(900, 560)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter neuron types...")
        self.filter.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        for tid in self.registry.ids():
            it = QListWidgetItem(tid)
            it.setData(Qt.ItemDataRole.UserRole, tid)
            self.list.addItem(it)
        self.text = QTextBrowser(self)
        self.text.setObjectName("type-help")
        self.text.setOpenLinks(False)
        self.text.anchorClicked.connect(self._link)
        left = QWidget(self)
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.filter)
        lv.addWidget(self.list)
        left.setMaximumWidth(260)
        body = QHBoxLayout()
        body.addWidget(left)
        body.addWidget(self.text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(body)
        lay.addWidget(buttons)
        self.list.currentItemChanged.connect(lambda it, _p: it is not None and self.show_type(it.text()))
        self.filter.textChanged.connect(self._filter)
        self.show_type(type_id or (self.registry.ids() or [""])[0])

    def _filter(self, text: str) -> None:
        text = text.strip().lower()
        for i in range(self.list.count()):
            it = self.list.item(i)
            it.setHidden(bool(text) and text not in it.text().lower())

    def show_type(self, type_id: str) -> None:
        if type_id not in self.registry:
            return
        self.type_id = type_id
        items = self.list.findItems(type_id, Qt.MatchFlag.MatchExactly)
        if items and self.list.currentItem() is not items[0]:
            self.list.setCurrentItem(items[0])
        self.text.setHtml(self.html(type_id))

    def html(self, type_id: str) -> str:
        t = self.registry.get(type_id)
        e = html.escape
        links = [f"<p><a href='help:{e(type_id)}'>Open a small network that shows {e(type_id)}</a></p>"]
        used = examples_using(type_id)
        if used:
            items = "".join(
                f"<li><a href='example:{e(str(ex.path))}'>{e(ex.title)}</a></li>" for ex in used[:8]
            )
            links.append(f"<p>Examples that use it:</p><ul>{items}</ul>")
        return f"<h3>{e(t.id)}</h3>{doc_html(t)}{''.join(links)}"

    def _link(self, url: QUrl) -> None:
        kind, _, rest = url.toString().partition(":")
        if kind == "help":
            open_help_network(self.window_, rest)
        elif kind == "example":
            path = Path(rest)
            ex = next((x for x in list_examples(path.parent) if x.path == path), None)
            if ex is not None:
                open_example(self.window_, ex)
        self.accept()


def open_help_network(window: Any, type_id: str) -> bool:
    """Open the help network of a type as an untitled design (the window asks
    to save unsaved changes first: False when the user cancels)."""
    net = help_network(window.doc.registry, type_id)
    if window.open_network(net, None) is False:
        return False
    window.canvas.frame_all()
    window.show_message(f"help network for {type_id}: run it (Ctrl+R) and watch its probes")
    return True


# ------------------------------------------------------------------ the Help menu
def type_under_pointer(window: Any) -> str | None:
    """The neuron type for F1: the palette's current type when the palette has
    the focus, else the selected node's, else the node's under the pointer."""
    palette = getattr(window, "palette", None)
    if palette is not None and palette.tree.hasFocus() and palette.tree.currentItem() is not None:
        tid = palette.tree.currentItem().data(0, Qt.ItemDataRole.UserRole)
        if tid:
            return str(tid)
    canvas = window.canvas
    sel = canvas.selected_neurons() or canvas.selected_runtime()
    if sel:
        return str(sel[0][0])
    v = canvas.viewer
    vp = v.viewport().mapFromGlobal(QCursor.pos())
    if v.viewport().rect().contains(vp):
        nid = canvas.node_at(v.mapToScene(vp))
        if nid is not None:
            return str(nid[0])
    return None


def help_on_type(window: Any, type_id: str | None = None) -> HelpBrowser:
    """Help -> Help on Neuron Type (F1): the browser at ``type_id`` (default:
    ``type_under_pointer``), shown without blocking."""
    dlg = HelpBrowser(window, type_id or type_under_pointer(window))
    window.help_browser = dlg
    dlg.show()
    return dlg


def shortcuts_text(window: Any) -> str:
    """Every menu action that has a shortcut, as rich text (a two-column table)."""
    rows = []
    for name, act in sorted(window.actions_by_name.items()):
        keys = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if keys:
            rows.append(f"<tr><td>{html.escape(name)}</td><td><b>{html.escape(keys)}</b></td></tr>")
    extra = [
        ("Search a neuron type to place", "Tab"),
        ("Edit a weight", "double-click its wire"),
        ("Pan", "middle drag, or Alt + drag"),
        ("Zoom", "wheel"),
    ]
    rows += [f"<tr><td>{html.escape(a)}</td><td><b>{html.escape(b)}</b></td></tr>" for a, b in extra]
    return f"<table cellspacing='6'>{''.join(rows)}</table>"


def install(window: Any) -> QAction:
    """Add the Help menu to the window; returns the F1 action."""
    menu = window.menuBar().addMenu("&Help")
    window.menus["Help"] = menu
    f1 = window._act("Help", "&Help on Neuron Type", lambda: help_on_type(window), "F1")
    f1.setStatusTip("help on the selected neuron's type (or the one under the pointer)")
    window._act("Help", "&Neuron Types...", lambda: help_on_type(window, (window.doc.registry.ids() or [""])[0]))
    window._act(
        "Help",
        "&Keyboard Shortcuts",
        lambda: QMessageBox.information(window, "Keyboard Shortcuts", shortcuts_text(window)),
    )
    window._act("Help", "&About DMM Studio", lambda: QMessageBox.about(window, "About DMM Studio", about_text()))
    return f1


def about_text() -> str:
    from importlib import metadata

    try:
        version = metadata.version("dmm-studio")
    except metadata.PackageNotFoundError:
        version = "(not installed)"
    return (
        f"<p><b>DMM Studio</b> {html.escape(version)}</p>"
        "<p>An editor, runner and inspector for Dataflow Matrix Machines: networks whose "
        "neurons process linear streams of V-values and whose matrix can rewrite itself "
        "through Self.</p>"
    )
