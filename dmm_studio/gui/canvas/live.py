"""The live overlay: the canvas following ``W_t`` while the machine runs.

``LiveOverlay`` (a part of ``Canvas``) draws the ``RunningState``: wires
appear, vanish and change weight as the network rewrites itself (a weight
that differs from the design's is drawn amber); design neurons outside the
active part are dimmed. Neurons that only ``W_t`` has, made by the network
through Self's delta, are drawn as run-time nodes (``Canvas.runtime``): a
dashed amber outline and a "run-time" tag, placed beside the neurons they
are wired to, kept out of the design and its undo stack, locked against
hand-drawn wires and renaming. Choice: a run-time neuron that leaves ``W_t``
is removed, not dimmed (outside ``W_t`` it has no output at the next step,
and a network that makes many short-lived neurons would otherwise fill the
canvas); if it comes back in the same run it comes back where it was (also
where the user dragged it). Reset (the running state cleared) removes every
run-time node and the ports that only ``W_t`` used on design nodes. Node and
port work is done only when the set of neurons or of used ports of ``W_t``
changes; a frame whose ``W_t`` equals the last one costs one comparison (in
the running state, which then announces nothing).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Qt, QTimer

from ...network import Port
from ..model_ops import active_neurons, matrix_wires, ports_index
from .look import NeuronId, WireKey
from .ngqt import NeuronNode, NeuronNodeItem


def _ports_used(wires: dict[WireKey, Any]) -> frozenset[Port]:
    """Every port (inputs and outputs) that some wire uses."""
    return frozenset(k[0] for k in wires) | frozenset(k[1] for k in wires)


class LiveOverlay:
    """The ``W_t`` overlay of ``Canvas`` (see the module docstring)."""

    _live_drawn = False  # whether the canvas draws W_t now

    def show_matrix(
        self, w: dict[str, Any] | None, active: Iterable[NeuronId] | None = None, t: int | None = None
    ) -> None:
        """Show a running matrix ``W_t`` (None: back to the design's ``W_0``):
        feeds the ``RunningState``, which the canvas follows.

        Wires appear, vanish and change weight with ``W_t``; run-time neurons
        come and go (see the module docstring); ``show_matrix(None)`` (Reset)
        removes them with the ports that only ``W_t`` used. ``active``: the
        neurons of ``w`` when the caller has them (the runner's frames do);
        ``t``: its step.

        Cost: nothing when ``W_t`` equals the last one shown; otherwise one
        pass over its wires, and node or port work only for what changed.
        """
        if w is None:
            self.running.clear()
        else:
            self.running.show(w, active, t)

    def _on_running_changed(self) -> None:
        st = self.running
        if st.matrix is None:
            if self._live_drawn:
                self._end_live()
            return
        target = st.wires
        first = not self._live_drawn
        self._live_drawn = True
        if first:
            # what is drawn now: the design's ports
            self._live_used = _ports_used(matrix_wires(self.doc.network.matrix))
        used = _ports_used(target)
        touched: set[NeuronId] = set()
        if used != self._live_used:
            self._live_ports = ports_index(target)
            touched = {p[:2] for p in used ^ self._live_used}  # type: ignore[misc]
            self._live_used = used
        neurons = st.active
        if first or neurons != self._live_neurons:
            new = self._follow_neurons(neurons, target)
            touched -= new
            self._live_neurons = neurons
            self.set_active(set(neurons))
        for nid in touched:
            self._sync_ports(nid, redraw=False)
        if first:
            for pipe in self.pipes.values():
                if pipe.live_only:
                    pipe.set_weight(pipe.weight, False)
        self._apply_wires(target)

    def _reset_live_state(self) -> None:
        self._live_drawn = False
        self._live_neurons = frozenset()
        self._live_used = frozenset()
        self._live_ports = {}
        self._runtime_pos.clear()
        self._suppressed.clear()

    def _end_live(self) -> None:
        """Back to the design: run-time nodes and ports go, wires are W_0's."""
        self._drop_runtime(list(self.runtime))
        self._reset_live_state()
        for pipe in self.pipes.values():
            if pipe.live_only:
                pipe.set_weight(pipe.weight, False)
        self._apply_wires(matrix_wires(self.doc.network.matrix))
        for nid in list(self._ported):
            self._sync_ports(nid)
        self._ported.clear()
        self.set_active(active_neurons(self.doc.network.matrix))

    def _follow_neurons(self, neurons: frozenset[NeuronId], target: dict[WireKey, Any]) -> set[NeuronId]:
        """Run-time nodes for the neurons of ``W_t`` that the design lacks; returns the new ones."""
        self._suppressed &= neurons  # a neuron removed while running, until W_t drops it
        want = {
            nid
            for nid in neurons
            if nid not in self.nodes and nid not in self._suppressed and nid[0] in self.registry
        }
        gone = [nid for nid in self.runtime if nid not in want]
        if gone:
            self._drop_runtime(gone)
        new = want - self.runtime.keys()
        if new:
            self._place_runtime(new, target)
        return new

    def _place_runtime(self, new: set[NeuronId], target: dict[WireKey, Any]) -> None:
        """Draw new run-time nodes next to the neurons they are wired to."""
        sources: dict[NeuronId, list[NeuronId]] = {n: [] for n in new}
        receivers: dict[NeuronId, list[NeuronId]] = {n: [] for n in new}
        for to, frm in target:
            a, b = to[:2], frm[:2]
            if a != b:
                if a in new:
                    sources[a].append(b)  # type: ignore[index]
                if b in new:
                    receivers[b].append(a)  # type: ignore[index]
        # those wired to drawn nodes first: their places anchor the others
        pending = sorted(new)
        while pending:
            ready = [
                n
                for n in pending
                if n in self._runtime_pos or any(self._node(m) is not None for m in sources[n] + receivers[n])
            ] or pending[:1]
            for nid in ready:
                pos = self._runtime_pos.get(nid) or self._spot_near(sources[nid], receivers[nid])
                node = self._add_node(nid, pos, runtime=True)
                node.view.draw_node()
                if nid not in self._runtime_pos:
                    self._clear_spot(node)
                self._runtime_pos[nid] = self._xy(node)
            pending = [n for n in pending if n not in ready]
        self._touched = sorted(new)
        self._fix_scene_rect()

    def _xy(self, node: NeuronNode) -> tuple[float, float]:
        x, y = node.view.xy_pos
        return (float(x), float(y))

    def _spot_near(self, sources: list[NeuronId], receivers: list[NeuronId]) -> tuple[float, float]:
        src = [self._xy(n) for n in map(self._node, sources) if n is not None]
        rcv = [self._xy(n) for n in map(self._node, receivers) if n is not None]
        both = src + rcv
        if not both:  # wired to nothing drawn: right of everything
            xs = [self._xy(n) for n in [*self.nodes.values(), *self.runtime.values()]]
            return (max((x for x, _ in xs), default=0.0) + 300.0, min((y for _, y in xs), default=0.0))
        y = sum(p[1] for p in both) / len(both)
        if src:
            return (sum(p[0] for p in src) / len(src) + 300.0, y)
        return (sum(p[0] for p in rcv) / len(rcv) - 300.0, y)

    def _clear_spot(self, node: NeuronNode) -> None:
        """Move a new node down (or up) until it covers no other node."""
        x, y = self._xy(node)
        scene = self.viewer.scene()
        for k in range(25):
            dy = (k + 1) // 2 * 120.0 * (1 if k % 2 else -1) if k else 0.0
            rect = node.view.sceneBoundingRect().translated(0, y + dy - node.view.xy_pos[1])
            rect = rect.adjusted(-20, -20, 20, 20)
            hit = any(
                isinstance(i, NeuronNodeItem) and i is not node.view
                for i in scene.items(rect, Qt.ItemSelectionMode.IntersectsItemBoundingRect)
            )
            if not hit:
                if dy:
                    node.view.xy_pos = [x, y + dy]
                    node.model.pos = [x, y + dy]
                return

    def _drop_runtime(self, nids: Iterable[NeuronId]) -> None:
        drop = {n for n in nids if n in self.runtime}
        if not drop:
            return
        for key in [k for k in self.shown if k[0][:2] in drop or k[1][:2] in drop]:
            self._erase_wire(key)
        for nid in drop:
            node = self.runtime.pop(nid)
            self._runtime_pos[nid] = self._xy(node)  # where it comes back (moved by hand too)
            self.runtime_by_id.pop(node.id, None)
            self._clear_node_connections(node)
            self.graph.remove_node(node, push_undo=False)
        self.viewer.node_count = len(self.nodes) + len(self.runtime)

    def _promote(self, nid: NeuronId) -> None:
        """A run-time neuron that the design now has becomes a design node (same place)."""
        node = self.runtime.get(nid)
        if node is None:
            return
        pos = self.doc.pos_of(nid) or self._xy(node)
        self._drop_runtime([nid])
        self._add_node(nid, pos)
        if self.live is not None:
            self._apply_wires(
                {k: w for k, w in self.live.items() if nid in (k[0][:2], k[1][:2])}, partial=True
            )

    def forget_live_wire(self, key: WireKey, w: Any) -> None:
        """Draw a change made to ``W_t`` alone (the next frame confirms it)."""
        if self.live is None:
            return
        self.running.set_weight(key, w)
        if w:
            self._draw_wire(key, w)
        else:
            self._erase_wire(key)

    def _design_active_later(self) -> None:
        if not self._active_pending:
            self._active_pending = True
            QTimer.singleShot(0, self._design_active_now)

    def _design_active_now(self) -> None:
        self._active_pending = False
        if self.live is None:
            self.set_active(active_neurons(self.doc.network.matrix))

    def set_active(self, active: set[NeuronId] | None) -> None:
        """Dim the neurons outside the active part (None: none dimmed)."""
        dim = set() if active is None else set(self.nodes) - active
        for nid in dim ^ self._dimmed:
            node = self.nodes.get(nid)
            if node is not None:
                node.view.setOpacity(0.35 if nid in dim else 1.0)
        self._dimmed = dim
