"""What LMU training in NengoDL needs beyond plain Nengo.

- `nengo_lmu.dl.cell`: `LMUCell`, the trainable LMU layer as a Nengo network
  (sequential: plain Nengo, one simulator step per time step; ``parallel=True``:
  the memory of a whole sequence at once, through `nengo_lmu.dl.parallel`).
- `nengo_lmu.dl.neurons`: the hidden units' neuron types, one per activation.
- `nengo_lmu.dl.parallel`: the TensorFlow layers (`ParallelLMU`,
  `LegendreMemoryConv`) and helpers.

Importing this package imports neither TensorFlow nor NengoDL; the names of
`nengo_lmu.dl.parallel` are loaded, with TensorFlow, when first used.
"""

import importlib

from nengo_lmu.dl.cell import LMUCell, glorot_uniform
from nengo_lmu.dl.neurons import HIDDEN_ACTIVATIONS, LIF_AMPLITUDE, hidden_neuron_type

_PARALLEL = (
    "LegendreMemoryConv",
    "ParallelLMU",
    "build_parallel_cell",
    "lif_rate",
    "memory",
    "truncation_steps",
)

__all__ = [
    "HIDDEN_ACTIVATIONS",
    "LIF_AMPLITUDE",
    "LMUCell",
    "glorot_uniform",
    "hidden_neuron_type",
    *_PARALLEL,
]


def __getattr__(name):
    # PEP 562: the TensorFlow-backed names, imported on first use
    if name in _PARALLEL:
        return getattr(importlib.import_module("nengo_lmu.dl.parallel"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
