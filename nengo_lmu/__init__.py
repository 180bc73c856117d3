"""nengo-lmu: Legendre Memory Units on spiking neurons, with Nengo.

The exact memory (`LegendreMemory`, `lmu_matrices`, `legendre_readout`), its
realizations and Principle 3 mappings are pure NumPy/SciPy/Nengo; the spiking
memory is `nengo_lmu.networks.LMUMemory`. Importing this package never imports
TensorFlow.
"""

from nengo_lmu import mapping, networks
from nengo_lmu.networks import LMUMemory, RollingWindow
from nengo_lmu.systems import (
    LegendreDelay,
    LegendreMemory,
    LinearSystem,
    PadeDelay,
    Realization,
    default_input_process,
    discretize,
    impulse_response,
    legendre_readout,
    lmu_matrices,
    pade_delay_matrices,
    realize,
    simulate_memory,
    window_readout,
)
from nengo_lmu.version import version as __version__

__all__ = [
    "LMUMemory",
    "LegendreDelay",
    "LegendreMemory",
    "LinearSystem",
    "PadeDelay",
    "Realization",
    "RollingWindow",
    "__version__",
    "default_input_process",
    "discretize",
    "impulse_response",
    "legendre_readout",
    "lmu_matrices",
    "mapping",
    "networks",
    "pade_delay_matrices",
    "realize",
    "simulate_memory",
    "window_readout",
]
