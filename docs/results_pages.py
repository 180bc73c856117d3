"""The tables of the results pages, generated from the committed result files.

Every number measured here that the documentation shows lives in one file under
``benchmarks/results/``; this module reads those files and writes the tables that
``docs/results.rst`` includes, so a rerun of a benchmark changes the page without
an edit. ``docs/conf.py`` calls `write_pages` when Sphinx starts; the README's
headline tables are `readme_tables`, and ``tests/test_docs.py`` checks that the
README shows them as generated.

Run on its own, it prints every table (``--markdown`` in the README's form)::

    python docs/results_pages.py [--markdown]

What each file holds and which command writes it:

=======================================  ==============================================
``default/scaling.csv`` (and ``paper``,  ``nengo-lmu scaling [--preset P]``: one row per
``thesis``, ``memory``)                  run; slopes from
                                         `nengo_lmu.analysis.summary.summarize`
``fast_step/results.json``               ``python benchmarks/fast_step.py``
``fast_step/large.json``                 ``python benchmarks/fast_step.py --neurons
                                         1e6,1e7,1e8 ... --results ...``
``allocation/results.csv``               ``python benchmarks/allocation.py``
``large/precision.json``                 ``python benchmarks/nrmse_precision.py``
``large/solver_precision.json``          ``python benchmarks/solver_precision.py``
``large/dask/scaling.csv``               ``nengo-lmu scaling --preset large --neurons
                                         1000,10000,100000,1000000 --scheduler ...``
``loihi/scaling.json``                   ``python benchmarks/loihi_scaling.py``
``psmnist_mnist5k/results.json``         ``python benchmarks/psmnist_mnist5k.py``
``spiking_conversion/results.json``      ``python benchmarks/spiking_conversion.py``
``psmnist/paper``, ``paper-glorot``,     ``nengo-lmu train psmnist --dataset mnist ...
``variant`` (``results.json``, or        --out DIR`` (`PSMNIST_RUNS` lists the
``state.json`` while training)           commands)
``psmnist/spiking/results.json``         ``python benchmarks/psmnist_spiking.py``
``psmnist/spiking-memory/results.json``  ``python benchmarks/psmnist_spiking_memory.py``
``psmnist/speed.json``                   ``python benchmarks/train_speed.py --data
                                         mnist --batches 50 --models
                                         parallel,keras-lmu --out ...``
=======================================  ==============================================
"""

import argparse
import json
from pathlib import Path

import numpy as np

from nengo_lmu._io import read_csv_rows
from nengo_lmu.analysis.experiments import NEURON_TYPES
from nengo_lmu.analysis.summary import summarize
from nengo_lmu.analysis.sweeps import read_results

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SCALING_PRESETS = ("default", "paper", "thesis", "memory", "large")
# the row order of the scaling tables: the types that fall as 1/sqrt(m) first
NEURON_ORDER = ("poisson", "if", "lif", "regular", "adaptive")
# one headline table per area: scaling, speed, Loihi, training
README_TABLES = (
    "scaling-default-slopes",
    "fast-step",
    "large-memory",
    "loihi-scaling",
    "psmnist-full",
)


class Table:
    """A table of strings: a header and rows, written as reST or Markdown."""

    def __init__(self, header, rows, align=None):
        self.header = list(header)
        self.rows = [list(row) for row in rows]
        # "l" or "r" per column, for Markdown
        self.align = align or ["l"] + ["r"] * (len(self.header) - 1)

    def rst(self):
        def quote(cell):
            return '"' + cell.replace('"', '""') + '"'

        lines = [
            ".. csv-table::",
            "   :header: " + ", ".join(quote(h) for h in self.header),
            "   :align: left",
            "",
        ]
        lines += ["   " + ", ".join(quote(c) for c in row) for row in self.rows]
        return "\n".join(lines) + "\n"

    def markdown(self):
        rule = ["---:" if a == "r" else "---" for a in self.align]
        lines = [
            "| " + " | ".join(cells) + " |" for cells in [self.header, rule, *self.rows]
        ]
        return "\n".join(lines) + "\n"


def neuron_name(name):
    """A neuron type's description (`NEURON_TYPES`) from its short name."""
    return NEURON_TYPES[name][1] if name in NEURON_TYPES else name


def interval(low, high, digits=3):
    return f"[{low:.{digits}f}, {high:.{digits}f}]"


def count(m):
    return f"{m:,}"


def percent(fraction, digits=1):
    return f"{100 * fraction:.{digits}f} %"


# -- error against neuron count (nengo-lmu scaling) ---------------------------------


def scaling_summary(preset, results=RESULTS):
    """`summarize` of ``<preset>/scaling.csv``, ordered by neuron type, then order."""
    rows = read_results(results / preset / "scaling.csv")
    summary = summarize(rows)
    rank = {name: i for i, name in enumerate(NEURON_ORDER)}
    return sorted(summary, key=lambda s: (rank.get(s["neuron_type"], 99), s["order"]))


def scaling_table(summary):
    """One row per (neuron type, order): slope, interval, errors at the largest m
    (in the header when every row has the same largest m, else in a column)."""
    m_max = {s["m_max"] for s in summary}
    same = len(m_max) == 1
    at = f" at m = {count(m_max.pop())}" if same else " at the largest m"
    return Table(
        ["neurons", "order", "slope", "95 % interval", "runs"]
        + ([] if same else ["largest m"])
        + [f"NRMSE{at}", f"RMSE x sqrt(m){at}"],
        [
            [
                neuron_name(s["neuron_type"]),
                str(s["order"]),
                f"{s['slope']:.3f}",
                interval(s["ci_low"], s["ci_high"]),
                str(s["n_runs"]),
            ]
            + ([] if same else [count(s["m_max"])])
            + [f"{s['nrmse_at_m_max']:.4f}", f"{s['rmse_sqrt_m']:.2f}"]
            for s in summary
        ],
    )


def slopes_by_order(summary):
    """Slopes with intervals: one row per neuron type, one column per order."""
    orders = sorted({s["order"] for s in summary})
    names = list(dict.fromkeys(s["neuron_type"] for s in summary))
    by = {(s["neuron_type"], s["order"]): s for s in summary}
    rows = []
    for name in names:
        row = [neuron_name(name)]
        for d in orders:
            s = by.get((name, d))
            row.append(
                f"{s['slope']:.3f} {interval(s['ci_low'], s['ci_high'])}" if s else ""
            )
        rows.append(row)
    return Table(["neurons"] + [f"d = {d}" for d in orders], rows)


def decade_slopes(rows):
    """The local slope of log NRMSE against log m between neighbouring m, per
    order (the mean of log NRMSE over the seeds at each m): where a curve leaves
    ``1 / sqrt(m)`` (slope -0.5), if anywhere."""
    logs = {}
    for r in rows:
        logs.setdefault((r["order"], r["n_neurons"]), []).append(np.log(r["nrmse"]))
    mean_log = {key: np.mean(values) for key, values in logs.items()}
    orders = sorted({d for d, _ in logs})
    neurons = sorted({m for _, m in logs})
    pairs = list(zip(neurons[:-1], neurons[1:]))
    table_rows = []
    for d in orders:
        row = [str(d)]
        for a, b in pairs:
            if (d, a) in mean_log and (d, b) in mean_log:
                slope = (mean_log[d, b] - mean_log[d, a]) / np.log(b / a)
                row.append(f"{slope:.2f}")
            else:
                row.append("")
        table_rows.append(row)
    header = ["order"] + [f"{count(a)} to {count(b)}" for a, b in pairs]
    return Table(header, table_rows)


def dask_table(rows, serial):
    """The large preset's runs on a Dask cluster beside the same runs in one
    process (``large/dask/scaling.csv``, ``large/scaling.csv``): per order and m,
    the mean NRMSE, the largest relative difference from the serial run of the
    same seed, and the largest peak memory of a run (`run_one`'s ``peak_gb``)."""
    from nengo_lmu.analysis.sweeps import run_key

    alone = {run_key(r): r["nrmse"] for r in serial}
    by = {}
    for r in rows:
        by.setdefault((r["order"], r["n_neurons"]), []).append(r)
    table_rows = []
    for (d, m), rs in sorted(by.items()):
        diffs = [
            abs(r["nrmse"] / alone[run_key(r)] - 1) for r in rs if run_key(r) in alone
        ]
        table_rows.append(
            [
                str(d),
                count(m),
                str(len(rs)),
                f"{np.mean([r['nrmse'] for r in rs]):.4f}",
                f"{max(diffs):.0e}" if diffs else "",
                f"{max(r['peak_gb'] for r in rs):.2f}",
            ]
        )
    return Table(
        ["order", "neurons", "runs", "NRMSE", "vs one process", "peak GB"], table_rows
    )


def precision_table(results):
    """How much one run's NRMSE moves with its length (benchmarks/nrmse_precision.py):
    the windows' relative spread of NRMSE and of RMSE at each window length."""
    windows = sorted({w["window_s"] for r in results for w in r["windows"]})
    rows = []
    for r in results:
        by = {w["window_s"]: w for w in r["windows"]}
        rows.append(
            [str(r["order"]), count(r["n_neurons"]), f"{r['nrmse']:.4f}"]
            + [
                f"{by[w]['relative_spread']:.2f} / {by[w]['relative_spread_rmse']:.2f}"
                if w in by
                else ""
                for w in windows
            ]
        )
    return Table(
        ["order", "m", "NRMSE (whole run)"] + [f"T = {w:g} s" for w in windows], rows
    )


def solver_precision_table(results):
    """The memory's NRMSE with decoders solved in float64 and in float32
    (benchmarks/solver_precision.py), per neuron type, order and m."""
    rows = []
    for e in benchmark_module("solver_precision").summary(results):
        (a, b), (ra, rb) = e["nrmse"], e["readout_nrmse"]
        rows.append(
            [
                "LIF rate" if e["neuron_type"] == "lifrate" else "Poisson LIF",
                str(e["order"]),
                count(e["n_neurons"]),
                str(len(e["seeds"])),
                f"{a:.5g}",
                f"{b:.5g}",
                f"{b / a:.4f}",
                f"{e['spread']:.3f}",
                f"{rb / ra:.4f}",
            ]
        )
    header = ["neurons", "order", "m", "seeds", "NRMSE float64", "NRMSE float32"]
    header += ["float32 / float64", "seeds' spread", "delay readout: float32 / 64"]
    return Table(header, rows)


# -- neurons where the error is (benchmarks/allocation.py) ---------------------------


def benchmark_module(name):
    """``benchmarks/<name>.py`` as a module (its summaries, one implementation)."""
    import importlib.util
    import sys

    folder = Path(__file__).resolve().parent.parent / "benchmarks"
    spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(folder))  # its own imports (_child, ...)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(folder))
    return module


def allocation_table(rows):
    """Readout allocation against uniform (`benchmarks/allocation.py`'s
    `summary`): the delay readout's NRMSE, its part from the neurons (against the
    exact memory's readout) and the whole memory's, with their ratios."""
    body = []
    for e in benchmark_module("allocation").summary(rows):
        cells = []
        for column in ("delay_nrmse", "readout_nrmse", "memory_nrmse"):
            uniform, readout = e[column]
            cells += [f"{uniform:.4f}", f"{readout:.4f}", f"{readout / uniform:.2f}"]
        body.append(
            [
                neuron_name(e["neuron_type"]),
                e["realizer"],
                str(e["order"]),
                count(e["n_neurons"]),
                str(e["seeds"]),
            ]
            + cells
        )
    return Table(
        ["neurons", "realization", "order", "m", "seeds"]
        + [
            f"{what}: {col}"
            for what in ("delay", "neurons' part", "memory")
            for col in ("uniform", "readout", "ratio")
        ],
        body,
    )


# -- a million neurons (benchmarks/fast_step.py) ------------------------------------


def fast_step_table(results):
    """Build and run times per m: ours, and beside it whatever the file holds
    (Nengo's operators, the bound, Brian2); the peak bytes per neuron where they
    were recorded (``fast_step/large.json``); the build and run with single-
    precision solves where they were measured."""
    by = {(r["kind"], r["n_neurons"]): r for r in results if "error" not in r}
    kinds = {kind for kind, _ in by}
    per_neuron = any("bytes_per_neuron" in r for r in results)
    rows = []
    for m in sorted({r["n_neurons"] for r in results}):
        ours, ops = by.get(("ours", m)), by.get(("nengo-ops", m))
        f32 = by.get(("ours-f32", m))
        bound, brian = by.get(("bound", m)), by.get(("brian2", m))
        if ours is None:
            continue
        row = [
            count(m),
            f"{ours['build_s']:.2f}",
            f"{ours['run_s']:.3g}",
            f"{ours['peak_gb']:.2f}",
        ]
        if per_neuron:
            row.append(f"{ours['bytes_per_neuron']:.0f}")
        if "ours-f32" in kinds:
            row.append(f"{f32['build_s']:.2f} / {f32['run_s']:.3g}" if f32 else "")
        if "nengo-ops" in kinds:
            row.append(f"{ops['run_s']:.3g}" if ops else "")
        row.append(f"{bound['run_s']:.3g}" if bound else "")
        if "brian2" in kinds:
            brian_cell = f"{brian['build_s']:.2f} / {brian['run_s']:.3g}"
            row.append(brian_cell if brian else "")
        row.append(f"{ours['run_s'] / bound['run_s']:.3g}x" if bound else "")
        if "brian2" in kinds:
            row.append(f"{brian['run_s'] / ours['run_s']:.1f}x" if brian else "")
        rows.append(row)
    header = ["m", "build (s)", "run 1 s (s)", "peak (GB)"]
    header += ["bytes per neuron"] if per_neuron else []
    header += ["float32 solves: build / run (s)"] if "ours-f32" in kinds else []
    header += ["Nengo's operators: run (s)"] if "nengo-ops" in kinds else []
    header += ["lower bound: run (s)"]
    header += ["Brian2: build / run (s)"] if "brian2" in kinds else []
    header += ["ours / bound"]
    header += ["Brian2 / ours"] if "brian2" in kinds else []
    return Table(header, rows)


# -- Loihi (benchmarks/loihi_scaling.py) --------------------------------------------


def loihi_table(summary):
    """The thesis metric per m on both simulators, and ours (u(t - theta))."""
    by = {(r["simulator"], r["n_neurons"]): r for r in summary["by_m"]}
    rows = []
    for m in summary["neurons"]:
        ref, emu = by[("reference", m)], by[("emulator", m)]
        rows.append(
            [
                count(m),
                f"{ref['thesis_nrmse']:.4f} "
                + interval(ref["thesis_nrmse_low"], ref["thesis_nrmse_high"], 4),
                f"{emu['thesis_nrmse']:.4f} "
                + interval(emu["thesis_nrmse_low"], emu["thesis_nrmse_high"], 4),
                f"{ref['nrmse']:.3f} / {emu['nrmse']:.3f}",
            ]
        )
    return Table(
        [
            "neurons",
            "reference: thesis metric",
            "emulator: thesis metric",
            "ours (u(t - theta)): reference / emulator",
        ],
        rows,
    )


def loihi_slopes_table(summary):
    """Log-log slopes of the thesis metric, and their difference."""
    names = {
        "reference": "reference",
        "emulator": "emulator",
        "difference": "difference (emulator - reference)",
    }
    rows = []
    for key, name in names.items():
        s = summary["slopes"][key]
        sign = "+" if key == "difference" else ""
        rows.append(
            [
                name,
                f"{s['slope']:{sign}.3f}",
                f"[{s['low']:{sign}.3f}, {s['high']:{sign}.3f}]",
            ]
        )
    neurons = summary["neurons"]
    span = f"{count(neurons[0])} to {count(neurons[-1])} neurons"
    return Table([f"slope, {span}", "slope", "95 % interval"], rows)


# -- training (benchmarks/psmnist_mnist5k.py, benchmarks/spiking_conversion.py) -----


def psmnist_summary(runs):
    """Per (task, model): accuracy mean, min and max over seeds, s / epoch."""
    groups = {}
    for run in runs:
        groups.setdefault((run["task"], run["model"]), []).append(run)
    summary = []
    for (task, model), group in sorted(groups.items()):
        accuracy = np.array([r["test_accuracy"] for r in group])
        per_epoch = np.concatenate([r["seconds_per_epoch"] for r in group])
        summary.append(
            {
                "task": task,
                "model": model,
                "seeds": sorted(r["seed"] for r in group),
                "epochs": sorted({r["epochs"] for r in group}),
                "mean": float(accuracy.mean()),
                "min": float(accuracy.min()),
                "max": float(accuracy.max()),
                "seconds_per_epoch": float(per_epoch.mean()),
            }
        )
    return summary


PSMNIST_TASKS = {"permuted": "psMNIST (permuted)", "unpermuted": "sequential MNIST"}
PSMNIST_MODELS = {
    "nengo-lmu": "nengo-lmu LMUCell(parallel=True)",
    "keras-lmu": "keras-lmu 0.9 LMU",
}


def psmnist_table(summary):
    rows = [
        [
            PSMNIST_TASKS.get(s["task"], s["task"]),
            PSMNIST_MODELS.get(s["model"], s["model"]),
            f"{100 * s['mean']:.2f} % [{100 * s['min']:.2f}, {100 * s['max']:.2f}]",
            str(len(s["seeds"])),
            f"{s['seconds_per_epoch']:.1f}",
        ]
        # nengo-lmu first within each task
        for s in sorted(summary, key=lambda s: (s["task"], s["model"] != "nengo-lmu"))
    ]
    return Table(
        ["task", "model", "test accuracy: mean [min, max]", "seeds", "s / epoch"],
        rows,
        align=["l", "l", "r", "r", "r"],
    )


def spiking_table(results):
    """Accuracy and agreement with the rate network against steps per pixel."""
    holds = sorted(results["batched"], key=int)
    spiking, batched = results["spiking"], results["batched"]
    n_first, n_all = results["n_test"], results["n_all"]

    def row(name, values):
        return [name] + values

    rows = [
        row(
            f"spiking, nengo.Simulator, first {n_first} test digits",
            [percent(spiking[h]["accuracy"]) for h in holds],
        ),
        row(
            f"spiking, the same network in batched numpy, all {count(n_all)}",
            [percent(batched[h]["accuracy"]) for h in holds],
        ),
        row(
            f"same class as the rate network ({count(n_all)})",
            [percent(batched[h]["agreement_with_rate"]) for h in holds],
        ),
        row(
            f"mean absolute logit error against rate ({count(n_all)})",
            [f"{batched[h]['logit_error']:.2f}" for h in holds],
        ),
        row(
            "median rate margin of the digits classified differently",
            [f"{batched[h]['median_rate_margin_disagreeing']:.2f}" for h in holds],
        ),
    ]
    return Table(["steps per pixel"] + holds, rows)


def spiking_rate_line(results):
    """The rate network's accuracy, the reference of the spiking table."""
    margin = results["batched"][sorted(results["batched"], key=int)[0]][
        "median_rate_margin_all"
    ]
    return (
        f"The rate network classifies {percent(results['rate_all'])} of the "
        f"{count(results['n_all'])} test digits ({percent(results['rate_nengo'])} of "
        f"the first {results['n_test']}); the median rate margin (top logit minus the "
        f"next) of all test digits is {margin:.2f}.\n"
    )


# -- psMNIST on the full MNIST (nengo-lmu train psmnist --dataset mnist) -------------

# The committed runs, by folder under benchmarks/results/psmnist/: a description,
# the published accuracy it is measured against and its source, and the command
# that trains it (benchmarks/psmnist_curves.py plots the same runs).
PSMNIST_RUNS = {
    "paper": (
        "the paper's model: 212 tanh units with their recurrence (started at 0, "
        "as the paper's), order 256",
        0.9715,
        "Voelker et al. 2019",
        "nengo-lmu train psmnist --dataset mnist --validation 10000 --out "
        "benchmarks/results/psmnist/paper",
    ),
    "paper-glorot": (
        "the same, its recurrence started Glorot uniform",
        0.9715,
        "Voelker et al. 2019",
        "nengo-lmu train psmnist --dataset mnist --validation 10000 "
        "--recurrent-initializer glorot_uniform --out "
        "benchmarks/results/psmnist/paper-glorot",
    ),
    "variant": (
        "spiking-friendly: 346 ReLU units, no hidden recurrence, order 468",
        0.9849,
        "Chilkuri & Eliasmith 2021, 165k weights",
        "nengo-lmu train psmnist --dataset mnist --validation 10000 "
        "--no-hidden-to-hidden --hidden-activation relu --units 346 --order 468 "
        "--epochs 20 --patience 4 --out benchmarks/results/psmnist/variant",
    ),
}


# The paper's own run (the LMU repository's experiments/psMNIST-standard.ipynb, as
# published with keras-lmu): validation accuracy per epoch on its 10,000 held-out
# digits; the weights of epoch 9 (lowest validation loss) gave the 97.15 % test.
PAPER_VALIDATION = (
    0.9126, 0.9386, 0.9513, 0.9526, 0.9628, 0.9645, 0.9645, 0.9655, 0.9697, 0.9659
)  # fmt: skip


def psmnist_run(folder):
    """A run's record: its results.json when finished, else its checkpoint's
    state.json (``test_accuracy`` then absent); None when neither exists."""
    folder = Path(folder)
    if (folder / "results.json").exists():
        return read_json(folder / "results.json")
    if (folder / "state.json").exists():
        state = read_json(folder / "state.json")
        return {"history": state["history"], "in_progress": True}
    return None


def psmnist_full_table(results):
    rows = []
    for name, (model, published, source, _) in PSMNIST_RUNS.items():
        run = psmnist_run(results / "psmnist" / name)
        if run is None:
            continue
        history = run["history"]
        val = [h["val_accuracy"] for h in history if "val_accuracy" in h]
        seconds = [h["seconds"] for h in history if "seconds" in h]
        if run.get("in_progress"):
            n = len(history)
            test = f"training: {n} epoch{'' if n == 1 else 's'} done"
        else:
            test = percent(run["test_accuracy"], 2)
            if "best_epoch" in run:
                test += f" (weights of epoch {run['best_epoch']})"
        rows.append(
            [
                model,
                str(len(history)),
                percent(max(val), 2) if val else "-",
                test,
                f"{np.mean(seconds):.0f}" if seconds else "-",
                f"{percent(published, 2)} ({source})",
            ]
        )
    return Table(
        [
            "model",
            "epochs",
            "best validation",
            "test accuracy (10,000)",
            "s / epoch",
            "published",
        ],
        rows,
        align=["l", "r", "r", "r", "r", "l"],
    )


def psmnist_epochs_table(results):
    rows = []
    for name in PSMNIST_RUNS:
        run = psmnist_run(results / "psmnist" / name)
        for epoch, h in enumerate(run["history"] if run else [], 1):
            rows.append(
                [
                    name,
                    str(epoch),
                    f"{h['loss']:.4f}",
                    percent(h["probe_accuracy"], 2),
                    percent(h["val_accuracy"], 2) if "val_accuracy" in h else "-",
                    f"{h['seconds']:.0f}" if "seconds" in h else "-",
                ]
            )
    return Table(
        ["run", "epoch", "training loss", "training accuracy", "validation", "s"],
        rows,
    )


def psmnist_spiking_table(results):
    """The spiking variant against steps per pixel (benchmarks/psmnist_spiking.py)."""
    holds = sorted(results["holds"], key=int)
    r = results["holds"]
    rate_ops = results["rate_operations"]
    units = results["settings"]["units"]
    rows = [
        ["test accuracy, spiking"] + [percent(r[h]["accuracy"], 2) for h in holds],
        ["same class as the rate network"]
        + [percent(r[h]["agreement_with_rate"]) for h in holds],
        ["hidden spikes per inference"] + [f"{r[h]['spikes']:,.0f}" for h in holds],
        ["of which in the last window"]
        + [f"{r[h]['spikes_last_window']:,.0f}" for h in holds],
        # NeuroBench's activation sparsity: the share of (neuron, step) outputs
        # that are zero, over the 785 windows of `hold` steps
        ["activation sparsity (neuron-steps without a spike)"]
        + [f"{1 - r[h]['spikes'] / (units * 785 * int(h)):.4f}" for h in holds],
        ["readout ACs per inference (10 per spike)"]
        + [f"{r[h]['readout_acs']:.3g}" for h in holds],
        ["MACs per inference (memory, hidden input per window)"]
        + [f"{r[h]['spiking_macs']:.3g}" for h in holds],
    ]
    header = ["steps per pixel"] + holds
    rate = (
        f"The rate network classifies {percent(results['rate_accuracy'], 2)} of these "
        f"{count(results['n_test'])} test digits with {rate_ops['rate_macs']:.3g} "
        f"MACs per inference ({rate_ops['memory_macs']:.3g} of them the memory's; "
        f"{rate_ops['rate_hidden_nonzero']:.0f} of {units} hidden units active on "
        f"average: activation sparsity "
        f"{1 - rate_ops['rate_hidden_nonzero'] / units:.2f}).\n"
    )
    return Table(header, rows), rate


def psmnist_spiking_memory_table(results):
    """The variant's memory as a spiking LMUMemory on a few digits
    (benchmarks/psmnist_spiking_memory.py): its error, and the classifier's
    accuracy with that much noise on its exact final states."""
    rows = []
    for r in sorted(
        results["runs"].values(), key=lambda r: (r["neurons_per_digit"], r["hold"])
    ):
        s = r["state_relative_rmse"]
        rows.append(
            [
                count(r["neurons_per_digit"]),
                f"{r['neurons_per_state']:.0f}",
                str(r["hold"]),
                str(r["digits"]),
                f"{r['nrmse']:.2f}",
                f"{s['first']:.2f} / {s['middle']:.2f} / {s['last']:.2f}",
                percent(r["noise_estimate_accuracy"]),
                f"{r['run_s']:.0f}",
            ]
        )
    return Table(
        [
            "neurons per digit",
            "per state",
            "steps per pixel",
            "digits",
            "NRMSE",
            "states first / middle / last",
            f"accuracy with this noise ({count(results['n_test'])} digits; rate "
            f"{percent(results['rate_accuracy'])})",
            "run (s)",
        ],
        rows,
    )


def psmnist_speed_table(results):
    """Seconds per training batch, ours and keras-lmu's (benchmarks/train_speed.py)."""
    speed = results["seconds_per_batch"]
    names = {
        "parallel": "nengo-lmu LMUCell(parallel=True), NengoDL",
        "keras-lmu": "keras-lmu 0.9 LMU (SimpleRNNCell)",
        "sequential": "NengoDL example structure (sequential)",
    }
    ours = speed["parallel"]
    rows = [
        [names[k], f"{v:.2f}", f"{v / ours:.1f}", f"{500 * v / 60:.0f}"]
        for k, v in speed.items()
        if k in names
    ]
    return Table(
        ["model", "s / batch (median)", "ratio to ours", "epoch of 50,000 (min)"],
        rows,
    )


# -- the pages ----------------------------------------------------------------------


def read_json(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def tables(results=RESULTS):
    """Every generated table, by name: {name: Table or str (a paragraph)}."""
    out = {}
    for preset in SCALING_PRESETS:
        summary = scaling_summary(preset, results)
        out[f"scaling-{preset}"] = scaling_table(summary)
        if len({s["order"] for s in summary}) > 1:
            out[f"scaling-{preset}-slopes"] = slopes_by_order(summary)
    out["fast-step"] = fast_step_table(read_json(results / "fast_step/results.json"))
    allocation = benchmark_module("allocation")
    out["allocation"] = allocation_table(
        read_csv_rows(
            results / "allocation" / "results.csv",
            allocation.COLUMNS,
            allocation.CONVERTERS,
        )
    )
    out["scaling-large-precision"] = precision_table(
        read_json(results / "large" / "precision.json")
    )
    out["solver-precision"] = if_measured(
        results,
        "large/solver_precision.json",
        solver_precision_table,
        "python benchmarks/solver_precision.py",
    )
    out["large-memory"] = if_measured(
        results,
        "fast_step/large.json",
        fast_step_table,
        "python benchmarks/fast_step.py --neurons 1e6,1e7,1e8 ...",
    )
    large_rows = read_results(results / "large" / "scaling.csv")
    out["scaling-large-decades"] = decade_slopes(large_rows)
    out["scaling-large-dask"] = dask_table(
        read_results(results / "large" / "dask" / "scaling.csv"), large_rows
    )
    loihi = read_json(results / "loihi/scaling.json")
    out["loihi-scaling"] = loihi_table(loihi)
    out["loihi-slopes"] = loihi_slopes_table(loihi)
    out["psmnist-mnist5k"] = psmnist_table(
        psmnist_summary(read_json(results / "psmnist_mnist5k/results.json"))
    )
    spiking = read_json(results / "spiking_conversion/results.json")
    out["spiking-conversion"] = spiking_table(spiking)
    out["spiking-conversion-rate"] = spiking_rate_line(spiking)
    out["psmnist-full"] = psmnist_full_table(results)
    out["psmnist-full-epochs"] = psmnist_epochs_table(results)
    spiking = if_measured(
        results,
        "psmnist/spiking/results.json",
        psmnist_spiking_table,
        "python benchmarks/psmnist_spiking.py",
    )
    table, line = spiking if isinstance(spiking, tuple) else (spiking, "")
    out["psmnist-spiking"], out["psmnist-spiking-rate"] = table, line
    out["psmnist-spiking-memory"] = if_measured(
        results,
        "psmnist/spiking-memory/results.json",
        psmnist_spiking_memory_table,
        "python benchmarks/psmnist_spiking_memory.py",
    )
    out["psmnist-speed"] = if_measured(
        results,
        "psmnist/speed.json",
        psmnist_speed_table,
        "python benchmarks/train_speed.py --data mnist ...",
    )
    return out


def if_measured(results, relative, make, command):
    """``make`` of the JSON file ``results / relative``, or, where the file is
    absent, a paragraph saying which command writes it."""
    path = results / relative
    if path.exists():
        return make(read_json(path))
    return f"Not measured yet: ``{command}`` writes ``{relative}``.\n"


def readme_tables(results=RESULTS):
    """The README's headline tables, as Markdown, by name."""
    everything = tables(results)
    return {name: everything[name].markdown() for name in README_TABLES}


def write_pages(folder, results=RESULTS):
    """Write each table to ``folder/<name>.rst.txt`` for ``.. include::``.

    Files are rewritten only when their text changes, so Sphinx rebuilds the
    results page only when a result file changed. Returns the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in tables(results).items():
        text = table.rst() if isinstance(table, Table) else table
        path = folder / f"{name}.rst.txt"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--markdown", action="store_true", help="the README's form")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    for name, table in tables(args.results).items():
        print(f"{name}:\n")
        if isinstance(table, Table):
            print(table.markdown() if args.markdown else table.rst())
        else:
            print(table)


if __name__ == "__main__":
    main()
