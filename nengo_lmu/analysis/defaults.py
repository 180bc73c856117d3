"""The scaling experiments' defaults, in one table.

`nengo_lmu.analysis.experiments` (one measurement), `nengo_lmu.analysis.sweeps`
(a grid of them) and ``nengo-lmu scaling`` (the default run and the presets) all
read their durations, time steps and grids from here.
"""

import copy

# Voelker et al. 2019, spiking figure (NeurIPS 2019, section 4): 1-D feed-forward
# Poisson-LIF, 1000 steps of 0.1 ms.
FEEDFORWARD_TIMING = {"duration": 0.1, "dt": 0.0001}

# The LMU memory's time step: Nengo's default.
MEMORY_DT = 0.001


def memory_sweep_duration(theta):
    """Seconds simulated per run of a memory sweep (`make_grid`'s default): four
    windows, at least 2 s."""
    return max(4 * theta, 2.0)


def memory_measurement_duration(theta):
    """Seconds simulated by one `measure_memory` call by default: ten windows, at
    least 1 s."""
    return max(10 * theta, 1.0)


# The default ``nengo-lmu scaling`` run: the headline in well under 5 minutes on
# 2 cores. Its duration stays 2 s whatever --theta is (only the feed-forward
# experiment, without a preset, changes the duration and time step).
DEFAULT_RUN = {
    "experiment": "lmu",
    "orders": [1, 3, 6],
    "neurons": [300, 1000, 3000, 10000, 30000],
    "neuron_types": ["poisson", "if", "lif"],
    "seeds": 3,
    "theta": 0.5,
    "duration": 2.0,
    "dt": MEMORY_DT,
}

# The published figures (``nengo-lmu scaling --preset NAME``); the options a preset
# leaves out come from DEFAULT_RUN.
PRESETS = {
    # Voelker et al. 2019, spiking figure (NeurIPS 2019, section 4):
    # 1-D feed-forward Poisson-LIF, 20-40 Hz, 10 Hz sine, synapse 1 ms, dt 0.1 ms,
    # 1000 steps, m = 100 .. 20,010, 5 seeds.
    "paper": {
        "experiment": "feedforward",
        "orders": [1],
        "neurons": [100, 200, 500, 1000, 2000, 5000, 10000, 20010],
        "neuron_types": ["poisson"],
        "seeds": 5,
        **FEEDFORWARD_TIMING,
    },
    # Voelker 2019 thesis: regular LIF plateaus, Poisson and non-leaky IF keep
    # falling as 1/sqrt(m); adaptive LIF beside them.
    "thesis": {
        "experiment": "feedforward",
        "orders": [1],
        "neurons": [100, 200, 500, 1000, 2000, 5000, 10000, 20010],
        "neuron_types": ["lif", "poisson", "if", "adaptive"],
        "seeds": 5,
        **FEEDFORWARD_TIMING,
    },
    # The recurrent LMU memory at orders 1, 2, 4, 8.
    "memory": {
        "experiment": "lmu",
        "orders": [1, 2, 4, 8],
        "neurons": [500, 1000, 3000, 10000, 30000, 100000],
        "neuron_types": ["poisson", "lif", "if"],
        "seeds": 3,
        "theta": 0.5,
        "duration": 2.0,
    },
    # The default run's Poisson memory continued over six decades of m (issue 21):
    # does the d / sqrt(m) law hold where the published plots stop (2e4)?
    "large": {
        "experiment": "lmu",
        "orders": [1, 3, 6],
        "neurons": [1000, 10000, 100000, 1000000, 10000000, 100000000],
        "neuron_types": ["poisson"],
        "seeds": 3,
        "theta": 0.5,
        "duration": 2.0,
    },
}


def scaling_run(preset=None, **given):
    """The settings of a ``nengo-lmu scaling`` run: `DEFAULT_RUN`, overridden by a
    preset's, overridden by the options ``given``.

    Without a preset, the feed-forward experiment takes `FEEDFORWARD_TIMING` for
    the duration and time step not given.

    >>> scaling_run(experiment="feedforward")["dt"]
    0.0001
    >>> scaling_run("memory", seeds=1)["orders"], scaling_run(seeds=1)["seeds"]
    ([1, 2, 4, 8], 1)
    """
    unknown = sorted(set(given) - set(DEFAULT_RUN))
    if unknown:
        raise TypeError(f"unknown settings {unknown}; known: {sorted(DEFAULT_RUN)}")
    config = copy.deepcopy(DEFAULT_RUN)
    if preset is not None:
        config.update(copy.deepcopy(PRESETS[preset]))
    config.update(given)
    if config["experiment"] == "feedforward" and preset is None:
        for name, value in FEEDFORWARD_TIMING.items():
            if name not in given:
                config[name] = value
    return config
