"""Rename in the studio renames references in fragments, and undo puts every
value back as it was (issue 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dmm_studio import vvalue as vv
from dmm_studio.fileformat import load_network
from dmm_studio.gui.document import Document

pytestmark = pytest.mark.gui
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_rename_and_undo_in_the_document(qtbot):
    doc = Document(load_network(EXAMPLES / "waves.dmm.json"))
    before = vv.canon(doc.network.outputs)
    seen = []
    doc.network.events.outputChanged.connect(lambda nid, o, old, new: seen.append(nid))
    assert doc.rename_neuron(("identity", "update-2"), "u2")
    frag = doc.network.output("identity", "update-1", "single")
    assert "u2" in frag["self"]["self"]["delta"]["identity"]
    assert ("identity", "update-1") in seen
    doc.undo_stack.undo()
    assert vv.equal(doc.network.outputs, before)
    doc.undo_stack.redo()
    assert "u2" in doc.network.output("identity", "update-1", "single")["self"]["self"]["delta"]["identity"]
