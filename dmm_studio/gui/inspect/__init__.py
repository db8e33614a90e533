"""Inspect and debug a running network: probes, the Self view, history, breaks, costs.

``install(window)`` adds the docks to the studio's main window, follows its
runner and connects the canvas selection; ``apply_cli(window, args)`` opens
``--probe TYPE/NAME/OUTPUT`` probes and the ``--self-view``.

A network file says what to show when it opens: its probes
(``layout["type/name"]["probes"]``) open in the Probes dock, given room, and
``meta["views"]`` names the docks to open in front: any of ``"self"`` (the
Self view), ``"history"``, ``"breaks"``, ``"cost"`` (Node cost) and
``"fields"`` (the Fields editor). Every example says so
(``examples/make_examples.py``): what a file opens with is what the README's
gallery shows (``docs/make_gallery.py``). Both are called by
``dmm_studio.gui.launch``. The pieces work on their own too (see
``Inspector``, ``views``, ``selfview``, ``panels``, ``recorder``; ``brief`` for
hover texts). What the main window is expected to offer: ``add_dock``,
``runner`` (``stepped``, ``running``, ``pause`` and the recording commands: ``RunnerLike``),
``canvas`` (``selection_changed``, ``wire_selected``, ``select``, ``select_wire``),
``doc`` (``network.layout``, ``replaced``), ``menus["View"]``.
"""

from __future__ import annotations

from typing import Any

from PySide6 import QtCore

from ...recorder import ProbeSpec
from .brief import brief, wire_brief
from .inspector import Inspector

__all__ = ["Inspector", "ProbeSpec", "apply_cli", "brief", "install", "wire_brief"]

_Right = QtCore.Qt.DockWidgetArea.RightDockWidgetArea
_Bottom = QtCore.Qt.DockWidgetArea.BottomDockWidgetArea


def install(window: Any) -> Inspector:
    """Add the inspector's docks to ``window`` and wire it to the runner and canvas."""
    insp = Inspector(window)
    window.inspector = insp
    docks = {
        "probes": window.add_dock("Probes", insp.probes, _Bottom),
        "self": window.add_dock("Self view", insp.self_view, _Right),
        "history": window.add_dock("History", scrolled(insp.history_view), _Bottom),
        "breaks": window.add_dock("Breaks", scrolled(insp.breaks_view), _Right),
        "cost": window.add_dock("Node cost", scrolled(insp.cost_view), _Right),
    }
    insp.docks = docks  # type: ignore[attr-defined]
    window.tabifyDockWidget(docks["probes"], docks["history"])
    docks["probes"].raise_()
    props = getattr(window, "properties_dock", None)
    if props is not None:
        window.tabifyDockWidget(props, docks["self"])
        window.tabifyDockWidget(props, docks["breaks"])
        window.tabifyDockWidget(props, docks["cost"])
        props.raise_()
    for key in ("self", "history", "breaks", "cost"):
        docks[key].hide()  # opened from the View menu (or --self-view)

    def show_break(_hit: object) -> None:
        docks["breaks"].show()
        docks["breaks"].raise_()

    insp.breakHit.connect(show_break)

    runner = getattr(window, "runner", None)
    if runner is not None:
        insp.attach(runner)

    canvas = getattr(window, "canvas", None)
    if canvas is not None:
        if hasattr(canvas, "wire_selected"):
            canvas.wire_selected.connect(insp.highlight_wire)
        if hasattr(canvas, "select"):
            insp.neuronAtFault.connect(lambda nid: canvas.select([tuple(nid)]))
        insp.wireSelected.connect(lambda to, frm: _select_wire(canvas, to, frm))
        insp.stepShown.connect(lambda t, state: _show_step_on_canvas(window, t, state))
        if hasattr(canvas, "running") and hasattr(window, "doc"):  # W_t is read from the running state
            insp.follow_running(canvas.running, lambda: window.doc.network.matrix)
        if hasattr(canvas, "hover_provider"):
            canvas.hover_provider = lambda kind, key: hover_text(window, insp, kind, key)

    doc = getattr(window, "doc", None)
    if doc is not None:
        insp.load_probes(doc.network.layout)
        insp.probesChanged.connect(lambda probes: _probes_to_document(window, insp, probes))
        if hasattr(doc, "probes_changed"):  # undo, redo: the inspector follows the design
            doc.probes_changed.connect(lambda: _probes_from_document(window, insp))
        if hasattr(doc, "replaced"):
            doc.replaced.connect(lambda: _reload_probes(window, insp))
            doc.replaced.connect(lambda: show_file_views(window, insp))
        show_file_views(window, insp)

    menu = getattr(window, "menus", {}).get("View")
    if menu is not None:
        menu.addSeparator()
        act = menu.addAction("Probe selected outputs")
        act.triggered.connect(lambda _=False: probe_selection(window, insp))
        act = menu.addAction("Probe selected inputs")
        act.triggered.connect(lambda _=False: probe_selection(window, insp, side="input"))
        if canvas is not None and hasattr(canvas, "show_costs"):
            act = menu.addAction("Node Cost on Canvas")
            act.setCheckable(True)
            act.setToolTip("a badge on each node: the time its function takes per step")
            act.toggled.connect(lambda on: show_costs_on_canvas(window, insp, on))
            insp.cost_action = act  # type: ignore[attr-defined]
    if canvas is not None and hasattr(canvas, "show_costs"):
        insp.costsUpdated.connect(lambda costs: canvas.show_costs(costs) if canvas.costs_shown else None)
        insp.cost_view.toggled.connect(lambda on: None if on else _costs_off(window, insp))
    return insp


VIEWS = ("self", "history", "breaks", "cost", "fields", "live", "train")  # what meta["views"] may name
PANELS = {"fields": "fields_panel", "live": "live_panel", "train": "train_panel"}  # window attributes
SELF_VIEW_WIDTH = 560  # a Self view you can read: the side docks' width when it opens in front
HISTORY_HEIGHT = 240  # History with its timeline and a few lines of changes


def file_views(network: Any) -> list[str]:
    """The docks a network file asks to open in front (``meta["views"]``):
    known names only, in order; anything else is left out."""
    meta = getattr(network, "meta", None) or {}
    views = meta.get("views") if isinstance(meta, dict) else None
    if not isinstance(views, list):
        return []
    return [v for v in views if isinstance(v, str) and v in VIEWS]


def show_file_views(window: Any, insp: Inspector) -> None:
    """Open what the open file asks for: the Probes dock (with room for its
    probes) when it has probes, and the docks ``meta["views"]`` names, in
    front of their tabs. Also once the event loop runs (the window may tidy
    its docks after this call); the docks asked for go in ``front_docks``."""
    docks = insp.docks  # type: ignore[attr-defined]
    want = file_views(window.doc.network)
    chosen = [docks[k] for k in want if k in docks]
    for view, attr in PANELS.items():  # the side panels each module installs
        panel = getattr(window, attr, None)
        if view in want and panel is not None and hasattr(panel, "dock"):
            chosen.append(panel.dock)
    has_probes = bool(insp.probes.widgets)
    front = getattr(window, "front_docks", None)
    mine: list[Any] = getattr(insp, "_file_docks", [])
    if isinstance(front, list):
        for d in mine:  # the last file's
            if d in front:
                front.remove(d)
        mine = chosen + ([docks["probes"]] if has_probes else [])
        front.extend(d for d in mine if d not in front)
        insp._file_docks = mine  # type: ignore[attr-defined]

    def show() -> None:
        for dock in chosen:
            dock.show()
            dock.raise_()
        if "self" in want and hasattr(window, "resizeDocks"):
            window.resizeDocks([docks["self"]], [SELF_VIEW_WIDTH], QtCore.Qt.Orientation.Horizontal)
        if "history" in want and not has_probes and hasattr(window, "resizeDocks"):
            window.resizeDocks([docks["history"]], [HISTORY_HEIGHT], QtCore.Qt.Orientation.Vertical)
        if has_probes:
            dock = docks["probes"]
            dock.show()
            dock.raise_()
            if hasattr(window, "resizeDocks"):
                window.resizeDocks([dock], [probes_height(window, insp)], QtCore.Qt.Orientation.Vertical)

    show()
    QtCore.QTimer.singleShot(0, show)


def probes_height(window: Any, insp: Inspector) -> int:
    """The Probes dock's height for its probes: rows of ~240 px at the columns its
    width allows, at most half the window (the canvas keeps the rest)."""
    n = len(insp.probes.widgets)
    if not n:
        return 0
    width = insp.probes.viewport().width()
    if width < 100:  # not laid out yet: about the window less the Neurons dock
        width = max(300, window.width() - 260)
    cols = insp.probes.columns(width)
    rows = (n + cols - 1) // cols
    return int(min(max(260, 40 + 240 * rows), window.height() // 2))


def show_costs_on_canvas(window: Any, insp: Inspector, on: bool) -> None:
    """Cost badges on the canvas's nodes (measuring starts with them), or none."""
    if on:
        window.canvas.show_costs({})  # badges come with the first times (twice a second)
        insp.cost_view.enable.setChecked(True)
    else:
        window.canvas.show_costs(None)


def _costs_off(window: Any, insp: Inspector) -> None:
    """Measuring switched off in the Node cost panel: the badges go too."""
    window.canvas.show_costs(None)
    act = getattr(insp, "cost_action", None)
    if act is not None and act.isChecked():
        act.blockSignals(True)
        act.setChecked(False)
        act.blockSignals(False)


def hover_text(window: Any, insp: Inspector, kind: str, key: Any) -> str | None:
    """The canvas's hover text for a port or a wire: the value it holds at the
    step shown (the scrubbed one, else the latest), in brief."""
    from ...matrix import matrix_of
    from ...recorder import probe_value
    from ...vvalue import get_in

    h = insp.recorder.history
    state = prev = None
    t = insp.shown
    if t is None:
        # live: the newer of the record's latest step and the last frame (the
        # record lags, or keeps nothing while recording is off)
        latest = h.latest()
        if latest is not None:
            t, state = latest
        frame = getattr(window, "last_frame", None)
        if frame is not None and (t is None or frame.t > t):
            t, state = frame.t, frame.state
    else:
        state = h.get(t) if t in h else None
    if state is None:
        return None
    if t is not None and (t - 1) in h:
        prev = h.get(t - 1)
    if kind == "port":
        f, n, port, side = key
        if side == "input":
            if prev is None:
                return f"{f}/{n}/{port} (input) at step {t}: not kept"
            v = probe_value(ProbeSpec(f, n, port, "input"), state, prev)
            return f"{f}/{n}/{port} (input) at step {t}: {brief(v)}"
        return f"{f}/{n}/{port} at step {t}: {brief(get_in(state, (f, n, port)))}"
    if kind == "wire":
        to, frm = key
        running = insp.running
        if insp.shown is None and running is not None and running.t == t and running.wires is not None:
            w = running.weight((tuple(to), tuple(frm)))  # W_t as the canvas shows it
        else:
            w = get_in(matrix_of(state), tuple(to) + tuple(frm))
        if not w:
            w = 0
        return f"{'/'.join(frm)} -> {'/'.join(to)} at step {t}: {wire_brief(w, get_in(state, tuple(frm)))}"
    return None


def scrolled(widget: Any) -> Any:
    """A panel in a scroll area, so that its minimum size never grows the window."""
    from PySide6 import QtWidgets

    area = QtWidgets.QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    area.setWidget(widget)
    return area


def _reload_probes(window: Any, insp: Inspector) -> None:
    insp._syncing = True  # type: ignore[attr-defined]
    try:
        insp.clear_probes()
        insp.load_probes(window.doc.network.layout)
    finally:
        insp._syncing = False  # type: ignore[attr-defined]


def _probes_to_document(window: Any, insp: Inspector, probes: dict[str, Any]) -> None:
    """A probe added, removed or changed: an undoable edit of the design."""
    if getattr(insp, "_syncing", False):
        return
    doc = window.doc
    if hasattr(doc, "set_probes"):
        doc.set_probes(probes)
    else:
        insp.save_probes(doc.network.layout)


def _probes_from_document(window: Any, insp: Inspector) -> None:
    """The design's probes changed (undo, redo): show those (if they differ)."""
    if getattr(insp, "_syncing", False):
        return
    from ..commands import probes_of

    if probes_of(window.doc.network.layout) != insp.probe_layout():
        _reload_probes(window, insp)


def probe_selection(window: Any, insp: Inspector, side: str = "output") -> list[ProbeSpec]:
    """A probe on every output (or input) of the neurons selected on the canvas,
    those of the design and those the network made while running. One edit of
    the design (one undo)."""
    canvas = window.canvas
    nids = list(canvas.selected_neurons())
    nids += [n for n in getattr(canvas, "selected_runtime", list)() if n not in nids]
    specs = []
    insp._syncing = True  # type: ignore[attr-defined]
    try:
        for nid in nids:
            ins, outs = _ports(window, nid)
            for port in outs if side == "output" else ins:
                spec = ProbeSpec(nid[0], nid[1], port, side)
                insp.add_probe(spec)
                specs.append(spec)
    finally:
        insp._syncing = False  # type: ignore[attr-defined]
    if specs:
        _probes_to_document(window, insp, insp.probe_layout())
        dock = insp.docks["probes"]  # type: ignore[attr-defined]
        dock.show()
        dock.raise_()
        _make_room(window, dock)
    return specs


def _make_room(window: Any, dock: Any) -> None:
    """A bottom dock too short to show a probe (an image would be a strip of a
    few pixels) grows to a third of the window."""
    want = max(240, window.height() // 3)
    if dock.height() < want and hasattr(window, "resizeDocks"):
        window.resizeDocks([dock], [want], QtCore.Qt.Orientation.Vertical)


def _ports(window: Any, nid: tuple[str, str]) -> tuple[list[str], list[str]]:
    """A neuron's ports: the design's, or those drawn for a run-time neuron."""
    if nid in getattr(window.canvas, "nodes", {nid: None}):
        return window.doc.ports(nid)  # type: ignore[no-any-return]
    node = window.canvas.runtime[nid]
    return [p.name for p in node.view.inputs], [p.name for p in node.view.outputs]


def _select_wire(canvas: Any, to: tuple, frm: tuple) -> None:
    """Select the wire ``frm -> to`` on the canvas (a Self view cell was clicked)."""
    fn = getattr(canvas, "select_wire", None)
    if fn is not None:
        fn(tuple(to), tuple(frm))


def _show_step_on_canvas(window: Any, t: Any, state: Any) -> None:
    """Scrubbing: the canvas shows the wires of the shown step (live again: the last frame)."""
    canvas = getattr(window, "canvas", None)
    if canvas is None or not hasattr(canvas, "show_matrix"):
        return
    from ...matrix import matrix_of

    if t is not None and state is not None:
        canvas.show_matrix(matrix_of(state), None, t)
    else:
        frame = getattr(window, "last_frame", None)
        if frame is not None and frame.t > 0:
            canvas.show_matrix(frame.matrix, frame.active, frame.t)


def apply_cli(window: Any, args: Any) -> None:
    """``--probe TYPE/NAME/OUTPUT`` (repeatable; ``...:in`` for an input) and
    ``--self-view`` (show the Self view dock)."""
    insp: Inspector | None = getattr(window, "inspector", None)
    if insp is None:
        insp = install(window)
    bad = []
    insp._syncing = True  # type: ignore[attr-defined]
    try:
        for text in getattr(args, "probe", None) or []:
            try:
                insp.add_probe(ProbeSpec.parse(text))
            except ValueError as e:
                bad.append(str(e))
    finally:
        insp._syncing = False  # type: ignore[attr-defined]
    doc = getattr(window, "doc", None)
    if doc is not None and getattr(args, "probe", None):
        insp.save_probes(doc.network.layout)  # kept with the file, but not an edit to undo
    if bad and hasattr(window, "show_message"):
        window.show_message("; ".join(bad))
    docks = insp.docks  # type: ignore[attr-defined]
    want_probes = bool(getattr(args, "probe", None))
    want_self = bool(getattr(args, "self_view", False))

    def show() -> None:
        # also after the event loop starts: the window may tidy its docks after this call
        if want_probes:
            docks["probes"].show()
            docks["probes"].raise_()
            window.resizeDocks([docks["probes"]], [probes_height(window, insp)], QtCore.Qt.Orientation.Vertical)
        if want_self:
            docks["self"].show()
            docks["self"].raise_()
            window.resizeDocks([docks["self"]], [SELF_VIEW_WIDTH], QtCore.Qt.Orientation.Horizontal)

    # the window's tidy_docks raises these last (over Properties and the others)
    front = getattr(window, "front_docks", None)
    if isinstance(front, list):
        front.extend(d for d, want in ((docks["probes"], want_probes), (docks["self"], want_self)) if want)
    show()
    QtCore.QTimer.singleShot(0, show)
