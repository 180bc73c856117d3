"""Linear systems in spiking neurons: Nengo networks (NEF Principle 3).

- `nengo_lmu.networks.linear`: `LinearNetwork`, any `nengo_lmu.LinearSystem`
  in spiking neurons.
- `nengo_lmu.networks.memory`: `LMUMemory`, the LMU memory in spiking neurons,
  and `RollingWindow`, with any function of the window as an output.
- `nengo_lmu.networks.layouts`: how neurons are laid out under a state
  (one ensemble, one per dimension, or sub-populations).
- `nengo_lmu.networks.wiring`: `Wiring`, how they are connected for the
  simulator that runs them (`nengo_lmu.loihi.LoihiWiring` for nengo_loihi).
- `nengo_lmu.networks.subpopulations`: sub-population ensembles (encoders, the
  build-time solver, and the builders that emit the fused step on Nengo's
  reference simulator: `nengo_lmu.networks.fused`).

The trainable LMU layer, `nengo_lmu.dl.LMUCell`, lives with what NengoDL needs.
"""

from nengo_lmu.networks.builder import build_mapped_network
from nengo_lmu.networks.fused import SimSubpopulation
from nengo_lmu.networks.layouts import (
    AUTO_SUBPOPULATION_THRESHOLD,
    DEFAULT_SUBPOPULATION_SIZE,
    LAYOUTS,
    Layout,
    OneEnsemble,
    PerDimension,
    State,
    Subpopulations,
    build_state,
    subpopulation_ensemble,
)
from nengo_lmu.networks.linear import LinearNetwork
from nengo_lmu.networks.memory import (
    LMUMemory,
    RollingWindow,
    is_linear,
    sample_windows,
)
from nengo_lmu.networks.subpopulations import (
    SubpopulationConnection,
    SubpopulationEncoders,
    SubpopulationEnsemble,
    SubpopulationSolver,
)
from nengo_lmu.networks.wiring import Wiring

__all__ = [
    "AUTO_SUBPOPULATION_THRESHOLD",
    "DEFAULT_SUBPOPULATION_SIZE",
    "LAYOUTS",
    "LMUMemory",
    "Layout",
    "LinearNetwork",
    "OneEnsemble",
    "PerDimension",
    "RollingWindow",
    "State",
    "Subpopulations",
    "Wiring",
    "build_mapped_network",
    "build_state",
    "is_linear",
    "SimSubpopulation",
    "SubpopulationConnection",
    "SubpopulationEncoders",
    "SubpopulationEnsemble",
    "SubpopulationSolver",
    "sample_windows",
    "subpopulation_ensemble",
]
