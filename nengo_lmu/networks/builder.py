"""Building networks made by Principle 3: checks Nengo's builder cannot make."""

import numpy as np
from nengo.builder.network import build_network
from nengo.exceptions import BuildError


def check_simulator_dt(model, network):
    """Raise a BuildError if ``network``'s discrete mapping was made for another
    time step than the simulator's (``model.dt``), saying how to fix it."""
    if network.mapping == "discrete" and not np.isclose(
        model.dt, network.dt, rtol=1e-9, atol=0
    ):
        raise BuildError(
            f"{network}: mapping='discrete' made its transforms for "
            f"dt={network.dt:g}, but the simulator's dt is {model.dt:g}; construct "
            f"it with dt={model.dt:g} (or use mapping='continuous')"
        )


def build_mapped_network(model, network, progress=None):
    """Nengo's network builder, after checking the network against the simulator.

    Registered (``nengo.builder.Builder.register``) for the networks whose
    transforms come from `nengo_lmu.mapping`: a discrete mapping is exact for the
    time step it was made for, and only for it. Simulated at another ``dt`` the
    network would run other dynamics without a word, so a mismatch fails the
    build, saying how to fix it.

    The network's sub-population ensembles get their fused step from their own
    builders (`nengo_lmu.networks.subpopulations.build_subpopulation_ensemble`),
    as Nengo's builder reaches them.
    """
    check_simulator_dt(model, network)
    return build_network(model, network, progress=progress)
