"""Linear systems: any LTI system, the LMU's Legendre delay, Pade delays,
realizations and readouts.

Pure NumPy / SciPy (and `nengo.Process` for simulation in a Node); every other
layer of the package takes its matrices from here. `LinearSystem` is the one
state-space object: the LMU's own names are views of it.

- `nengo_lmu.systems.linear`: `LinearSystem`, any linear time-invariant system
  (analog or digital), and `LinearSystemProcess` to simulate it in a Node. Its
  methods are written in
  `nengo_lmu.systems.statespace` (construction, conversions, discretization,
  change of basis), `nengo_lmu.systems.responses` (impulse and frequency
  responses, simulation with the package's one time convention, comparison)
  and `nengo_lmu.systems.balancing` (Gramians, Hankel singular values, balanced
  realization and truncation).
- `nengo_lmu.systems.delays`: `LegendreDelay` (the LMU, with `lmu_matrices`)
  and `PadeDelay` (with `pade_delay_matrices`).
- `nengo_lmu.systems.processes`: `run_process`, independent draws of a
  `nengo.Process` outside a simulator.
- `nengo_lmu.systems.radii`: how large the states get for an input (the
  radii a network scales them by): from the input's spectrum, measured, or
  from norms.
- `nengo_lmu.systems.legendre`: the LMU memory's own names, as views of
  `LinearSystem` (`LegendreMemory`, `discretize`, `simulate_memory`,
  `realize`...), and its delay and window readouts.
"""

from nengo_lmu.systems.delays import LegendreDelay, PadeDelay
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
from nengo_lmu.systems.linear import LinearSystem, LinearSystemProcess
from nengo_lmu.systems.processes import run_process
from nengo_lmu.systems.radii import (
    measure_radii,
    norm_radii,
    process_radii,
    spectral_radii,
    state_system,
)

__all__ = [
    "DISCRETIZE_METHODS",
    "REALIZATIONS",
    "LegendreDelay",
    "LegendreMemory",
    "LinearSystem",
    "LinearSystemProcess",
    "PadeDelay",
    "Realization",
    "controllability_gramian",
    "default_input_process",
    "discretize",
    "impulse_response",
    "legendre_readout",
    "lmu_matrices",
    "measure_radii",
    "norm_radii",
    "pade_delay_matrices",
    "process_radii",
    "realize",
    "run_process",
    "simulate_memory",
    "spectral_radii",
    "state_system",
    "window_readout",
]
