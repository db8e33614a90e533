"""A row into an input the neuron's type does not declare (``max_norm/m`` fed
on ``input`` instead of ``in``) computes nothing: loading and editing say so,
one line naming the neuron, the port and the type's own ports (issue 11)."""

from __future__ import annotations

import json
import warnings

import pytest

from dmm_studio.cli import main
from dmm_studio.designcheck import UndeclaredPortWarning, undeclared_ports
from dmm_studio.fileformat import load_network
from dmm_studio.network import Network
from dmm_studio.registry import default_registry

W = {
    "self": {"self": {"accum": {"self": {"self": {"network_matrix": 1}}}}},
    "max_norm": {"m": {"input": {"identity": {"one": {"single": 1}}}}},
    "identity": {"one": {"single": {"identity": {"one": {"single": 1}}}}},
}
FILE = {
    "format": "dmm-studio/1",
    "outputs": {"self": {"self": {"network_matrix": W}}, "identity": {"one": {"single": 2}}},
}
LINE = (
    "max_norm/m has a row into input 'input', which the type max_norm does not declare "
    "(its inputs: in): it computes nothing"
)


def test_the_matrix_names_its_undeclared_ports():
    reg = default_registry()
    assert undeclared_ports(W, reg) == [("input", ("max_norm", "m"), "input")]
    w = {"identity": {"a": {"x": {"max_norm": {"m": {"nrm": 1, "norm": 1}}}}}}
    assert undeclared_ports(w, reg) == [("output", ("max_norm", "m"), "nrm")]


def test_loading_warns_once_per_port(tmp_path):
    f = tmp_path / "n.dmm.json"
    f.write_text(json.dumps(FILE))
    with pytest.warns(UndeclaredPortWarning) as got:
        net = load_network(f)
    assert [str(w.message) for w in got] == [LINE]
    assert net.weight(("max_norm", "m", "input"), ("identity", "one", "single")) == 1  # kept


def test_the_cli_says_it_in_one_line(tmp_path, capsys):
    f = tmp_path / "n.dmm.json"
    f.write_text(json.dumps(FILE))
    assert main(["run", str(f), "--steps", "2"]) == 0
    err = capsys.readouterr().err
    assert err == f"dmm-studio: {f}: warning: {LINE}\n"


def test_an_edit_that_wires_an_undeclared_input_warns_and_a_declared_one_does_not():
    net = Network(outputs={"self": {"self": {"network_matrix": {}}}, "identity": {"one": {"single": 2}}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.set_weight(("max_norm", "m", "in"), ("identity", "one", "single"), 1)
    with pytest.warns(UndeclaredPortWarning, match="row into input 'input'"):
        net.set_weight(("max_norm", "m", "input"), ("identity", "one", "single"), 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.set_weight(("max_norm", "m", "input"), ("identity", "one", "single"), 0)  # removing it is quiet
