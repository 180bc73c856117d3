"""Experiments on spiking LMU memories: error measures and single measurements.

One measurement builds a memory, drives it and the exact memory with the same
input, and reports the error of the decoded memory (and of a delay readout)
against the exact one, filtered the same way.
"""

import concurrent.futures
import contextlib
import csv
import io
import multiprocessing
import os
import time
import warnings

import nengo
import numpy as np
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
            period=max(duration, 20 * theta),
            high=1.0 / theta,
            rms=0.5,
            y0=0.0,
            # nengo_loihi runs input nodes in a host simulator that ignores the
            # network's seed: seed the process itself there (Nengo and NengoDL
            # derive it from the network seed).
            seed=seed if simulator == "nengo_loihi" else None,
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
    }


# --------------------------------------------------------------------------------
# Neuron types by name, and the paper's feed-forward experiment
# --------------------------------------------------------------------------------

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
    duration=0.1,
    dt=0.0001,
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
            ens, decoders = subpopulation_ensemble(
                n_neurons,
                1,
                neuron_type,
                np.random.RandomState(seed),
                max_rates=max_rates,
                intercepts=intercepts,
            )
            nengo.Connection(ens.neurons, out, transform=decoders, synapse=None)
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


# --------------------------------------------------------------------------------
# Sweeps: one CSV row per run, appended as each finishes, resumable
# --------------------------------------------------------------------------------

KEY_COLUMNS = (
    "experiment",
    "order",
    "n_neurons",
    "neuron_type",
    "seed",
    "theta",
    "duration",
    "dt",
    "simulator",
)
RESULT_COLUMNS = ("nrmse", "rmse", "readout_nrmse", "build_s", "run_s", "layout")
COLUMNS = KEY_COLUMNS + RESULT_COLUMNS


def make_grid(
    experiment="lmu",
    orders=(1, 3, 6),
    neurons=(300, 1000, 3000),
    neuron_types=("lif", "poisson"),
    seeds=2,
    theta=0.5,
    duration=None,
    dt=None,
    simulator="nengo",
):
    """The list of runs (dicts of KEY_COLUMNS) of a sweep, largest first."""
    check_choice(experiment, EXPERIMENTS, "experiment")
    for name in neuron_types:
        check_choice(name, tuple(NEURON_TYPES), "neuron_types")
    if experiment == "feedforward":
        orders = (1,)
        duration = 0.1 if duration is None else duration
        dt = 0.0001 if dt is None else dt
    else:
        duration = max(4 * theta, 2.0) if duration is None else duration
        dt = 0.001 if dt is None else dt
    runs = [
        {
            "experiment": experiment,
            "order": int(order),
            "n_neurons": int(n),
            "neuron_type": name,
            "seed": int(seed),
            "theta": float(theta),
            "duration": float(duration),
            "dt": float(dt),
            "simulator": simulator,
        }
        for n in sorted(neurons, reverse=True)
        for order in orders
        for name in neuron_types
        for seed in range(seeds)
    ]
    return runs


def run_one(run):
    """Execute one run (a dict of KEY_COLUMNS); return the full CSV row."""
    # Runs solve each decoder once; the on-disk decoder cache would only add
    # lock contention between parallel workers.
    nengo.rc["decoder_cache"]["enabled"] = "False"
    neuron_type = make_neuron_type(run["neuron_type"])
    if run["experiment"] == "feedforward":
        result = measure_feedforward(
            run["n_neurons"],
            neuron_type=neuron_type,
            seed=run["seed"],
            duration=run["duration"],
            dt=run["dt"],
        )
    else:
        # nengo_loihi can quantize the single-ensemble recurrence only (see
        # nengo_lmu.loihi.thesis_memory); the CPU backends use the default layout
        extra = {"layout": "ensemble"} if run["simulator"] == "nengo_loihi" else {}
        result = measure_memory(
            run["order"],
            run["theta"],
            run["n_neurons"],
            neuron_type=neuron_type,
            seed=run["seed"],
            duration=run["duration"],
            dt=run["dt"],
            simulator=run["simulator"],
            warmup=min(run["theta"], run["duration"] / 2),
            **extra,
        )
    row = dict(run)
    row.update({k: result[k] for k in RESULT_COLUMNS})
    return row


def _key(row):
    return tuple(str(_normalize(k, row[k])) for k in KEY_COLUMNS)


def _normalize(column, value):
    if column in ("order", "n_neurons", "seed"):
        return int(float(value))
    if column in ("theta", "duration", "dt"):
        return float(value)
    return str(value)


def read_results(path):
    """Rows of a results CSV (numbers converted), or [] if it does not exist."""
    if not os.path.exists(path):
        return []
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = []
    for row in rows:
        conv = {}
        for k, v in row.items():
            if k in ("order", "n_neurons", "seed"):
                conv[k] = int(float(v))
            elif k in ("theta", "duration", "dt") + RESULT_COLUMNS[:-1]:
                conv[k] = float(v)
            else:
                conv[k] = v
        out.append(conv)
    return out


def append_row(path, row):
    """Append one row to a CSV in a single write (with a header if new), fsynced,
    so an interrupted sweep never leaves a partial line."""
    new = not os.path.exists(path) or os.path.getsize(path) == 0
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    if new:
        writer.writeheader()
    writer.writerow({k: row[k] for k in COLUMNS})
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, buf.getvalue().encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def run_sweep(runs, csv_path, workers=1, scheduler=None, progress=True):
    """Run every run not already in ``csv_path``, appending each row as it ends.

    Parameters
    ----------
    runs : list of dict
        From `make_grid`.
    csv_path : str
        Results file; rows already there (same KEY_COLUMNS) are skipped, so the
        same command run again resumes where an interrupted one stopped.
    workers : int
        Local worker processes (1 = in this process).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:port``); runs are
        submitted to that cluster instead of local processes.
    progress : bool
        Show a progress bar.

    Returns
    -------
    rows : list of dict
        Every row of ``csv_path`` that belongs to ``runs`` (old and new).
    """
    done = {_key(r) for r in read_results(csv_path)}
    todo = [r for r in runs if _key(r) not in done]
    bar = None
    if progress:
        from tqdm.auto import tqdm  # pylint: disable=import-outside-toplevel

        bar = tqdm(total=len(runs), initial=len(runs) - len(todo), unit="run")

    def finish(row):
        append_row(csv_path, row)
        if bar is not None:
            bar.update(1)

    try:
        if scheduler is not None:
            from dask.distributed import (  # pylint: disable=import-outside-toplevel
                Client,
                as_completed,
            )

            with Client(scheduler) as client:
                futures = [client.submit(run_one, r, pure=False) for r in todo]
                for future in as_completed(futures):
                    finish(future.result())
        elif workers > 1 and len(todo) > 1:
            ctx = multiprocessing.get_context("spawn")
            with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as ex:
                futures = [ex.submit(run_one, r) for r in todo]
                for future in concurrent.futures.as_completed(futures):
                    finish(future.result())
        else:
            for r in todo:
                finish(run_one(r))
    finally:
        if bar is not None:
            bar.close()
    wanted = {_key(r) for r in runs}
    return [r for r in read_results(csv_path) if _key(r) in wanted]


# --------------------------------------------------------------------------------
# Fits and figures
# --------------------------------------------------------------------------------


def fit_scaling(n_neurons, errors, n_boot=1000, rng=None):
    """Log-log slope of error against neuron count, with a bootstrap 95 % interval.

    ``errors`` holds one value per run (one per seed at each m). The slope is the
    least-squares fit of ``log(mean error at m)`` against ``log(m)``; the interval
    resamples the runs at each m (with replacement, independently) ``n_boot``
    times.

    Returns
    -------
    slope, low, high : float
    """
    n_neurons = np.asarray(n_neurons, dtype=float)
    errors = np.asarray(errors, dtype=float)
    ms = np.unique(n_neurons)
    if len(ms) < 2:
        return float("nan"), float("nan"), float("nan")
    groups = [errors[n_neurons == m] for m in ms]
    x = np.log(ms)

    def slope(values):
        return np.polyfit(x, np.log([np.mean(v) for v in values]), 1)[0]

    rng = np.random.RandomState(0) if rng is None else rng
    boot = [
        slope([g[rng.randint(len(g), size=len(g))] for g in groups])
        for _ in range(n_boot)
    ]
    low, high = np.percentile(boot, [2.5, 97.5])
    return float(slope(groups)), float(low), float(high)


def summarize(rows):
    """One summary dict per (experiment, neuron type, order): slope, interval,
    and the error at the largest m."""
    groups = {}
    for r in rows:
        name = r["neuron_type"]
        if r.get("simulator", "nengo") != "nengo":
            name = f"{name}@{r['simulator']}"
        groups.setdefault((r["experiment"], name, r["order"]), []).append(r)
    summary = []
    for (experiment, name, order), rs in sorted(groups.items()):
        m = [r["n_neurons"] for r in rs]
        e = [r["nrmse"] for r in rs]
        slope, low, high = fit_scaling(m, e)
        m_max = max(m)
        summary.append(
            {
                "experiment": experiment,
                "neuron_type": name,
                "order": order,
                "slope": slope,
                "ci_low": low,
                "ci_high": high,
                "n_runs": len(rs),
                "m_max": m_max,
                "nrmse_at_m_max": float(
                    np.mean([r["nrmse"] for r in rs if r["n_neurons"] == m_max])
                ),
                # the constant c of error = c / sqrt(m); the paper's line has c = 5
                "rmse_sqrt_m": float(
                    np.mean([r["rmse"] for r in rs if r["n_neurons"] == m_max])
                    * np.sqrt(m_max)
                ),
            }
        )
    return summary


def format_summary(summary):
    """The summary as a plain-text table."""
    lines = [
        f"{'experiment':<12}{'neurons':<18}{'order':>6}{'slope':>9}"
        f"{'95% interval':>20}{'runs':>6}{'max m':>9}{'NRMSE@max':>11}"
        f"{'RMSE*sqrt(m)':>14}"
    ]
    for s in summary:
        interval = f"[{s['ci_low']:.3f}, {s['ci_high']:.3f}]"
        lines.append(
            f"{s['experiment']:<12}{s['neuron_type']:<18}{s['order']:>6}"
            f"{s['slope']:>9.3f}{interval:>20}{s['n_runs']:>6}{s['m_max']:>9}"
            f"{s['nrmse_at_m_max']:>11.4f}{s['rmse_sqrt_m']:>14.2f}"
        )
    return "\n".join(lines)


def _panel_title(name):
    """``"poisson@nengo_dl"`` -> ``"Poisson-spiking LIF (nengo_dl)"``."""
    base, _, simulator = name.partition("@")
    title = NEURON_TYPES[base][1] if base in NEURON_TYPES else base
    return f"{title} ({simulator})" if simulator else title


def plot_scaling(rows, path_stem):
    """The scaling figure of a sweep, saved as ``path_stem``.png.

    One panel per neuron type (and simulator), sharing both axes: for each order,
    the mean error over seeds against neuron count m, a band for the bootstrap
    95 % interval of that mean, and the fitted log-log slope (`fit_scaling`) in
    the legend. The dotted guides are ``c d / sqrt(m)`` with one constant ``c``
    for the whole figure (the median of ``error * sqrt(m) / d`` over the runs of
    the neuron types expected to scale as 1/sqrt(m), Poisson and non-leaky IF), so
    a curve that parallels its guide falls as 1/sqrt(m) and one that flattens away
    from it levels off. The feed-forward experiment plots RMSE with the paper's
    ``5 / sqrt(m)`` line instead.

    Returns
    -------
    dict
        ``{panel title: [legend labels]}``, one entry per panel, left to right.
    """
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    feedforward = all(r["experiment"] == "feedforward" for r in rows)
    metric = "rmse" if feedforward else "nrmse"
    rows = [dict(r) for r in rows]
    for r in rows:  # one panel per simulator too
        if r.get("simulator", "nengo") != "nengo":
            r["neuron_type"] = f"{r['neuron_type']}@{r['simulator']}"
    orders = sorted({r["order"] for r in rows})
    base = list(NEURON_TYPES)
    names = sorted(
        {r["neuron_type"] for r in rows},
        key=lambda n: (
            base.index(n.split("@")[0]) if n.split("@")[0] in base else 99,
            n,
        ),
    )
    all_m = np.array(sorted({r["n_neurons"] for r in rows}), dtype=float)
    scaling = [r for r in rows if r["neuron_type"].split("@")[0] in ("poisson", "if")]
    guide_c = float(
        np.median(
            [r[metric] * np.sqrt(r["n_neurons"]) / r["order"] for r in scaling or rows]
        )
    )
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]

    fig, axes = plt.subplots(
        1,
        len(names),
        figsize=(1.0 + 3.6 * len(names), 4.2),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    labels = {}
    for ax, name in zip(axes[0], names):
        for j, order in enumerate(orders):
            rs = [r for r in rows if r["neuron_type"] == name and r["order"] == order]
            if not rs:
                continue
            color = colors[j % len(colors)]
            ms = np.array(sorted({r["n_neurons"] for r in rs}), dtype=float)
            stats = np.array(
                [
                    bootstrap_interval([r[metric] for r in rs if r["n_neurons"] == m])
                    for m in ms
                ]
            )
            slope, _, _ = fit_scaling(
                [r["n_neurons"] for r in rs], [r[metric] for r in rs]
            )
            label = f"d = {order}: slope {slope:.2f}"
            ax.fill_between(ms, stats[:, 1], stats[:, 2], color=color, alpha=0.25, lw=0)
            ax.loglog(ms, stats[:, 0], marker="o", ms=4, color=color, label=label)
            if not feedforward:
                ax.loglog(all_m, guide_c * order / np.sqrt(all_m), ":", color=color)
            labels.setdefault(name, []).append(label)
        if feedforward:
            # the reference line of Voelker et al. 2019's spiking figure
            ax.loglog(all_m, 5 / np.sqrt(all_m), "k:", lw=1)
            labels.setdefault(name, []).append("5/sqrt(m) (paper)")
        ax.set_title(_panel_title(name))
        ax.set_xlabel("neurons m")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8, loc="lower left")
    axes[0, 0].set_ylabel(
        "RMSE of the decoded value" if feedforward else "NRMSE of the decoded memory"
    )
    guide = (
        "dotted: 5/sqrt(m), the paper's reference line"
        if feedforward
        else f"dotted: {guide_c:.2g} d/sqrt(m); band: 95 % interval of the mean "
        "over seeds"
    )
    fig.suptitle(
        ("1-D feed-forward ensemble" if feedforward else "LMU memory")
        + f": error against neuron count ({guide})",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(f"{path_stem}.png", dpi=120)
    plt.close(fig)
    return {_panel_title(name): labels.get(name, []) for name in names}


# --------------------------------------------------------------------------------
# The thesis' delay-network protocol (Voelker 2019, Loihi chapter)
# --------------------------------------------------------------------------------


def bootstrap_interval(values, n_boot=2000, rng=None):
    """Mean of ``values`` and a bootstrap 95 % interval of that mean."""
    values = np.asarray(values, dtype=float)
    rng = np.random.RandomState(0) if rng is None else rng
    means = values[rng.randint(len(values), size=(n_boot, len(values)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(values.mean()), float(low), float(high)


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
            dt, decode_tau=memory.chip_synapse, input_rate=500
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
