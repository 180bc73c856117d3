"""Single measurements of spiking memories against the exact memory.

One measurement builds a memory (or the paper's feed-forward ensemble), drives it
and the exact system with the same input, and reports the error of the decoded
value against the exact one, filtered the same way.
"""

import contextlib
import time
import warnings

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu._validation import check_choice, check_positive
from nengo_lmu.analysis.defaults import (
    FEEDFORWARD_TIMING,
    MEMORY_DT,
    memory_measurement_duration,
)
from nengo_lmu.analysis.metrics import nrmse, rmse
from nengo_lmu.networks import LMUMemory
from nengo_lmu.systems import LegendreMemory, legendre_readout

SIMULATORS = ("nengo", "nengo_dl", "nengo_loihi")


def simulator_class(name):
    """The Simulator class of a backend, imported only when asked for."""
    check_choice(name, SIMULATORS, "simulator")
    if name == "nengo_dl":
        import nengo_dl  # pylint: disable=import-outside-toplevel

        return nengo_dl.Simulator
    if name == "nengo_loihi":
        import nengo_loihi  # pylint: disable=import-outside-toplevel

        from nengo_lmu.loihi import (  # pylint: disable=import-outside-toplevel
            register_builders,
        )

        register_builders()
        return nengo_loihi.Simulator
    return nengo.Simulator


def measure_memory(
    order,
    theta,
    n_neurons,
    neuron_type=None,
    seed=0,
    duration=None,
    input_process=None,
    dt=MEMORY_DT,
    probe_synapse=0.01,
    delay=1.0,
    simulator="nengo",
    warmup=None,
    **memory_kwargs,
):
    """Build and run one spiking memory beside the exact one; return its errors.

    Parameters
    ----------
    order, theta, n_neurons, neuron_type
        Passed to `nengo_lmu.networks.LMUMemory`.
    seed : int
        Seeds the network (neurons) and the input signal.
    duration : float, optional
        Simulated seconds (default ``10 * theta``, at least 1 s).
    input_process : nengo.Process, optional
        Input signal (default: band-limited white noise up to ``1 / theta`` Hz,
        rms 0.5, starting at 0, seeded from ``seed``). The memory's radii are fit
        to it.
    probe_synapse : float
        Lowpass applied to both the decoded and the exact memory before comparing.
    delay : float
        Delay (fraction of theta) whose readout error is reported.
    simulator : {"nengo", "nengo_dl", "nengo_loihi"}
    warmup : float, optional
        Seconds excluded from the error at the start (default ``theta``).
    memory_kwargs
        Further arguments of LMUMemory (layout, synapse, realization...).

    Returns
    -------
    result : dict
        ``nrmse``, ``rmse`` (decoded vs exact memory, all dimensions),
        ``readout_nrmse`` (delay readout vs the exact memory's readout),
        ``build_s``, ``run_s``, ``n_neurons`` (actually built), and the arrays
        ``t``, ``decoded``, ``exact`` and, after the warm-up and a step apart
        as the errors compare them, ``compared`` (decoded) and ``target``
        (exact).
    """
    theta = check_positive(theta, "theta")
    duration = memory_measurement_duration(theta) if duration is None else duration
    duration = check_positive(duration, "duration")
    warmup = theta if warmup is None else warmup
    if not 0 <= warmup < duration:
        raise ValidationError(
            f"warmup ({warmup} s) must be >= 0 and shorter than duration "
            f"({duration} s)",
            attr="warmup",
        )
    if input_process is None:
        input_process = _memory_input(theta, duration, seed, simulator)
    Simulator = simulator_class(simulator)

    t0 = time.perf_counter()
    with nengo.Network(seed=seed) as net:
        u = nengo.Node(input_process, label="u")
        memory = LMUMemory(
            order,
            theta,
            n_neurons,
            neuron_type=neuron_type,
            dt=dt,
            input_process=input_process,
            **memory_kwargs,
        )
        nengo.Connection(u, memory.input, synapse=None)
        exact = nengo.Node(LegendreMemory(order, theta), size_in=1, label="exact")
        nengo.Connection(u, exact, synapse=None)
        p_decoded = nengo.Probe(memory.output, synapse=probe_synapse)
        p_exact = nengo.Probe(exact, synapse=probe_synapse)
    with _poisson_merge_quiet(), Simulator(net, dt=dt, progress_bar=False) as sim:
        build_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        sim.run(duration)
        run_s = time.perf_counter() - t1
        t = sim.trange()
        decoded = np.asarray(sim.data[p_decoded])
        exact_m = np.asarray(sim.data[p_exact])
    # The network lags the exact process by one time step (its input synapse
    # delivers u a step later); compare like with like.
    start = max(1, int(round(warmup / dt)))
    y = decoded[start:]
    target = exact_m[start - 1 : -1]
    C = legendre_readout(order, delay)
    return {
        "nrmse": nrmse(y, target),
        "rmse": rmse(y, target),
        "readout_nrmse": nrmse(y @ C.T, target @ C.T),
        "build_s": build_s,
        "run_s": run_s,
        "n_neurons": int(sum(e.n_neurons for e in memory.all_ensembles)),
        "layout": memory.layout,
        "t": t,
        "decoded": decoded,
        "exact": exact_m,
        "compared": y,
        "target": target,
    }


def _memory_input(theta, duration, seed, simulator):
    """`measure_memory`'s default input: white noise up to ``1 / theta`` Hz."""
    return nengo.processes.WhiteSignal(
        period=max(duration, 20 * theta),
        high=1.0 / theta,
        rms=0.5,
        y0=0.0,
        # nengo_loihi runs input nodes in a host simulator that ignores the
        # network's seed: seed the process itself there (Nengo and NengoDL
        # derive it from the network seed).
        seed=seed if simulator == "nengo_loihi" else None,
    )


# Nengo's optimizer merges the SimNeurons operators of ensembles that share a
# PoissonSpiking neuron type and keeps the first one's random generator for the
# merged operator, with a warning (nengo/builder/optimizer.py, SimNeuronsMerger).
# The merged ensembles then draw their spikes from one stream: still independent
# Poisson draws, still reproducible from the simulator's seed, so the warning says
# nothing about these measurements and is silenced around their simulators.
POISSON_MERGE_WARNING = "Extra state has been modified when merging"


@contextlib.contextmanager
def _poisson_merge_quiet():
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=POISSON_MERGE_WARNING, category=UserWarning
        )
        yield


NEURON_TYPES = {
    # name: (factory, description)
    "lif": (nengo.LIF, "regular-spiking LIF"),
    "poisson": (lambda: nengo.PoissonSpiking(nengo.LIFRate()), "Poisson-spiking LIF"),
    "if": (nengo.SpikingRectifiedLinear, "non-leaky integrate-and-fire"),
    "adaptive": (nengo.AdaptiveLIF, "adaptive LIF"),
    "regular": (
        lambda: nengo.RegularSpiking(nengo.LIFRate()),
        "LIF rate with regular spikes",
    ),
}

EXPERIMENTS = ("lmu", "feedforward")


def make_neuron_type(name):
    """A fresh neuron type from its short name (see `NEURON_TYPES`)."""
    check_choice(name, tuple(NEURON_TYPES), "neuron_type")
    return NEURON_TYPES[name][0]()


def measure_feedforward(
    n_neurons,
    neuron_type=None,
    seed=0,
    duration=FEEDFORWARD_TIMING["duration"],
    dt=FEEDFORWARD_TIMING["dt"],
    synapse=0.001,
    frequency=10.0,
    max_rates=None,
    layout="auto",
    warmup=0.0,
):
    """The paper's experiment: a 1-D ensemble decoding ``sin(2 pi f t)``.

    Defaults follow Voelker et al. 2019 (spiking figure): Poisson-LIF (tau_rc 20 ms,
    tau_ref 2 ms), max rates U(20, 40) Hz, a 10 Hz sine, synapse 1 ms, dt 0.1 ms,
    1000 steps. The error is that of the decoded value against the input filtered
    by the same synapse.

    Parameters
    ----------
    layout : {"auto", "ensemble", "subpopulations"}
        ``"ensemble"``: one Nengo ensemble with Nengo's default solver (as in the
        paper; needs O(m^2) memory); ``"subpopulations"``: groups with
        independently solved decoders (`nengo_lmu.networks.subpopulation_ensemble`),
        linear in m. ``"auto"``: the ensemble up to
        ``networks.AUTO_SUBPOPULATION_THRESHOLD`` neurons.
    """
    from nengo_lmu.networks import (  # pylint: disable=import-outside-toplevel
        AUTO_SUBPOPULATION_THRESHOLD,
        subpopulation_ensemble,
    )

    check_choice(layout, ("auto", "ensemble", "subpopulations"), "layout")
    if layout == "auto":
        layout = (
            "subpopulations" if n_neurons > AUTO_SUBPOPULATION_THRESHOLD else "ensemble"
        )
    neuron_type = (
        nengo.PoissonSpiking(nengo.LIFRate()) if neuron_type is None else neuron_type
    )
    max_rates = nengo.dists.Uniform(20, 40) if max_rates is None else max_rates
    intercepts = nengo.dists.Uniform(-1.0, 0.9)
    t0 = time.perf_counter()
    with nengo.Network(seed=seed) as net:
        u = nengo.Node(lambda t: np.sin(2 * np.pi * frequency * t))
        out = nengo.Node(size_in=1)
        if layout == "ensemble":
            ens = nengo.Ensemble(
                n_neurons,
                1,
                neuron_type=neuron_type,
                max_rates=max_rates,
                intercepts=intercepts,
            )
            nengo.Connection(ens, out, synapse=None)
        else:
            ens, solver = subpopulation_ensemble(
                n_neurons,
                1,
                neuron_type=neuron_type,
                max_rates=max_rates,
                intercepts=intercepts,
                fuse=False,  # Nengo's operators, as in the paper and its results
            )
            nengo.Connection(ens, out, solver=solver, synapse=None)
        nengo.Connection(u, ens, synapse=None)
        p_out = nengo.Probe(out, synapse=synapse)
        p_ideal = nengo.Probe(u, synapse=synapse)
    with _poisson_merge_quiet(), nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        build_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        sim.run_steps(int(round(duration / dt)))
        run_s = time.perf_counter() - t1
        y = sim.data[p_out]
        ideal = sim.data[p_ideal]
    start = int(round(warmup / dt))
    return {
        "nrmse": nrmse(y[start:], ideal[start:]),
        "rmse": rmse(y[start:], ideal[start:]),
        "readout_nrmse": float("nan"),
        "build_s": build_s,
        "run_s": run_s,
        "n_neurons": int(n_neurons),
        "layout": layout,
    }
