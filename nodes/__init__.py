"""The built-in neuron library (installed as the package ``dmm_studio_nodes``).

One module per family; each declares its types with ``dmm_studio.registry.neuron``
and lists them in ``TYPES``. ``neuron_types`` is the entry point registered in
the ``dmm_studio.neurons`` group, the same way a third-party pack registers.
"""

from __future__ import annotations

from dmm_studio.registry import NeuronType

from . import arithmetic, core, data, live, selfedit, sources, synth

FAMILIES = [core, arithmetic, data, sources, live, synth, selfedit]


def neuron_types() -> list[NeuronType]:
    return [t for family in FAMILIES for t in family.TYPES]
