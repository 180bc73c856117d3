"""Neurons where the error is: uniform against readout-optimal allocation.

An `LMUMemory` gives every state the same number of neurons by default
(``allocation="uniform"``). With ``allocation=legendre_readout(order, 1.0)``
each state ``i`` gets neurons in proportion to ``sqrt(g_i)``, ``g_i`` the
squared H2 norm from spike noise on that state to the delay readout
``u(t - theta)`` through the closed loop (`nengo_lmu.systems.noise`), which
minimizes that readout's noise for the same total. This runs both, with the same
seeds and the same total neurons, and reports

- ``delay_nrmse``: the delay readout (the decoded memory read out at
  ``r = 1``) against the exact delayed input ``u(t - theta)``, taken from the
  input signal itself (not from any memory), one step earlier (the network's
  input synapse delivers ``u`` a step late), both through the same 10 ms probe
  lowpass;
- ``readout_nrmse``: the same readout against the exact memory's readout (the
  neurons' share of the error, without the order's approximation error);
- ``memory_nrmse``: the whole decoded memory against the exact memory
  (`nengo_lmu.LegendreMemory`), all states together;
- ``ideal_delay_nrmse``: the exact memory's readout against ``u(t - theta)``,
  the floor the order itself sets.

Layout ``"subpopulations"`` for both allocations. Input: 5 Hz band-limited
white noise, rms 0.3 (as in issue 21); theta 0.1 s; synapse 0.1 s; dt 1 ms.
Rows are appended to the CSV as each run ends (``nengo_lmu._io``); a rerun
skips the runs already recorded.

Usage::

    python benchmarks/allocation.py                         # the full grid
    python benchmarks/allocation.py --orders 6 --sizes 10000 --seeds 1
    python benchmarks/allocation.py --table                 # print the CSV's table
    python benchmarks/allocation.py --per-state --orders 6 12 --sizes 100000
"""

import argparse
import os
import sys
import time
import warnings

import nengo
import numpy as np

from nengo_lmu._io import append_csv_row, read_csv_rows, read_json, write_json_atomic
from nengo_lmu.analysis.metrics import nrmse
from nengo_lmu.networks import LMUMemory
from nengo_lmu.systems import LegendreMemory, legendre_readout

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CSV = os.path.join(HERE, "results", "allocation", "results.csv")

THETA = 0.1
DT = 0.001
PROBE_SYNAPSE = 0.01
INPUT_HIGH = 5.0  # Hz
INPUT_RMS = 0.3
WARMUP = 2 * THETA  # the memory fills and u(t - theta) exists

NEURON_TYPES = {
    "poisson": lambda: nengo.PoissonSpiking(nengo.LIFRate()),
    "lif": nengo.LIF,
}
ALLOCATIONS = ("uniform", "readout")
COLUMNS = [
    "neuron_type",
    "realizer",
    "order",
    "n_neurons",
    "seed",
    "duration",
    "allocation",
    "neurons_per_state",
    "delay_nrmse",
    "readout_nrmse",
    "memory_nrmse",
    "ideal_delay_nrmse",
    "layout",
    "run_s",
]
CONVERTERS = {
    "order": int,
    "n_neurons": int,
    "seed": int,
    "duration": float,
    "delay_nrmse": float,
    "readout_nrmse": float,
    "memory_nrmse": float,
    "ideal_delay_nrmse": float,
    "run_s": float,
}


def run_one(
    neuron_type, realizer, order, n_neurons, seed, duration, allocation, per_state=False
):
    """One spiking memory beside the exact one and the delayed input (with
    ``per_state``, also each state's NRMSE and rms: ``state_nrmse``,
    ``state_rms``)."""
    process = nengo.processes.WhiteSignal(
        period=max(duration, 10.0), high=INPUT_HIGH, rms=INPUT_RMS, y0=0.0
    )
    C = legendre_readout(order, 1.0)
    t0 = time.perf_counter()
    with nengo.Network(seed=seed) as net:
        u = nengo.Node(process, label="u")
        memory = LMUMemory(
            order,
            THETA,
            n_neurons,
            dt=DT,
            realizer=realizer,
            # both arms in the same layout (the one "auto" picks for all but
            # order 12 at 10^4 neurons, 833 per state, where the readout
            # allocation's largest state has 4,318)
            layout="subpopulations",
            input_process=process,
            neuron_type=NEURON_TYPES[neuron_type](),
            allocation="uniform" if allocation == "uniform" else C,
        )
        nengo.Connection(u, memory.input, synapse=None)
        exact = nengo.Node(LegendreMemory(order, THETA), size_in=1, label="exact")
        nengo.Connection(u, exact, synapse=None)
        p_memory = nengo.Probe(memory.output, synapse=PROBE_SYNAPSE)
        p_exact = nengo.Probe(exact, synapse=PROBE_SYNAPSE)
        p_u = nengo.Probe(u, synapse=PROBE_SYNAPSE)
    with warnings.catch_warnings():
        # Nengo's optimizer merging Poisson neuron operators (see
        # nengo_lmu.analysis.experiments.POISSON_MERGE_WARNING)
        warnings.filterwarnings("ignore", message="Extra state has been modified")
        with nengo.Simulator(net, dt=DT, progress_bar=False, optimize=True) as sim:
            sim.run(duration)
    run_s = time.perf_counter() - t0
    decoded = sim.data[p_memory]
    exact_m = sim.data[p_exact]
    u_f = sim.data[p_u][:, 0]
    start = int(round(WARMUP / DT))
    lag = int(round(THETA / DT))
    # the network at step k holds the exact memory of step k - 1, and its delay
    # readout u(t_k - dt - theta)
    y = decoded[start:]
    memory_target = exact_m[start - 1 : -1]
    delayed_u = u_f[start - 1 - lag : len(u_f) - 1 - lag]
    readout = (y @ C.T)[:, 0]
    ideal = (memory_target @ C.T)[:, 0]
    npst = memory.neurons_per_state
    counts = (
        [len(a) for a in np.array_split(np.arange(n_neurons), order)]
        if npst is None
        else npst[0].tolist()
    )
    row = {
        "neuron_type": neuron_type,
        "realizer": realizer,
        "order": order,
        "n_neurons": n_neurons,
        "seed": seed,
        "duration": duration,
        "allocation": allocation,
        "neurons_per_state": " ".join(str(c) for c in counts),
        "delay_nrmse": nrmse(readout, delayed_u),
        "readout_nrmse": nrmse(readout, ideal),
        "memory_nrmse": nrmse(y, memory_target),
        "ideal_delay_nrmse": nrmse(ideal, delayed_u),
        "layout": memory.layout,
        "run_s": run_s,
    }
    if per_state:
        row["state_nrmse"] = [nrmse(y[:, i], memory_target[:, i]) for i in range(order)]
        row["state_rms"] = np.sqrt(np.mean(memory_target**2, axis=0)).tolist()
    return row


PER_STATE_JSON = os.path.join(HERE, "results", "allocation", "per_state.json")


def per_state(orders, n_neurons, seeds, duration, path=PER_STATE_JSON):
    """Each state's NRMSE under both allocations (Poisson, Legendre, the same
    seeds and m): appended to the JSON at ``path`` as each run ends (a rerun
    skips those there), then drawn beside it as ``per_state.png``."""
    runs = read_json(path) if os.path.exists(path) else []
    done = {(r["order"], r["n_neurons"], r["seed"], r["allocation"]) for r in runs}
    for order in orders:
        for seed in range(seeds):
            for allocation in ALLOCATIONS:
                if (order, n_neurons, seed, allocation) in done:
                    continue
                row = run_one(
                    "poisson", "legendre", order, n_neurons, seed, duration,
                    allocation, per_state=True,
                )  # fmt: skip
                runs.append(row)
                write_json_atomic(path, runs, indent=1)
    plot_per_state(runs, os.path.splitext(path)[0] + ".png")
    return runs


def plot_per_state(runs, path):
    """Bars: each state's NRMSE (mean over seeds), uniform against readout
    allocation, one panel per (order, m)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = sorted({(r["order"], r["n_neurons"]) for r in runs})
    fig, axes = plt.subplots(1, len(cases), figsize=(5 * len(cases), 3.8))
    axes = np.atleast_1d(axes)
    for ax, (order, m) in zip(axes, cases):
        for k, allocation in enumerate(ALLOCATIONS):
            rs = [
                r
                for r in runs
                if (r["order"], r["n_neurons"], r["allocation"])
                == (order, m, allocation)
            ]
            mean = np.mean([r["state_nrmse"] for r in rs], axis=0)
            counts = rs[0]["neurons_per_state"].split()
            ax.bar(
                np.arange(order) + (k - 0.5) * 0.4,
                mean,
                width=0.4,
                label=f"{allocation} ({len(rs)} seeds)",
            )
            for i, c in enumerate(counts):
                ax.annotate(
                    c, (i + (k - 0.5) * 0.4, mean[i]), ha="center", va="bottom",
                    fontsize=6, rotation=90,
                )  # fmt: skip
        ax.set_yscale("log")
        low, high = ax.get_ylim()
        ax.set_ylim(low, high * 4)  # room for the counts above the bars
        ax.set_xticks(np.arange(order))
        ax.set_xlabel("state (Legendre coefficient), lowest order first")
        ax.set_title(f"order {order}, {m:,} Poisson LIF neurons")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("NRMSE of the state (numbers: its neurons)")
    fig.suptitle(
        "Each state's error: neurons shared uniformly or for the delay readout"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def predicted_ratio(order, realizer, n_neurons):
    """The readout's noise NRMSE, readout allocation over uniform, as the model
    predicts it: ``sqrt(sum_i g_i / m_i)`` for both counts
    (`nengo_lmu.systems.noise`; nothing simulated)."""
    process = nengo.processes.WhiteSignal(
        period=10.0, high=INPUT_HIGH, rms=INPUT_RMS, y0=0.0
    )
    memory = LMUMemory(
        order,
        THETA,
        n_neurons,
        dt=DT,
        realizer=realizer,
        layout="subpopulations",
        input_process=process,
        allocation=legendre_readout(order, 1.0),
        add_to_container=False,
    )
    gains, counts = memory.noise_gains, memory.neurons_per_state[0]
    uniform = np.array([len(a) for a in np.array_split(np.arange(n_neurons), order)])
    return float(np.sqrt(np.sum(gains / counts) / np.sum(gains / uniform)))


def _key(row):
    return (
        row["neuron_type"],
        row["realizer"],
        int(row["order"]),
        int(row["n_neurons"]),
        int(row["seed"]),
        float(row["duration"]),
        row["allocation"],
    )


NRMSE_COLUMNS = ("delay_nrmse", "readout_nrmse", "memory_nrmse")


def summary(rows):
    """Mean NRMSEs per case (neuron type, realizer, order, m, duration) over the
    seeds run with both allocations: ``{column: (uniform, readout)}`` for the
    delay readout against ``u(t - theta)``, against the exact memory's readout
    and the whole memory, and ``floor`` (the exact memory's readout against
    ``u(t - theta)``)."""
    cases = {}
    for row in rows:
        key = _key(row)
        cases.setdefault(key[:4] + (key[5],), {}).setdefault(key[6], {})[key[4]] = row
    out = []
    for case in sorted(cases):
        runs = cases[case]
        seeds = sorted(set(runs.get("uniform", {})) & set(runs.get("readout", {})))
        if not seeds:
            continue
        nt, realizer, order, m, duration = case
        entry = {
            "neuron_type": nt,
            "realizer": realizer,
            "order": order,
            "n_neurons": m,
            "duration": duration,
            "seeds": len(seeds),
            "floor": float(
                np.mean([runs["uniform"][s]["ideal_delay_nrmse"] for s in seeds])
            ),
        }
        for column in NRMSE_COLUMNS:
            entry[column] = tuple(
                float(np.mean([runs[a][s][column] for s in seeds])) for a in ALLOCATIONS
            )
        out.append(entry)
    return out


def table(rows):
    """`summary` as text: the uniform and readout allocations' NRMSEs and their
    ratio, the floor, and the ratio the noise model predicts for "vs ideal"
    (`predicted_ratio`)."""
    lines = [
        f"{'neurons':<8}{'realizer':<9}{'order':>5}{'m':>8}{'seeds':>6}"
        f"{'delay: uniform':>15}{'readout':>8}{'ratio':>6}"
        f"{'vs ideal: uni':>14}{'readout':>8}{'ratio':>6}"
        f"{'memory: uni':>12}{'readout':>8}{'ratio':>6}{'floor':>7}{'model':>6}"
    ]
    for e in summary(rows):
        cells = [
            f"{uni:>{width}.4f}{opt:>8.4f}{opt / uni:>6.2f}"
            for (uni, opt), width in zip((e[c] for c in NRMSE_COLUMNS), (15, 14, 12))
        ]
        lines.append(
            f"{e['neuron_type']:<8}{e['realizer']:<9}{e['order']:>5}"
            f"{e['n_neurons']:>8}{e['seeds']:>6}"
            + "".join(cells)
            + f"{e['floor']:>7.4f}"
            + f"{predicted_ratio(e['order'], e['realizer'], e['n_neurons']):>6.2f}"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[3, 6, 12])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000]
    )
    parser.add_argument(
        "--neurons", nargs="+", default=list(NEURON_TYPES), choices=NEURON_TYPES
    )
    parser.add_argument(
        "--realizers", nargs="+", default=["legendre"], choices=["legendre", "balanced"]
    )
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--seeds-at-1e6",
        type=int,
        default=None,
        help="fewer seeds for sizes >= 1e6 (default: --seeds)",
    )
    parser.add_argument("--duration", type=float, default=1.0)
    parser.add_argument("--csv", default=DEFAULT_CSV)
    parser.add_argument("--table", action="store_true", help="only print the table")
    parser.add_argument(
        "--per-state",
        action="store_true",
        help="each state's NRMSE (Poisson, Legendre; --orders, first of --sizes, "
        "--seeds) into results/allocation/per_state.json and per_state.png",
    )
    args = parser.parse_args(argv)
    if args.per_state:
        per_state(args.orders, args.sizes[0], args.seeds, args.duration)
        return 0
    os.makedirs(os.path.dirname(os.path.abspath(args.csv)), exist_ok=True)
    rows = read_csv_rows(args.csv, COLUMNS, CONVERTERS)
    if not args.table:
        done = {_key(r) for r in rows}
        for m in args.sizes:
            n_seeds = args.seeds
            if m >= 1_000_000 and args.seeds_at_1e6 is not None:
                n_seeds = args.seeds_at_1e6
            for seed in range(n_seeds):
                for nt in args.neurons:
                    for realizer in args.realizers:
                        for order in args.orders:
                            for allocation in ALLOCATIONS:
                                run = (nt, realizer, order, m, seed, args.duration)
                                if run + (allocation,) in done:
                                    continue
                                row = run_one(*run, allocation)
                                append_csv_row(args.csv, COLUMNS, row)
                                rows.append(row)
                                print(
                                    f"{nt} {realizer} order {order} m {m} seed "
                                    f"{seed} {allocation}: delay "
                                    f"{row['delay_nrmse']:.4f} memory "
                                    f"{row['memory_nrmse']:.4f} "
                                    f"({row['run_s']:.1f} s)",
                                    flush=True,
                                )
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
