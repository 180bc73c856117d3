"""The ``nengo-lmu`` command line: thin argument parsing over `nengo_lmu.analysis`."""

import argparse
import os
import sys
import time
import warnings

# argparse types, shared with the training tasks (nengo_lmu.tasks); importable
# from here too, as before.
from nengo_lmu._argtypes import (  # noqa: F401
    int_at_least,
    int_list,
    name_list,
    positive_float,
    positive_int,
)
from nengo_lmu._io import ResultFileError
from nengo_lmu._tf import quiet_tensorflow
from nengo_lmu.analysis.defaults import (  # noqa: F401
    DEFAULT_RUN,
    FEEDFORWARD_TIMING,
    PRESETS,
    scaling_run,
)

# The default run, under the name it had here.
DEFAULTS = DEFAULT_RUN

# The training tasks: submodules of nengo_lmu.tasks, each with main(argv).
TASKS = ("psmnist", "mackey_glass", "capacity", "spiking_digits")


# `nengo-lmu loihi` rows, simulator:network (nengo_lmu.analysis.delay.NETWORKS).
# The default: the thesis' network on both (its figures), and the LMU memory
# wired for each simulator (LMUMemory(wiring=LoihiWiring()) on the emulator, the same
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


def _scheduler(text):
    if not text.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
        raise argparse.ArgumentTypeError(
            f"must be a Dask scheduler address like tcp://host:8786; got {text!r}"
        )
    return text


class _Given(argparse.Action):
    """Store an option's value and add its name to ``namespace.given``: a preset
    fills in only the options not given, while the parser's defaults (the default
    run's, shown by ``--help``) stand for the others."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        namespace.given = tuple(getattr(namespace, "given", ())) + (self.dest,)


def build_parser():
    """The ``nengo-lmu`` argument parser, with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="nengo-lmu", description="Legendre Memory Units on spiking neurons."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add_scaling_parser(sub)
    _add_export_parser(sub)
    tr = sub.add_parser(
        "train",
        help="train or evaluate a task: " + ", ".join(TASKS),
        description="Runs nengo_lmu.tasks.<task> with the remaining arguments "
        "(see `nengo-lmu train <task> --help`).",
    )
    tr.add_argument("task", help=", ".join(TASKS))
    tr.add_argument("task_args", nargs=argparse.REMAINDER)
    _add_loihi_parser(sub)
    return parser


def _add_scaling_parser(sub):
    from nengo_lmu.analysis import (  # pylint: disable=import-outside-toplevel
        EXPERIMENTS,
        NEURON_TYPES,
        SIMULATORS,
    )

    p = sub.add_parser(
        "scaling",
        help="error of a spiking LMU memory against neuron count and order",
        description=(
            "Measure the error of spiking LMU memories (or the paper's 1-D "
            "feed-forward ensemble) against neuron count m and order d, fit the "
            "log-log slope with a bootstrap 95% interval, and write "
            "OUT/scaling.csv and OUT/scaling.png. Runs already in "
            "the CSV are skipped, so an interrupted sweep resumes. The defaults "
            "are the default run's; a --preset replaces those of the options not "
            "given."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.set_defaults(given=())
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=argparse.SUPPRESS,
        help="a published figure: " + ", ".join(sorted(PRESETS)),
    )
    _add_run_options(p, EXPERIMENTS, NEURON_TYPES)
    p.add_argument("--simulator", choices=SIMULATORS, default="nengo", help="backend")
    p.add_argument(
        "--workers",
        type=positive_int,
        default=os.cpu_count() or 1,
        help="local worker processes",
    )
    p.add_argument(
        "--scheduler",
        type=_scheduler,
        default=argparse.SUPPRESS,
        help="Dask scheduler address (tcp://host:port); without it, local workers",
    )
    p.add_argument("--out", default="scaling-out", help="output folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _add_run_options(p, experiments, neuron_types):
    """The scaling options that a preset sets when they are not given; their
    defaults are the default run's."""
    run = DEFAULT_RUN
    p.add_argument(
        "--experiment",
        choices=experiments,
        action=_Given,
        default=run["experiment"],
        help="the LMU memory or the paper's 1-D feed-forward ensemble",
    )
    for name, help_text in (("orders", "e.g. 1,3,6"), ("neurons", "neuron counts m")):
        p.add_argument(
            f"--{name}",
            type=int_list,
            action=_Given,
            default=",".join(map(str, run[name])),
            help=help_text + ", comma-separated",
        )
    p.add_argument(
        "--neuron-types",
        type=name_list(tuple(neuron_types)),
        action=_Given,
        default=",".join(run["neuron_types"]),
        help="comma-separated: " + ", ".join(neuron_types),
    )
    p.add_argument(
        "--seeds",
        type=positive_int,
        action=_Given,
        default=run["seeds"],
        help="number of seeds per point",
    )
    p.add_argument(
        "--theta",
        type=positive_float,
        action=_Given,
        default=run["theta"],
        help="window length (s)",
    )
    for name, help_text in (("duration", "simulated seconds"), ("dt", "time step (s)")):
        p.add_argument(
            f"--{name}",
            type=positive_float,
            action=_Given,
            default=run[name],
            help=f"{help_text}; without a preset the feedforward experiment's "
            f"default is {FEEDFORWARD_TIMING[name]:g}",
        )


def _add_export_parser(sub):
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
    e.add_argument("--order", type=positive_int, default=6, help="memory order")
    e.add_argument(
        "--theta", type=positive_float, default=1.0, help="window length (s)"
    )
    e.add_argument("--neurons", type=positive_int, default=1200, help="neurons in all")
    e.add_argument(
        "--neuron-type", choices=["lif", "if"], default="lif", help="neuron model"
    )
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
    e.add_argument("--seed", type=int, default=0, help="seeds the network")
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
    e.add_argument(
        "--out",
        required=True,
        default=argparse.SUPPRESS,
        help="file to write (e.g. memory.nir)",
    )
    return e


def _add_loihi_parser(sub):
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
    lo.add_argument(
        "--input-hz", type=positive_float, default=3.0, help="white-noise cutoff (Hz)"
    )
    lo.add_argument("--seed", type=int, default=0, help="seeds the networks")
    lo.add_argument("--neurons", type=positive_int, default=384, help="neurons in all")
    lo.add_argument("--order", type=positive_int, default=3, help="delay order")
    lo.add_argument(
        "--theta", type=positive_float, default=0.1, help="delay length (s)"
    )
    lo.add_argument("--duration", type=positive_float, default=2.0, help="s per trial")
    lo.add_argument(
        "--runs",
        type=name_list(LOIHI_RUNS),
        default=",".join(DEFAULT_LOIHI_RUNS),
        help="simulator:network pairs, comma-separated; networks: thesis (the "
        "thesis' network; its Loihi settings on nengo_loihi), loihi "
        "(LMUMemory(wiring=LoihiWiring()) on nengo_loihi, the same network wired for "
        "Nengo on nengo), standard (loihi.thesis_memory, wired for Nengo), "
        "weights (the same with neuron-to-neuron recurrence)",
    )
    lo.add_argument(
        "--variants",
        type=name_list(("standard", "loihi", "chip", "weights")),
        default=argparse.SUPPRESS,
        help="earlier form of --runs: the standard memory on the reference and "
        "these networks on the emulator (comma-separated; chip is loihi)",
    )
    return lo


def scaling_config(args):
    """The settings of the sweep that parsed ``nengo-lmu scaling`` arguments ask
    for: the options given, then the preset's, then the default run's
    (`nengo_lmu.analysis.defaults.scaling_run`)."""
    given = {name: getattr(args, name) for name in args.given}
    return scaling_run(vars(args).get("preset"), **given)


def scaling(args):
    """``nengo-lmu scaling``: run (or resume) a sweep, fit, print and plot it."""
    from nengo_lmu import analysis  # pylint: disable=import-outside-toplevel

    config = scaling_config(args)
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
        scheduler=vars(args).get("scheduler"),
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
    from nengo_lmu.loihi.quiet import (  # pylint: disable=import-outside-toplevel
        describe_rounding,
    )

    # the weight rounding is printed once below, with the table
    warnings.filterwarnings("ignore", message="nengo_loihi rounded")
    target = "chip" if lmu_loihi.hardware_available() else "emulator"
    print(
        f"nengo-lmu loihi: order {args.order}, theta {args.theta} s, {args.neurons} "
        f"neurons, the thesis' inputs ({args.input_hz} Hz, RMS 1), {args.trials} "
        f"trials of {args.duration} s",
        flush=True,
    )
    t0 = time.perf_counter()
    runs = args.runs
    variants = vars(args).get("variants")
    if variants:
        runs = ["nengo:standard"] + [
            f"nengo_loihi:{'loihi' if v == 'chip' else v}" for v in variants
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
    if describe_rounding():
        print(describe_rounding())
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
        if args.simulator != "nengo":
            quiet_tensorflow()  # nengo_dl and nengo_loihi import TensorFlow
        try:
            return scaling(args)
        except ResultFileError as e:  # a results file we must not overwrite
            print(f"nengo-lmu scaling: error: {e}", file=sys.stderr)
            return 2
    if args.command == "export":
        return export(args)
    if args.command == "loihi":
        quiet_tensorflow()  # nengo_loihi imports nengo_dl
        return loihi(args)
    if args.command == "train":
        quiet_tensorflow()
        return train(args)
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover
    return 2


if __name__ == "__main__":
    sys.exit(main())
