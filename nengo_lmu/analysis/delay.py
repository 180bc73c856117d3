"""The thesis' delay-network protocol (Voelker 2019, Loihi chapter), in two metrics.

A delay network (order 3, theta 0.1 s) holds a window of its input; the thesis
and this package score it differently, and both scores are reported:

- **thesis** (`thesis_nrmse`): the network's decoded state, read out at 100
  delays spanning ``[0, theta]``, against the ideal delay system's output at the
  same delays, all together, with the 20 ms readout filter undone (Voelker 2019,
  the public code ``code/dn.py`` of the repository arvoelke/phd); on 10 fixed 2 s
  inputs of RMS 1, 3 Hz band-limited white noise (`THESIS_INPUT_SEEDS`).
- **ours** (`delayed_nrmse`): ``u(t - theta)`` alone, read out through a 20 ms
  filter, against the input delayed by theta and filtered the same way.

`measure_delay_trial` runs one network once and returns both; `delay_protocol`
repeats it and gives each a bootstrap 95 % interval.
"""

import time
import warnings
from contextlib import nullcontext

import nengo
import numpy as np

from nengo_lmu._validation import check_choice
from nengo_lmu.analysis.experiments import _poisson_merge_quiet, simulator_class
from nengo_lmu.analysis.metrics import bootstrap_interval, nrmse
from nengo_lmu.loihi import LOIHI_INTERCEPTS, LOIHI_MAX_RATES
from nengo_lmu.loihi.quiet import quiet_build as loihi_quiet_build
from nengo_lmu.mapping import principle3
from nengo_lmu.systems import LinearSystem, PadeDelay, legendre_readout, lmu_matrices

# dn.py (arvoelke/phd): WhiteSignal(period=2 s, high=3 Hz, rms=1, y0=0, seed=s) for
# s = 1..10, each run once per repetition (25 repetitions there).
THESIS_INPUT_SEEDS = tuple(range(1, 11))
THESIS_DURATION = 2.0
THESIS_INPUT_RMS = 1.0
# dn.py: readout(order, r) for r in linspace(0, 1, 100)
THESIS_DELAYS = 100
# dn.py: Balanced()(PadeDelay, radii=1 / (i + 1)), "chosen to keep radii within
# [-1, +1]" for inputs of RMS 1
THESIS_RADII = (1.0, 1.0 / 2, 1.0 / 3)
# dn.py and dn-reference.py / dn-loihi.py: tau = 0.01 on both ("any higher causes
# issues" on Loihi), 128 neurons per state
THESIS_SYNAPSE = 0.01

NETWORKS = ("thesis", "loihi", "standard", "weights")
METRICS = ("thesis", "ours")


def _krylov(A, B, theta):
    """``[B, (theta A) B, (theta A)^2 B, ...]``: well scaled for a window theta."""
    A = np.asarray(A) * theta
    columns = [np.asarray(B, dtype=float)]
    for _ in range(len(A) - 1):
        columns.append(A @ columns[-1])
    return np.hstack(columns)


def delay_window_readout(realization, theta, n_delays=THESIS_DELAYS):
    """Rows that read ``u(t - r theta)``, ``r`` in ``linspace(0, 1, n_delays)``,
    from a delay network's realized state.

    Parameters
    ----------
    realization : LinearSystem or Realization
        The system the neurons represent (``A``, ``B`` attributes): any basis of
        the ``[order - 1/order]`` Pade delay of ``theta`` (the LMU memory is one).
    theta : float
    n_delays : int

    Returns
    -------
    C : (n_delays, order) ndarray

    Notes
    -----
    Two minimal realizations of one transfer function are related by a unique
    change of basis, ``m = T x``, here with ``m`` the Legendre memory, whose
    readout at ``r`` is ``P_i(2 r - 1)`` (`legendre_readout`). ``T`` maps the
    controllability (Krylov) matrices onto each other,
    ``T = K_legendre K_x^-1``.
    """
    A, B = np.asarray(realization.A), np.asarray(realization.B)
    order = len(A)
    A_m, B_m = lmu_matrices(order, theta)
    T = _krylov(A_m, B_m, theta) @ np.linalg.inv(_krylov(A, B, theta))
    return legendre_readout(order, np.linspace(0, 1, n_delays)) @ T


def ideal_state(realization, u, dt):
    """The exact state of ``realization`` for input ``u`` (ZOH at ``dt``,
    ``x[k]`` from inputs up to ``k - 1``, `LinearSystem.filter`)."""
    A, B = np.asarray(realization.A), np.asarray(realization.B)
    states = LinearSystem.from_ss(A, B, np.eye(len(A)), np.zeros((len(A), B.shape[1])))
    return states.filter(np.asarray(u, dtype=float).reshape(len(u), -1), dt=dt)


def undo_readout_filter(x_raw, u, realization, dt, readout_synapse=0.02):
    """The state estimated from unfiltered spikes through a readout filter whose
    lag is undone (the thesis' "discrete principle 3, offline").

    ``x_hat = h(A_H x_raw + B_H u)``, with ``h`` the discretized lowpass
    ``readout_synapse`` and ``(A_H, B_H)`` the exact discrete Principle 3 mapping
    of the realization through ``h``: for the exact state, ``x_hat = x``; spike
    noise is filtered by ``h`` (times ``A_H``).

    Parameters
    ----------
    x_raw : (n_steps, order) array_like
        The decoded state, unfiltered (a probe with ``synapse=None``).
    u : (n_steps, 1) array_like
        The ideal input.

    Returns
    -------
    x_hat : (n_steps, order) ndarray
        ``x_hat[k + 1] = a x_hat[k] + (1 - a) (A_H x_raw[k] + B_H u[k])``,
        ``a = exp(-dt / tau)``, ``x_hat[0] = 0``.
    """
    synapse = nengo.Lowpass(readout_synapse)
    A_H, B_H = principle3(
        np.asarray(realization.A),
        np.asarray(realization.B),
        synapse,
        mapping="discrete",
        dt=dt,
    )
    u = np.asarray(u, dtype=float).reshape(len(u), -1)
    drive = np.asarray(x_raw, dtype=float) @ A_H.T + u @ B_H.T
    return _probe_filter(drive, synapse, dt)


def _probe_filter(signal, synapse, dt):
    """``signal`` (steps along axis 0) filtered as a nengo.Probe's ``synapse``
    filters it: ZOH at ``dt``, output ``k`` from inputs up to ``k - 1``."""
    system = LinearSystem.from_synapse(synapse).discretize(dt)
    signal = np.asarray(signal, dtype=float)
    if signal.ndim == 1:
        return system.filter(signal)
    return np.column_stack([system.filter(column) for column in signal.T])


def thesis_nrmse(
    x_raw, u, realization, theta, dt=0.001, readout_synapse=0.02, n_delays=THESIS_DELAYS
):
    """The thesis' score of a delay network: NRMSE over the whole window.

    The state, its readout filter undone (`undo_readout_filter`), is read out at
    ``n_delays`` delays spanning ``[0, theta]`` (`delay_window_readout`) and compared
    with the same readout of the ideal state (`ideal_state`), all delays and time
    steps together, from the first step on (Voelker 2019; ``analyze`` in
    ``code/dn.py`` of arvoelke/phd).

    Parameters
    ----------
    x_raw : (n_steps, order) array_like
        The network's decoded state, unfiltered.
    u : (n_steps,) or (n_steps, 1) array_like
        The input as the network received it.
    realization : LinearSystem or Realization
        The system the network represents (its ``A``, ``B``).

    Returns
    -------
    float
        ``||W_hat - W||_F / ||W||_F`` with ``W = C x_ideal^T``, ``C`` the window
        readout: 0 for the exact state.
    """
    C = delay_window_readout(realization, theta, n_delays)
    x_hat = undo_readout_filter(x_raw, u, realization, dt, readout_synapse)
    x_ideal = ideal_state(realization, u, dt)
    return nrmse(x_hat @ C.T, x_ideal @ C.T)


def delayed_nrmse(y, u, theta, dt=0.001, readout_synapse=0.02, warmup=None):
    """This package's score: NRMSE of ``u(t - theta)`` alone, both filtered.

    Parameters
    ----------
    y : (n_steps,) array_like
        The network's readout of ``u(t - theta)``, unfiltered.
    u : (n_steps,) array_like
        The input.
    warmup : float, optional
        Seconds not scored (default ``2 theta``).

    Returns
    -------
    float
        NRMSE of ``h(y)`` against ``h(u)`` delayed by ``theta / dt + 1`` steps (the
        network lags its input by one step more than the delay), after
        ``warmup``; ``h`` the lowpass ``readout_synapse`` as a nengo.Probe applies it.
    """
    warmup = 2 * theta if warmup is None else warmup
    synapse = nengo.Lowpass(readout_synapse)
    y = _probe_filter(np.ravel(y), synapse, dt)
    ideal = _probe_filter(np.ravel(u), synapse, dt)
    delay = int(round(theta / dt))
    start = max(int(round(warmup / dt)), delay + 1)
    return nrmse(y[start:], ideal[start - delay - 1 : len(ideal) - delay - 1])


class ThesisDelayNetwork(nengo.Network):
    """The delay network of the thesis' Loihi chapter, as its code builds it.

    One 1-D ensemble of ``n_neurons // order`` LIF neurons per state of the
    balanced ``[order - 1/order]`` Pade delay, scaled by `THESIS_RADII`; every
    ensemble feeds every other through its own connection (``a_ij x_j``), and the
    input reaches state ``i`` through ``b_i``, all through a lowpass ``synapse``
    with the continuous Principle 3 mapping (``A_H = tau A + I``, ``B_H = tau B``).
    ``loihi=True`` is the thesis' Loihi configuration: maximum rates U(100, 120)
    Hz, intercepts U(-1, 0.5) and neuron-to-neuron recurrent weights
    (``LstsqL2(reg=0.1, weights=True)``); otherwise Nengo's defaults decide.

    It is here to reproduce the thesis' figures (the protocol's reference), not
    as a memory to use: `nengo_lmu.networks.LinearNetwork` builds the same
    decoded network (``layout="per-dimension"``, ``mapping="continuous"``).

    Attributes
    ----------
    input, state : nengo.Node
        The input (1-D) and the decoded state (``order``-D, unfiltered).
    realization : LinearSystem
        The scaled balanced Pade delay the ensembles represent.
    """

    def __init__(
        self,
        order=3,
        theta=0.1,
        n_neurons=384,
        synapse=THESIS_SYNAPSE,
        loihi=False,
        radii=None,
        dt=0.001,
        **kwargs,
    ):
        super().__init__(**kwargs)
        radii = THESIS_RADII if radii is None else radii
        radii = np.broadcast_to(np.asarray(radii, dtype=float), (order,))
        self.order, self.theta = order, theta
        self.realization = (
            PadeDelay(theta, order).balanced().transform(np.diag(1.0 / radii))
        )
        A_H, B_H = principle3(
            self.realization.A,
            self.realization.B,
            nengo.Lowpass(synapse),
            mapping="continuous",
            dt=dt,
        )
        self.recurrent_transform, self.input_transform = A_H, B_H
        ens_kwargs, solver = {}, {}
        if loihi:
            # dn-loihi.py's pre_fixture and recurrent_solver
            ens_kwargs = dict(max_rates=LOIHI_MAX_RATES, intercepts=LOIHI_INTERCEPTS)
            solver = {"solver": nengo.solvers.LstsqL2(reg=0.1, weights=True)}
        with self:
            self.input = nengo.Node(size_in=1, label="input")
            self.state = nengo.Node(size_in=order, label="state")
            self.pools = [
                nengo.Ensemble(n_neurons // order, 1, label=f"X[{i}]", **ens_kwargs)
                for i in range(order)
            ]
            for i, post in enumerate(self.pools):
                nengo.Connection(
                    self.input, post, transform=B_H[i : i + 1], synapse=synapse
                )
                nengo.Connection(post, self.state[i], synapse=None)
                for j, pre in enumerate(self.pools):
                    nengo.Connection(
                        pre, post, transform=A_H[i, j], synapse=synapse, **solver
                    )


def _memory_network(network, simulator, order, theta, n_neurons, dt, process):
    from nengo_lmu import loihi  # pylint: disable=import-outside-toplevel

    if network == "loihi":
        target = "loihi" if simulator == "nengo_loihi" else "nengo"
        return loihi.loihi_memory(order, theta, n_neurons, dt, process, target=target)
    return loihi.thesis_memory(
        order,
        theta,
        n_neurons,
        dt,
        process,
        recurrent="weights" if network == "weights" else "decoded",
    )


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
    input_seed=None,
):
    """One run of a delay network, scored by both metrics.

    A network of ``n_neurons`` is driven by ``input_hz`` band-limited white noise
    of RMS ``input_rms`` (seeded by ``input_seed``, default ``seed``) for
    ``duration`` seconds; its decoded state and the input are probed unfiltered
    and scored by `thesis_nrmse` and `delayed_nrmse`.

    Parameters
    ----------
    seed : int
        Seed of the network (its neurons) and, by default, of the input.
    simulator : {"nengo", "nengo_loihi"}
    memory_factory : callable, optional
        ``memory_factory(order, theta, n_neurons, dt, process)`` returning an
        LMUMemory (or any network with ``input``, ``state`` and ``realization``);
        overrides ``variant``.
    variant : {"loihi", "standard", "weights", "thesis"}
        The network. ``"loihi"``: `nengo_lmu.loihi.loihi_memory`, the LMU
        memory wired for the simulator it runs on (``LoihiWiring`` on
        nengo_loihi; on Nengo the same pools, rates and recurrent weights wired
        for Nengo). ``"standard"``: `nengo_lmu.loihi.thesis_memory` (the memory
        wired for Nengo; balanced, one ensemble, 0.1 s synapse). ``"weights"``:
        the same with neuron-to-neuron recurrent weights. ``"thesis"``:
        `ThesisDelayNetwork`, in its Loihi configuration on nengo_loihi.
    input_seed : int, optional

    Returns
    -------
    dict with ``thesis_nrmse``, ``nrmse`` (ours), ``build_s``, ``run_s``,
    ``steps_per_s``.
    """
    from nengo_lmu import loihi  # pylint: disable=import-outside-toplevel

    check_choice(variant, NETWORKS, "variant")
    # Seed the input itself: nengo_loihi runs input nodes in a host simulator
    # that does not take the network's seed, so an unseeded process would give
    # every emulator run a different input.
    process = nengo.processes.WhiteSignal(
        period=duration,
        high=input_hz,
        rms=input_rms,
        y0=0.0,
        seed=seed if input_seed is None else input_seed,
    )
    t0 = time.perf_counter()
    with nengo.Network(seed=seed) as net:
        u = nengo.Node(process, label="u")
        if memory_factory is not None:
            memory = memory_factory(order, theta, n_neurons, dt, process)
        elif variant == "thesis":
            memory = ThesisDelayNetwork(
                order, theta, n_neurons, loihi=simulator == "nengo_loihi", dt=dt
            )
        else:
            memory = _memory_network(
                variant, simulator, order, theta, n_neurons, dt, process
            )
        nengo.Connection(u, memory.input, synapse=None)
        p_state = nengo.Probe(memory.state, synapse=None)
        p_u = nengo.Probe(u, synapse=None)
    Simulator = simulator_class(simulator)
    sim_kwargs = {}
    if simulator == "nengo_loihi":
        sim_kwargs["seed"] = seed
        if hasattr(memory, "all_ensembles") and hasattr(memory, "size_in"):
            loihi.check_fits(memory)
    with _poisson_merge_quiet(), warnings.catch_warnings():
        # nengo_loihi gives each chip ensemble one input filter, the longest of
        # its connections' (the memory's synapse), and warns that the host
        # input's shorter one is not used: that is the Loihi wiring's intent.
        warnings.filterwarnings("ignore", message="tau_s is (already set|currently)")
        quiet = loihi_quiet_build() if simulator == "nengo_loihi" else nullcontext()
        with quiet, Simulator(net, dt=dt, progress_bar=False, **sim_kwargs) as sim:
            build_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            sim.run(duration)
            run_s = time.perf_counter() - t1
            x_raw = np.asarray(sim.data[p_state])
            u_data = np.asarray(sim.data[p_u])
    delayed = x_raw @ delay_window_readout(memory.realization, theta, 2)[1]
    n_steps = int(round(duration / dt))
    return {
        "thesis_nrmse": thesis_nrmse(
            x_raw, u_data, memory.realization, theta, dt, readout_synapse
        ),
        "nrmse": delayed_nrmse(delayed, u_data, theta, dt, readout_synapse, warmup),
        "build_s": build_s,
        "run_s": run_s,
        "steps_per_s": n_steps / run_s,
    }


def thesis_trial(trial, network="thesis", simulator="nengo", seed=0, **kwargs):
    """Trial ``trial`` of the thesis' protocol: its input number
    ``trial % 10`` (`THESIS_INPUT_SEEDS`, 2 s of RMS 1), a network drawn with seed
    ``seed + trial``; `measure_delay_trial` scores it both ways."""
    kwargs.setdefault("input_rms", THESIS_INPUT_RMS)
    kwargs.setdefault("duration", THESIS_DURATION)
    return measure_delay_trial(
        seed=seed + trial,
        simulator=simulator,
        variant=network,
        input_seed=THESIS_INPUT_SEEDS[trial % len(THESIS_INPUT_SEEDS)],
        **kwargs,
    )


def delay_protocol(
    simulators=("nengo:loihi", "nengo_loihi:loihi"),
    trials=10,
    seed=0,
    **kwargs,
):
    """The thesis' protocol over ``trials`` runs, per simulator and network.

    ``simulators`` are simulator names, optionally with ``:<network>`` (one of
    `NETWORKS`; default ``standard``), e.g. ``"nengo:thesis"``,
    ``"nengo_loihi:loihi"``. Trial ``k`` runs `thesis_trial` ``k``: the thesis'
    10 inputs in turn, a new draw of neurons each time (the thesis ran each input
    25 times: ``trials=250``).

    Returns
    -------
    rows : list of dict
        One per entry of ``simulators``: ``simulator``, ``network``, ``trials``,
        ``steps_per_s`` and, per metric ``m`` in `METRICS`, ``m`` (the mean
        NRMSE), ``m_low``, ``m_high`` (its bootstrap 95 % interval) and
        ``m_values`` (one per trial).
    """
    rows = []
    for name in simulators:
        simulator, _, network = name.partition(":")
        results = [
            thesis_trial(k, network or "standard", simulator, seed=seed, **kwargs)
            for k in range(trials)
        ]
        row = {
            "simulator": simulator,
            "network": network or "standard",
            "trials": trials,
            "steps_per_s": float(np.median([r["steps_per_s"] for r in results])),
        }
        for metric, key in (("thesis", "thesis_nrmse"), ("ours", "nrmse")):
            values = [r[key] for r in results]
            mean, low, high = bootstrap_interval(values)
            row.update(
                {
                    metric: mean,
                    f"{metric}_low": low,
                    f"{metric}_high": high,
                    f"{metric}_values": values,
                }
            )
        rows.append(row)
    return rows
