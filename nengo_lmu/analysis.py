"""Experiments on spiking LMU memories: error measures and single measurements.

One measurement builds a memory, drives it and the exact memory with the same
input, and reports the error of the decoded memory (and of a delay readout)
against the exact one, filtered the same way.
"""

import time

import numpy as np
import nengo
from nengo.exceptions import ValidationError

from nengo_lmu._validation import check_choice, check_positive
from nengo_lmu.networks import LMUMemory
from nengo_lmu.systems import LegendreMemory, legendre_readout

SIMULATORS = ("nengo", "nengo_dl", "nengo_loihi")


def rmse(y, target):
    """Root-mean-square error over all samples and dimensions."""
    return float(np.sqrt(np.mean((np.asarray(y) - np.asarray(target)) ** 2)))


def nrmse(y, target):
    """RMSE normalized by the RMS of ``target`` (0 = perfect, 1 = as bad as 0)."""
    return rmse(y, target) / float(np.sqrt(np.mean(np.asarray(target) ** 2)))


def simulator_class(name):
    """The Simulator class of a backend, imported only when asked for."""
    check_choice(name, SIMULATORS, "simulator")
    if name == "nengo_dl":
        import nengo_dl  # pylint: disable=import-outside-toplevel

        return nengo_dl.Simulator
    if name == "nengo_loihi":
        import nengo_loihi  # pylint: disable=import-outside-toplevel

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
    dt=0.001,
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
        rms 0.5, seeded from ``seed``). The memory's radii are fit to it.
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
        ``t``, ``decoded``, ``exact``.
    """
    theta = check_positive(theta, "theta")
    duration = max(10 * theta, 1.0) if duration is None else duration
    duration = check_positive(duration, "duration")
    warmup = theta if warmup is None else warmup
    if not 0 <= warmup < duration:
        raise ValidationError(
            f"warmup ({warmup} s) must be >= 0 and shorter than duration "
            f"({duration} s)",
            attr="warmup",
        )
    if input_process is None:
        input_process = nengo.processes.WhiteSignal(
            period=max(duration, 20 * theta), high=1.0 / theta, rms=0.5
        )
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
            input_process=memory_kwargs.pop("radii_process", input_process),
            **memory_kwargs,
        )
        nengo.Connection(u, memory.input, synapse=None)
        exact = nengo.Node(LegendreMemory(order, theta), size_in=1, label="exact")
        nengo.Connection(u, exact, synapse=None)
        p_decoded = nengo.Probe(memory.output, synapse=probe_synapse)
        p_exact = nengo.Probe(exact, synapse=probe_synapse)
    with Simulator(net, dt=dt, progress_bar=False) as sim:
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
    }
