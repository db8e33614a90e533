"""The canvas: a NodeGraphQt view over the Network model, in modules that
hold one thing each:

- ``view``: ``Canvas``, building the drawing and following the model's signals;
- ``live``: the ``W_t`` overlay while running (run-time neurons, dimming);
- ``menus``: gestures, menus, selection, hover texts, cost badges;
- ``ngqt``: every NodeGraphQt subclass, private override and monkeypatch;
- ``look``: colours and number formats.
"""

from .look import RUNTIME_COLOR, TYPE_MIME, family_color, format_ms, format_weight, format_weight_exact
from .ngqt import DMMGraph, DMMViewer, NeuronNode, NeuronNodeItem, WeightPipe, node_class
from .view import Canvas

__all__ = [
    "RUNTIME_COLOR",
    "TYPE_MIME",
    "Canvas",
    "DMMGraph",
    "DMMViewer",
    "NeuronNode",
    "NeuronNodeItem",
    "WeightPipe",
    "family_color",
    "format_ms",
    "format_weight",
    "format_weight_exact",
    "node_class",
]
