"""Linear systems: the LMU's Legendre delay, its realizations and readouts.

Pure NumPy / SciPy (and `nengo.Process` for simulation in a Node); every other
layer of the package takes its matrices from here.

- `nengo_lmu.systems.legendre`: the LMU memory (`lmu_matrices`,
  `LegendreMemory`), its delay and window readouts, realizations and
  discretization.
"""

from nengo_lmu.systems.legendre import (
    DISCRETIZE_METHODS,
    REALIZATIONS,
    LegendreMemory,
    Realization,
    controllability_gramian,
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

__all__ = [
    "DISCRETIZE_METHODS",
    "REALIZATIONS",
    "LegendreMemory",
    "Realization",
    "controllability_gramian",
    "default_input_process",
    "discretize",
    "impulse_response",
    "legendre_readout",
    "lmu_matrices",
    "pade_delay_matrices",
    "realize",
    "simulate_memory",
    "window_readout",
]
