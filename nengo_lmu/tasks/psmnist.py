"""Permuted sequential MNIST (psMNIST) with an LMU in NengoDL.

The paper's model (Voelker et al. 2019): units 212, order 256, theta 784, Adam,
batch 100, 10 epochs, a fixed permutation of the 784 pixels; test accuracy
97.15 %. MNIST cannot be downloaded here: pass its IDX files or Keras' mnist.npz
with --data-path. --dataset fashion reads Debian's dataset-fashion-mnist;
--dataset digits uses scikit-learn's 8x8 digits (64-step sequences) for quick runs.

Checkpoints (weights.npz, state.json) are written to --out after every epoch; the
same command resumes from them.

Examples::

    nengo-lmu train psmnist --dataset digits --epochs 5 --units 64 --order 32
    nengo-lmu train psmnist --dataset fashion --epochs 10 --out psfashion-run
    nengo-lmu train psmnist --dataset mnist --data-path ~/data/mnist.npz
    nengo-lmu train psmnist --dataset digits --epochs 3
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def build_parser():
    """The task's argument parser."""
    from nengo_lmu.cli import int_at_least, positive_float

    p = argparse.ArgumentParser(
        prog="psmnist",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--dataset", choices=["mnist", "fashion", "digits"], default="mnist")
    p.add_argument("--data-path", help="MNIST: folder of IDX files or mnist.npz")
    p.add_argument("--epochs", type=int_at_least(0), default=10)
    p.add_argument("--batch-size", type=int_at_least(1), default=100)
    p.add_argument("--units", type=int_at_least(1), default=212)
    p.add_argument("--order", type=int_at_least(1), default=256)
    p.add_argument(
        "--theta",
        type=positive_float,
        help="window in steps (default: sequence length)",
    )
    p.add_argument("--learning-rate", type=positive_float, default=0.001)
    p.add_argument(
        "--sequential",
        action="store_true",
        help="one simulator step per pixel instead of the parallel memory",
    )
    p.add_argument("--permutation-seed", type=int, default=92)
    p.add_argument(
        "--max-train", type=int_at_least(1), help="use only this many training images"
    )
    p.add_argument("--out", help="checkpoint folder (resumed if it exists)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--compare-keras-lmu",
        action="store_true",
        help="also train keras-lmu 0.9's equivalent model (LMU layer with a "
        "SimpleRNNCell hidden cell, input_to_hidden) for the same epochs",
    )
    return p


def keras_lmu_accuracy(x_train, y_train, x_test, y_test, args, theta):
    """keras-lmu's equivalent model, trained the same way; test accuracy."""
    import keras_lmu
    import numpy as np
    import tensorflow as tf

    tf.random.set_seed(args.seed)
    n_steps = x_train.shape[1]
    inputs = tf.keras.Input((n_steps, 1))
    lmu = keras_lmu.LMU(
        memory_d=1,
        order=args.order,
        theta=theta,
        hidden_cell=tf.keras.layers.SimpleRNNCell(args.units),
        hidden_to_memory=False,
        memory_to_memory=False,
        input_to_hidden=True,
    )
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(10)(lmu(inputs)))
    model.compile(
        optimizer=tf.optimizers.Adam(args.learning_rate),
        loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(
        x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, verbose=0
    )
    logits = model.predict(x_test, batch_size=args.batch_size, verbose=0)
    return float(np.mean(np.argmax(logits, -1) == y_test))


def main(argv=None):
    """Train and test on the chosen data set; returns the results as a dict."""
    args = build_parser().parse_args(argv)
    from nengo_lmu import tasks

    try:
        (x_train, y_train), (x_test, y_test) = tasks.load_dataset(
            args.dataset, args.data_path
        )
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.max_train:
        x_train, y_train = x_train[: args.max_train], y_train[: args.max_train]
    x_train = tasks.permuted_sequences(x_train, args.permutation_seed)
    x_test = tasks.permuted_sequences(x_test, args.permutation_seed)
    n_steps = x_train.shape[1]
    theta = float(n_steps) if args.theta is None else args.theta
    print(
        f"{args.dataset}: {len(x_train)} train, {len(x_test)} test, {n_steps} steps; "
        f"units {args.units}, order {args.order}, theta {theta:g}",
        flush=True,
    )
    trainer = tasks.Trainer(
        n_steps,
        args.units,
        args.order,
        theta,
        batch_size=args.batch_size,
        parallel=not args.sequential,
        learning_rate=args.learning_rate,
        checkpoint_dir=args.out,
        seed=args.seed,
    )
    if trainer.state["epochs_done"]:
        print(f"resuming after epoch {trainer.state['epochs_done']} from {args.out}")
    t0 = time.perf_counter()
    while trainer.state["epochs_done"] < args.epochs:
        trainer.fit(x_train, y_train, trainer.state["epochs_done"] + 1)
        h = trainer.state["history"][-1]
        print(
            f"epoch {trainer.state['epochs_done']}: "
            + ", ".join(f"{k} {v:.4f}" for k, v in h.items()),
            flush=True,
        )
    accuracy = trainer.accuracy(x_test, y_test)
    print(f"test accuracy {100 * accuracy:.2f} % ({time.perf_counter() - t0:.0f} s)")
    trainer.close()
    result = {"test_accuracy": accuracy, "history": trainer.state["history"]}
    if args.compare_keras_lmu:
        t0 = time.perf_counter()
        result["keras_lmu_test_accuracy"] = keras_lmu_accuracy(
            x_train, y_train, x_test, y_test, args, theta
        )
        print(
            f"keras-lmu 0.9, same model and epochs: test accuracy "
            f"{100 * result['keras_lmu_test_accuracy']:.2f} % "
            f"({time.perf_counter() - t0:.0f} s)"
        )
    return result


if __name__ == "__main__":
    result = main()
    sys.exit(result if isinstance(result, int) else 0)
