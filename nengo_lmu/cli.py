"""The ``nengo-lmu`` command line: thin argument parsing over `nengo_lmu.analysis`."""

import argparse
import os
import sys
import time
import warnings

PRESETS = {
    # Voelker et al. 2019, spiking figure (NeurIPS 2019, section 4):
    # 1-D feed-forward Poisson-LIF, 20-40 Hz, 10 Hz sine, synapse 1 ms, dt 0.1 ms,
    # 1000 steps, m = 100 .. 20,010, 5 seeds.
    "paper": dict(
        experiment="feedforward",
        orders=[1],
        neurons=[100, 200, 500, 1000, 2000, 5000, 10000, 20010],
        neuron_types=["poisson"],
        seeds=5,
        duration=0.1,
        dt=0.0001,
    ),
    # Voelker 2019 thesis: regular LIF plateaus, Poisson and non-leaky IF keep
    # falling as 1/sqrt(m); adaptive LIF beside them.
    "thesis": dict(
        experiment="feedforward",
        orders=[1],
        neurons=[100, 200, 500, 1000, 2000, 5000, 10000, 20010],
        neuron_types=["lif", "poisson", "if", "adaptive"],
        seeds=5,
        duration=0.1,
        dt=0.0001,
    ),
    # The recurrent LMU memory at orders 1, 2, 4, 8.
    "memory": dict(
        experiment="lmu",
        orders=[1, 2, 4, 8],
        neurons=[500, 1000, 3000, 10000, 30000, 100000],
        neuron_types=["poisson", "lif", "if"],
        seeds=3,
        theta=0.5,
        duration=2.0,
    ),
}

# The default run: the headline in well under 5 minutes on 2 cores.
DEFAULTS = dict(
    experiment="lmu",
    orders=[1, 3, 6],
    neurons=[300, 1000, 3000, 10000, 30000],
    neuron_types=["poisson", "if", "lif"],
    seeds=3,
    theta=0.5,
    duration=2.0,
    dt=0.001,
)


# The training tasks: submodules of nengo_lmu.tasks, each with main(argv).
TASKS = ("psmnist", "mackey_glass", "capacity", "spiking_digits")


# argparse types, shared with the training tasks (nengo_lmu.tasks): each error names
# the value
# and what is allowed (argparse adds the option's name).


def int_at_least(low):
    """An argparse type: an integer >= ``low``."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be an integer >= {low}; got {text!r}"
            ) from None
        if value < low:
            raise argparse.ArgumentTypeError(
                f"must be an integer >= {low}; got {value}"
            )
        return value

    return parse


def positive_int(text):
    """An argparse type: an integer >= 1."""
    try:
        value = int(float(text))
        if value != float(text) or value < 1:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a positive integer; got {text!r}"
        ) from None
    return value


def positive_float(text):
    """An argparse type: a finite number > 0."""
    try:
        value = float(text)
        if not value > 0 or value == float("inf"):
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a finite number > 0; got {text!r}"
        ) from None
    return value


def int_list(text):
    """An argparse type: a comma-separated list of positive integers."""
    items = [t for t in text.replace(" ", "").split(",") if t]
    if not items:
        raise argparse.ArgumentTypeError("must be a comma-separated list of integers")
    return [positive_int(t) for t in items]


# `nengo-lmu loihi` rows, simulator:network (nengo_lmu.analysis.delay.NETWORKS).
# The default: the thesis' network on both (its figures), and the LMU memory
# wired for each simulator (LMUMemory(target="loihi") on the emulator, the same
# network wired for Nengo on the reference). The memory wired for Nengo run on
# the emulator ("standard", about 0.3) doubles the wall time: ask for it.
LOIHI_RUNS = tuple(
    f"{simulator}:{network}"
    for simulator in ("nengo", "nengo_loihi")
    for network in ("thesis", "loihi", "standard", "weights")
)
DEFAULT_LOIHI_RUNS = (
    "nengo:thesis",
    "nengo_loihi:thesis",
    "nengo:loihi",
    "nengo_loihi:loihi",
)


def _name_list(choices):
    def parse(text):
        items = [t for t in text.replace(" ", "").split(",") if t]
        bad = [t for t in items if t not in choices]
        if bad or not items:
            raise argparse.ArgumentTypeError(
                f"unknown {bad[0] if bad else 'empty list'!r}; choose from "
                f"{', '.join(choices)} (comma-separated)"
            )
        return items

    return parse


def _scheduler(text):
    if not text.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
        raise argparse.ArgumentTypeError(
            f"must be a Dask scheduler address like tcp://host:8786; got {text!r}"
        )
    return text


def build_parser():
    """The ``nengo-lmu`` argument parser, with one subparser per command."""
    from nengo_lmu.analysis import (  # pylint: disable=import-outside-toplevel
        EXPERIMENTS,
        NEURON_TYPES,
        SIMULATORS,
    )

    parser = argparse.ArgumentParser(
        prog="nengo-lmu", description="Legendre Memory Units on spiking neurons."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "scaling",
        help="error of a spiking LMU memory against neuron count and order",
        description=(
            "Measure the error of spiking LMU memories (or the paper's 1-D "
            "feed-forward ensemble) against neuron count m and order d, fit the "
            "log-log slope with a bootstrap 95% interval, and write "
            "OUT/scaling.csv and OUT/scaling.png. Runs already in "
            "the CSV are skipped, so an interrupted sweep resumes."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--preset", choices=sorted(PRESETS), help="a published figure")
    p.add_argument("--experiment", choices=EXPERIMENTS, help="default: lmu")
    p.add_argument("--orders", type=int_list, help="e.g. 1,3,6")
    p.add_argument("--neurons", type=int_list, help="e.g. 300,1000,3000,10000")
    p.add_argument(
        "--neuron-types",
        type=_name_list(tuple(NEURON_TYPES)),
        help="comma-separated: " + ", ".join(NEURON_TYPES),
    )
    p.add_argument("--seeds", type=positive_int, help="number of seeds per point")
    p.add_argument("--theta", type=positive_float, help="window length (s)")
    p.add_argument("--duration", type=positive_float, help="simulated seconds")
    p.add_argument("--dt", type=positive_float, help="time step (s)")
    p.add_argument("--simulator", choices=SIMULATORS, default="nengo", help="backend")
    p.add_argument(
        "--workers",
        type=positive_int,
        default=os.cpu_count() or 1,
        help="local worker processes",
    )
    p.add_argument(
        "--scheduler", type=_scheduler, help="Dask scheduler address (tcp://host:port)"
    )
    p.add_argument("--out", default="scaling-out", help="output folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    e = sub.add_parser(
        "export",
        help="write a spiking LMU memory to a file for other platforms",
        description=(
            "Build an LMUMemory and write it as a NIR graph (nir.write), for Lava-dl "
            "(Loihi 2), SpiNNaker2, Rockpool, Sinabs, Norse, snnTorch or Spyx. LIF "
            "neurons are exported without a refractory period (NIR has none), so "
            "the memory is built with nengo.LIF(tau_ref=0, min_voltage=-inf)."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    e.add_argument("--format", choices=["nir"], default="nir", help="file format")
    e.add_argument("--order", type=positive_int, default=6)
    e.add_argument("--theta", type=positive_float, default=1.0)
    e.add_argument("--neurons", type=positive_int, default=1200)
    e.add_argument("--neuron-type", choices=["lif", "if"], default="lif")
    e.add_argument(
        "--synapse", type=positive_float, default=0.1, help="lowpass tau (s)"
    )
    e.add_argument(
        "--dt",
        type=positive_float,
        default=0.0001,
        help="time step the weights are made for (0.1 ms: LIF without a refractory "
        "period needs it)",
    )
    e.add_argument("--seed", type=int, default=0)
    e.add_argument(
        "--synapse-node",
        choices=["cuba", "li"],
        default="cuba",
        help="fold the synapse into CubaLIF (Lava-dl) or write LI + LIF/IF nodes",
    )
    e.add_argument(
        "--approximate",
        action="store_true",
        help="accept the documented approximations (needed for --neuron-type if)",
    )
    e.add_argument("--out", required=True, help="file to write (e.g. memory.nir)")

    tr = sub.add_parser(
        "train",
        help="train or evaluate a task: " + ", ".join(TASKS),
        description="Runs nengo_lmu.tasks.<task> with the remaining arguments "
        "(see `nengo-lmu train <task> --help`).",
    )
    tr.add_argument("task", help=", ".join(TASKS))
    tr.add_argument("task_args", nargs=argparse.REMAINDER)

    lo = sub.add_parser(
        "loihi",
        help="the thesis' delay network on the CPU reference and the Loihi emulator",
        description=(
            "Voelker (2019), Loihi chapter: a delay network (order 3, theta 0.1 s, "
            "384 LIF neurons) on the thesis' 10 inputs (2 s of 3 Hz white noise, "
            "RMS 1, one per trial in turn, a new draw of neurons each trial), run "
            "in nengo.Simulator ('reference') and nengo_loihi.Simulator "
            "('emulator', or the chip when nxsdk is installed), scored two ways, "
            "each with a 95% bootstrap interval over trials: 'thesis' (the "
            "state read out at 100 delays in [0, theta] against the ideal delay "
            "system, the 20 ms readout filter undone) and 'ours' (u(t - theta) "
            "alone, both sides filtered 20 ms). Thesis (its metric, 250 runs): "
            "reference [0.055, 0.059], emulator [0.145, 0.151]."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    lo.add_argument(
        "--trials",
        type=positive_int,
        default=10,
        help="runs per row (each of the thesis' 10 inputs once; it ran 250)",
    )
    lo.add_argument("--input-hz", type=positive_float, default=3.0)
    lo.add_argument("--seed", type=int, default=0)
    lo.add_argument("--neurons", type=positive_int, default=384)
    lo.add_argument("--order", type=positive_int, default=3)
    lo.add_argument("--theta", type=positive_float, default=0.1)
    lo.add_argument("--duration", type=positive_float, default=2.0, help="s per trial")
    lo.add_argument(
        "--runs",
        type=_name_list(LOIHI_RUNS),
        default=list(DEFAULT_LOIHI_RUNS),
        help="simulator:network pairs, comma-separated; networks: thesis (the "
        "thesis' network; its Loihi settings on nengo_loihi), loihi "
        "(LMUMemory(target='loihi') on nengo_loihi, the same network wired for "
        "Nengo on nengo), standard (loihi.thesis_memory, wired for Nengo), "
        "weights (the same with neuron-to-neuron recurrence)",
    )
    lo.add_argument(
        "--variants",
        type=_name_list(("standard", "loihi", "chip", "weights")),
        help="earlier form of --runs: the standard memory on the reference and "
        "these networks on the emulator (comma-separated; chip is loihi)",
    )
    return parser


def scaling(args):
    """``nengo-lmu scaling``: run (or resume) a sweep, fit, print and plot it."""
    from nengo_lmu import analysis  # pylint: disable=import-outside-toplevel

    config = dict(DEFAULTS)
    if args.preset:
        config.update(PRESETS[args.preset])
    for name in (
        "experiment",
        "orders",
        "neurons",
        "neuron_types",
        "seeds",
        "theta",
        "duration",
        "dt",
    ):
        value = getattr(args, name)
        if value is not None:
            config[name] = value
    if config["experiment"] == "feedforward" and args.preset is None:
        if args.duration is None:
            config["duration"] = 0.1
        if args.dt is None:
            config["dt"] = 0.0001
    runs = analysis.make_grid(simulator=args.simulator, **config)
    os.makedirs(args.out, exist_ok=True)
    csv_path = os.path.join(args.out, "scaling.csv")
    print(
        f"nengo-lmu scaling: {len(runs)} runs ({config['experiment']}; orders "
        f"{config['orders']}; neurons {config['neurons']}; types "
        f"{config['neuron_types']}; {config['seeds']} seeds) -> {csv_path}",
        flush=True,
    )
    t0 = time.perf_counter()
    rows = analysis.run_sweep(
        runs,
        csv_path,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.no_progress,
    )
    analysis.plot_scaling(rows, os.path.join(args.out, "scaling"))
    summary = analysis.summarize(rows)
    print()
    print(analysis.format_summary(summary))
    print(
        f"\nslope = d log(NRMSE) / d log(m); 1/sqrt(m) is -0.5. "
        f"{len(rows)} runs in {time.perf_counter() - t0:.0f} s. "
        f"Figure: {os.path.join(args.out, 'scaling.png')}"
    )
    return 0


def export(args):
    """``nengo-lmu export``: write a spiking memory as a NIR graph."""
    import nengo  # pylint: disable=import-outside-toplevel
    import numpy as np  # pylint: disable=import-outside-toplevel

    from nengo_lmu import nir as lmu_nir  # pylint: disable=import-outside-toplevel
    from nengo_lmu.networks import LMUMemory  # pylint: disable=import-outside-toplevel

    neuron_type = (
        nengo.LIF(tau_ref=0, min_voltage=-np.inf)
        if args.neuron_type == "lif"
        else nengo.SpikingRectifiedLinear()
    )
    memory = LMUMemory(
        args.order,
        args.theta,
        args.neurons,
        neuron_type=neuron_type,
        synapse=args.synapse,
        dt=args.dt,
        seed=args.seed,
        add_to_container=False,
    )
    graph = lmu_nir.write(
        memory,
        args.out,
        dt=args.dt,
        approximate=args.approximate,
        synapse_node=args.synapse_node,
    )
    n = sum(e.n_neurons for e in memory.all_ensembles)
    print(
        f"wrote {args.out}: NIR graph of an order-{args.order} LMU memory (theta "
        f"{args.theta} s) from {n} {args.neuron_type.upper()} neurons, nodes "
        f"{sorted(graph.nodes)}, {len(graph.edges)} edges (rec -> "
        f"{'neurons' if args.synapse_node == 'cuba' else 'syn'} closes the loop)"
    )
    return 0


def loihi(args):
    """``nengo-lmu loihi``: the thesis' delay protocol on the reference and Loihi,
    scored by the thesis' metric and by ours."""
    from nengo_lmu import analysis  # pylint: disable=import-outside-toplevel
    from nengo_lmu import loihi as lmu_loihi  # pylint: disable=import-outside-toplevel

    target = "chip" if lmu_loihi.hardware_available() else "emulator"
    print(
        f"nengo-lmu loihi: order {args.order}, theta {args.theta} s, {args.neurons} "
        f"neurons, the thesis' inputs ({args.input_hz} Hz, RMS 1), {args.trials} "
        f"trials of {args.duration} s",
        flush=True,
    )
    t0 = time.perf_counter()
    runs = args.runs
    if args.variants:
        runs = ["nengo:standard"] + [
            f"nengo_loihi:{'loihi' if v == 'chip' else v}" for v in args.variants
        ]
    rows = analysis.delay_protocol(
        simulators=runs,
        trials=args.trials,
        seed=args.seed,
        order=args.order,
        theta=args.theta,
        n_neurons=args.neurons,
        input_hz=args.input_hz,
        duration=args.duration,
    )
    simulators = {"nengo": "reference", "nengo_loihi": target}
    networks = {
        "thesis": "thesis' network",
        "loihi": "LMUMemory, Loihi wiring",
        "standard": "standard (thesis_memory)",
        "weights": "weights (thesis_memory)",
    }
    print(
        f"\n{'simulator, network':<42}{'thesis metric':>25}{'ours':>25}{'steps/s':>9}"
    )
    for row in rows:
        name = f"{simulators[row['simulator']]}, {networks[row['network']]}"
        cells = "".join(
            f"{row[m]:>8.3f} [{row[m + '_low']:.3f}, {row[m + '_high']:.3f}]"
            for m in ("thesis", "ours")
        )
        print(f"{name:<42}{cells}{row['steps_per_s']:>9.0f}")
    print(
        "\nthesis metric: 100 delays in [0, theta] against the ideal delay system, "
        "readout filter undone; ours: u(t - theta) alone. Intervals: bootstrap 95 % "
        "of the mean over trials."
    )
    print(
        "Voelker (2019), thesis metric, 250 runs: reference [0.055, 0.059], Loihi "
        "emulator [0.145, 0.151], Loihi [0.146, 0.153]"
    )
    print(f"wall time: {time.perf_counter() - t0:.0f} s")
    return 0


def train(args):
    """``nengo-lmu train``: run the ``main`` of a module of `nengo_lmu.tasks`."""
    import importlib  # pylint: disable=import-outside-toplevel

    if args.task not in TASKS:
        print(
            f"nengo-lmu train: unknown task {args.task!r}; choose from "
            f"{', '.join(TASKS)}",
            file=sys.stderr,
        )
        return 2
    module = importlib.import_module(f"nengo_lmu.tasks.{args.task}")
    result = module.main(args.task_args)
    return result if isinstance(result, int) else 0


# Known, harmless start-up noise kept off the command's output: nengo-dl 3.6 and
# nengo-loihi 1.1 warn that Nengo 4.1 is newer than they were tested with (both
# run it; their tests pass here), and TensorFlow logs its CUDA and TensorRT probes.
VERSION_WARNINGS = r"This version of (NengoDL|`nengo_loihi`) has not been tested"


def main(argv=None):
    """Entry point of the ``nengo-lmu`` console script."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", message=VERSION_WARNINGS, category=UserWarning)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "loihi" and args.duration * args.input_hz < 1:
        # nengo's WhiteSignal needs a period of at least one cycle of its cutoff
        parser.error(
            f"argument --duration: must be at least 1 / --input-hz = "
            f"{1 / args.input_hz:g} s; got {args.duration:g}"
        )
    if args.command == "scaling":
        return scaling(args)
    if args.command == "export":
        return export(args)
    if args.command == "loihi":
        return loihi(args)
    if args.command == "train":
        return train(args)
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover
    return 2


if __name__ == "__main__":
    sys.exit(main())
