"""The thesis' delay-network protocol (Voelker 2019, Loihi chapter)."""

import time

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu._validation import check_choice
from nengo_lmu.analysis.experiments import _poisson_merge_quiet, simulator_class
from nengo_lmu.analysis.metrics import bootstrap_interval, nrmse


def measure_delay_trial(
    seed=0,
    simulator="nengo",
    order=3,
    theta=0.1,
    n_neurons=384,
    input_hz=3.0,
    input_rms=0.3,
    duration=5.0,
    readout_synapse=0.02,
    dt=0.001,
    warmup=None,
    memory_factory=None,
    variant="standard",
):
    """One trial of the thesis' delay network: NRMSE of the delayed output.

    A memory of ``n_neurons`` (default: balanced realization, one pool per state,
    the thesis' 3 x 128 LIF neurons) is driven by ``input_hz`` band-limited white
    noise; its readout of ``u(t - theta)``, filtered by ``readout_synapse``, is
    compared with the input delayed by ``theta`` and filtered the same way.

    Parameters
    ----------
    memory_factory : callable, optional
        ``memory_factory(order, theta, n_neurons, dt, process)`` returning the
        memory network (an LMUMemory); default `nengo_lmu.loihi.thesis_memory`.
    variant : {"standard", "chip", "weights"}
        ``"chip"`` (nengo_loihi only): `nengo_lmu.loihi.chip_memory` run with
        `nengo_lmu.loihi.loihi_model` (one on-chip filter after the decode
        neurons, a 20 ms synapse, 500 Hz host-input neurons). ``"weights"``:
        neuron-to-neuron recurrent weights (`nengo_lmu.loihi.thesis_memory`).

    Returns
    -------
    dict with ``nrmse``, ``build_s``, ``run_s``, ``steps_per_s``.
    """
    from nengo_lmu import loihi  # pylint: disable=import-outside-toplevel

    check_choice(variant, ("standard", "chip", "weights"), "variant")
    if variant == "chip" and simulator != "nengo_loihi":
        raise ValidationError(
            "variant='chip' is wired for nengo_loihi only", attr="variant"
        )
    warmup = 2 * theta if warmup is None else warmup
    factory = loihi.thesis_memory if memory_factory is None else memory_factory
    if variant == "chip":
        factory = loihi.chip_memory
    elif variant == "weights":

        def factory(order, theta, n_neurons, dt, process):
            return loihi.thesis_memory(
                order, theta, n_neurons, dt, process, recurrent="weights"
            )

    # Seed the input itself: nengo_loihi runs input nodes in a host simulator
    # that does not take the network's seed, so an unseeded process would give
    # every emulator run a different input.
    process = nengo.processes.WhiteSignal(
        period=duration, high=input_hz, rms=input_rms, y0=0.0, seed=seed
    )
    t0 = time.perf_counter()
    with nengo.Network(seed=seed) as net:
        u = nengo.Node(process, label="u")
        memory = factory(order, theta, n_neurons, dt, process)
        nengo.Connection(u, memory.input, synapse=None)
        delayed = memory.add_readout(1.0, label="delayed")
        p_out = nengo.Probe(delayed, synapse=readout_synapse)
        p_u = nengo.Probe(u, synapse=readout_synapse)
    Simulator = simulator_class(simulator)
    sim_kwargs = {}
    if simulator == "nengo_loihi":
        loihi.check_fits(memory)
    if variant == "chip":
        sim_kwargs["model"] = loihi.loihi_model(
            dt, decode_tau=memory.synapse.tau, input_rate=500
        )
    if simulator == "nengo_loihi":
        sim_kwargs["seed"] = seed
    with (
        _poisson_merge_quiet(),
        Simulator(net, dt=dt, progress_bar=False, **sim_kwargs) as sim,
    ):
        build_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        sim.run(duration)
        run_s = time.perf_counter() - t1
        y = np.asarray(sim.data[p_out])[:, 0]
        ideal = np.asarray(sim.data[p_u])[:, 0]
    delay = int(round(theta / dt))
    start = max(int(round(warmup / dt)), delay + 1)
    # the network lags the input by one step more than the delay itself
    target = ideal[start - delay - 1 : len(ideal) - delay - 1]
    n_steps = int(round(duration / dt))
    return {
        "nrmse": nrmse(y[start:], target),
        "build_s": build_s,
        "run_s": run_s,
        "steps_per_s": n_steps / run_s,
    }


def delay_protocol(
    simulators=("nengo", "nengo_loihi", "nengo_loihi:chip"),
    trials=25,
    seed=0,
    **kwargs,
):
    """The thesis protocol over ``trials`` seeds, per simulator.

    ``simulators`` are simulator names, optionally with ``:chip`` for the
    chip-wired variant (see `measure_delay_trial`).

    Returns
    -------
    rows : list of dict
        One per simulator: ``simulator``, ``mean``, ``ci_low``, ``ci_high`` (95 %
        bootstrap interval of the mean NRMSE), ``trials``, ``steps_per_s``.
    """
    rows = []
    for name in simulators:
        simulator, _, variant = name.partition(":")
        results = [
            measure_delay_trial(
                seed=seed + k,
                simulator=simulator,
                variant=variant or "standard",
                **kwargs,
            )
            for k in range(trials)
        ]
        mean, low, high = bootstrap_interval([r["nrmse"] for r in results])
        rows.append(
            {
                "simulator": name,
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "trials": trials,
                "steps_per_s": float(np.median([r["steps_per_s"] for r in results])),
                "nrmse": [r["nrmse"] for r in results],
            }
        )
    return rows
