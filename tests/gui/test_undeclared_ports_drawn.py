"""A wire into an input the neuron's type does not declare is drawn, into a
marked (red) port with a tooltip saying what is wrong, so it can be fixed;
opening such a file says so in the status bar (issue 11)."""

from __future__ import annotations

import json

import pytest

from dmm_studio.designcheck import UndeclaredPortWarning
from tests.core.test_undeclared_ports import FILE, LINE

pytestmark = pytest.mark.gui


def test_the_undeclared_port_and_its_wire_are_drawn_and_marked(win, qtbot, tmp_path):
    f = tmp_path / "n.dmm.json"
    f.write_text(json.dumps(FILE))
    with pytest.warns(UndeclaredPortWarning):
        assert win.open_file(str(f), ask=False)
    node = win.canvas.nodes[("max_norm", "m")]
    port = node.get_input("input")
    assert port is not None and getattr(port.view, "undeclared", False)
    assert tuple(port.view.color[:3]) == (214, 39, 40)
    assert "'input' is no input of max_norm (its inputs: in)" in port.view.toolTip()
    assert not getattr(node.get_input("in").view, "undeclared", False)
    key = (("max_norm", "m", "input"), ("identity", "one", "single"))
    assert key in win.canvas.pipes
    assert LINE in win.statusBar().currentMessage()
    win.grab().save(str(tmp_path / "undeclared.png"))
