"""Mackey-Glass prediction: LMU, LSTM and an LMU-LSTM hybrid, about 18k parameters each.

The setup of Voelker, Kajic & Eliasmith (NeurIPS 2019): the Mackey-Glass series with
delay ``tau = 17``, predicted 15 steps ahead; 128 series of 5000 steps, split 32 / 32
/ 64 for training, validation and test; four layers and a linear output, about 18k
parameters per model; Adam, mean squared error. The paper trained for 500 epochs;
this script's default is 5 epochs (a quick run), so its numbers are NOT comparable
with the paper's unless run with ``--epochs 500`` on the full data (``--series 128
--steps 5000``, the defaults).

Models (parameters counted by Keras, printed by the script):

- ``lstm``: 4 x LSTM(25) + Dense(1): 18,026.
- ``lmu``: 4 x keras-lmu ``LMU`` (49 units, tanh SimpleRNN hidden, memory dimension
  1, order 4, theta 4 steps; hidden-to-memory, memory-to-memory and input-to-hidden
  connections) + Dense(1): 18,246. The recurrent LMU of the paper.
- ``hybrid``: LMU(40), LSTM(25), LMU(40), LSTM(25) + Dense(1): 17,980 (our reading
  of "LMU + LSTM layers"; the paper's exact hybrid layout was not checked).
- ``lmu-parallel``: 4 layers, each ``Dense(4)`` (encoders) -> the fixed Legendre
  memory of those 4 channels (order 8, theta 17 steps, computed for the whole
  sequence by one convolution: `nengo_lmu.dl.LegendreMemoryConv`) -> ``Dense(57,
  tanh)`` of the memory and the layer's input; + Dense(1): 18,074. Nothing
  recurs but the memory, so it trains in parallel over time (Chilkuri & Eliasmith
  2021): per epoch 3.5x faster than the LSTM here and 11x faster than ``lmu``.

Training runs on chunks of ``--chunk`` steps cut from the training series (more
gradient steps per epoch at the same cost; ``--chunk 0`` trains on whole series),
with the first ``--warm-up`` steps of each chunk left out of the loss. Every epoch
writes a checkpoint (``--checkpoint-dir``: ``weights.npz`` and ``state.json`` per
model) and a rerun with the same folder resumes.

Notes
-----
The series is ``dx/dt = 0.2 x(t - tau) / (1 + x(t - tau)^10) - 0.1 x(t)``, integrated
by Euler's method at ``dt = 1 / 10`` and sampled every time unit, from random
constant-plus-noise initial histories (``1.2 + U(-0.1, 0.1)``), with a transient
discarded; as in the generator used by the LMU paper's code, the network sees
``tanh(x - 1)``. The input at step ``t`` is the series at ``t`` and the target the
series at ``t + 15`` exactly (the "corrected" target: the paper's first figures,
LSTM 7.94 %, LMU 5.44 %, hybrid 5.05 %, used a target shifted by one more step;
corrected: 5.87 %, 4.87 %, 4.47 %).

NRMSE here is the RMSE over all test series and steps divided by the standard
deviation of the test targets; every model starts each test series from rest, so
its first steps, predicted from little history, count too. The script also prints
it after the first 100 steps of each series.

References
----------
.. [1] Voelker, Kajic, Eliasmith. "Legendre Memory Units: Continuous-time
   representation in recurrent neural networks." NeurIPS 2019.
.. [2] Mackey, Glass. "Oscillation and chaos in physiological control systems."
   Science 197, 1977.
.. [3] Chilkuri, Eliasmith. "Parallelizing Legendre Memory Unit training." ICML 2021.
"""

import argparse
import os
import time

import numpy as np

from nengo_lmu._argtypes import int_at_least
from nengo_lmu._tf import quiet_tensorflow
from nengo_lmu.tasks.training import (
    load_checkpoint,
    restore_training_arrays,
    save_checkpoint,
    training_arrays,
)

TAU = 17  # delay of the Mackey-Glass system [1]
HORIZON = 15  # steps predicted ahead [1]
# The paper's test NRMSE (%) after the target fix, 500 epochs [1].
PAPER_NRMSE = {"lstm": 5.87, "lmu": 4.87, "hybrid": 4.47, "lmu-parallel": 4.87}
MODELS = ("lstm", "lmu", "hybrid", "lmu-parallel")
# Adam learning rates chosen in short runs here (32 series x 2000 steps).
LEARNING_RATES = {"lstm": 3e-3, "lmu": 3e-3, "hybrid": 3e-3, "lmu-parallel": 1e-3}
SKIP = 100  # steps left out of the second, "after start-up" NRMSE


def mackey_glass(
    n_series,
    n_steps,
    tau=TAU,
    substeps=10,
    transient=500,
    rng=None,
    history=None,
    beta=0.2,
    gamma=0.1,
    power=10,
):
    """Integrate the Mackey-Glass delay differential equation.

    Parameters
    ----------
    n_series, n_steps : int
        Number of independent series and samples (one per time unit) in each.
    tau : int
        Delay, in time units.
    substeps : int
        Euler steps per time unit (``dt = 1 / substeps``).
    transient : int
        Time units integrated and discarded before the first sample.
    rng : np.random.RandomState, optional
        Draws the initial histories ``1.2 + U(-0.1, 0.1)``.
    history : (n_series, tau * substeps) array_like, optional
        The initial history instead (oldest first); ``x(0)`` is its last value.
    beta, gamma, power : float
        ``dx/dt = beta x(t - tau) / (1 + x(t - tau)^power) - gamma x(t)``.

    Returns
    -------
    x : (n_series, n_steps) ndarray
    """
    delay = int(round(tau * substeps))
    if history is None:
        rng = np.random.RandomState(0) if rng is None else rng
        history = 1.2 + 0.2 * (rng.rand(n_series, delay) - 0.5)
    history = np.array(history, dtype=float, ndmin=2)
    if history.shape != (n_series, delay):
        raise ValueError(
            f"history must have shape ({n_series}, {delay}); got {history.shape}"
        )
    # Ring buffer of the last `delay` values: slot j starts as x[j - delay] (the
    # history, oldest first); at Euler step k, slot k % delay holds x[k - delay]
    # (read) and then receives x[k].
    buffer = history.T.copy()
    x = buffer[-1].copy()  # x[0] = x[-1]: the history's last value
    dt = 1.0 / substeps
    out = np.empty((n_series, n_steps))
    total = (transient + n_steps) * substeps
    start = transient * substeps
    for k in range(total):
        slot = k % delay
        x_tau = buffer[slot].copy()
        buffer[slot] = x
        x = x + dt * (beta * x_tau / (1.0 + x_tau**power) - gamma * x)
        if k >= start and (k - start) % substeps == substeps - 1:
            out[:, (k - start) // substeps] = x
    return out


def make_data(n_series, n_steps, seed=0, horizon=HORIZON, tau=TAU):
    """Inputs, targets and the 1/4, 1/4, 1/2 split (32 / 32 / 64 of 128 series).

    Returns ``{"train": (x, y), "val": (x, y), "test": (x, y)}``, each ``x, y`` of
    shape ``(series, n_steps - horizon, 1)`` with ``y[:, t] = x[:, t + horizon]``.
    """
    if n_steps <= horizon + 1:
        raise ValueError(f"n_steps must exceed {horizon + 1}; got {n_steps}")
    if n_series < 3:
        raise ValueError(f"need at least 3 series (train, val, test); got {n_series}")
    series = np.tanh(
        mackey_glass(n_series, n_steps, tau=tau, rng=np.random.RandomState(seed)) - 1
    ).astype(np.float32)[..., None]
    x, y = series[:, :-horizon], series[:, horizon:]
    n_train = max(1, n_series // 4)
    n_val = max(1, n_series // 4)
    return {
        "train": (x[:n_train], y[:n_train]),
        "val": (x[n_train : n_train + n_val], y[n_train : n_train + n_val]),
        "test": (x[n_train + n_val :], y[n_train + n_val :]),
    }


def nrmse(y, target, skip=0):
    """RMSE divided by the standard deviation of ``target``, over steps ``skip:``
    of each series (axis 1)."""
    y = np.asarray(y, dtype=float)[:, skip:]
    target = np.asarray(target, dtype=float)[:, skip:]
    return float(np.sqrt(np.mean((y - target) ** 2)) / np.std(target))


def chunks(x, y, length, warm_up=0):
    """Cut series ``(n, T, 1)`` into ``(n * (T // length), length, 1)`` chunks
    (the tail that does not fill a chunk is dropped; ``length`` 0 keeps whole
    series), with per-step loss weights that leave out the first ``warm_up``."""
    if length:
        if length > x.shape[1]:
            raise ValueError(
                f"chunk must be at most the series length {x.shape[1]}; got {length}"
            )
        n = x.shape[1] // length
        x = x[:, : n * length].reshape(-1, length, x.shape[2])
        y = y[:, : n * length].reshape(-1, length, y.shape[2])
    if not 0 <= warm_up < x.shape[1]:
        raise ValueError(f"warm_up must be in [0, {x.shape[1]}); got {warm_up}")
    weights = np.ones(x.shape[:2], dtype=np.float32)
    weights[:, :warm_up] = 0
    return x, y, weights


def _lmu_layer(units, order, theta):
    import keras_lmu
    import tensorflow as tf

    return keras_lmu.LMU(
        memory_d=1,
        order=order,
        theta=theta,
        hidden_cell=tf.keras.layers.SimpleRNNCell(units),
        hidden_to_memory=True,
        memory_to_memory=True,
        input_to_hidden=True,
        return_sequences=True,
    )


def build_model(
    kind,
    order=4,
    theta=4.0,
    lstm_units=25,
    lmu_units=49,
    hybrid_lmu_units=40,
    parallel_order=8,
    parallel_theta=float(TAU),
    parallel_units=57,
    parallel_channels=4,
    seed=0,
):
    """One of the models (uncompiled), about 18k parameters each."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)  # Python, numpy and TensorFlow
    inputs = tf.keras.Input(shape=(None, 1))
    h = inputs
    if kind == "lstm":
        for _ in range(4):
            h = tf.keras.layers.LSTM(lstm_units, return_sequences=True)(h)
    elif kind == "lmu":
        for _ in range(4):
            h = _lmu_layer(lmu_units, order, theta)(h)
    elif kind == "hybrid":
        for _ in range(2):
            h = _lmu_layer(hybrid_lmu_units, order, theta)(h)
            h = tf.keras.layers.LSTM(lstm_units, return_sequences=True)(h)
    elif kind == "lmu-parallel":
        from nengo_lmu.dl import LegendreMemoryConv  # pylint: disable=C0415

        for _ in range(4):
            u = tf.keras.layers.Dense(parallel_channels, use_bias=False)(h)
            m = LegendreMemoryConv(parallel_order, parallel_theta)(u)
            h = tf.keras.layers.Dense(parallel_units, activation="tanh")(
                tf.keras.layers.Concatenate()([m, h])
            )
    else:
        raise ValueError(f"kind must be one of {MODELS}; got {kind!r}")
    outputs = tf.keras.layers.Dense(1)(h)
    return tf.keras.Model(inputs, outputs, name=kind.replace("-", "_"))


def count_parameters(model):
    """The number of trainable parameters of a Keras model."""
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def make_parser():
    """The task's argument parser (``--learning-rate`` is absent from the parsed
    arguments unless given: `main` parses into a namespace where it is None)."""
    parser = argparse.ArgumentParser(
        description=(
            "Mackey-Glass (tau 17, 15 steps ahead): LMU, LSTM, hybrid and parallel "
            "LMU models of about 18k parameters (Voelker et al. 2019). Default 5 "
            "epochs: a quick run, not comparable with the paper's 500."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--models",
        default=",".join(MODELS),
        help="comma-separated subset of " + ",".join(MODELS),
    )
    parser.add_argument(
        "--epochs",
        type=int_at_least(0),
        default=5,
        help="training epochs (the paper used 500)",
    )
    parser.add_argument(
        "--series",
        type=int_at_least(3),
        default=128,
        help="number of series (split 1/4 train, 1/4 val, 1/2 test)",
    )
    parser.add_argument(
        "--steps", type=int_at_least(17), default=5000, help="steps per series"
    )
    parser.add_argument(
        "--chunk",
        type=int_at_least(0),
        default=500,
        help="train on chunks of this many steps (0: whole series)",
    )
    parser.add_argument(
        "--warm-up",
        type=int_at_least(0),
        default=0,
        help="steps at the start of each chunk left out of the loss",
    )
    parser.add_argument(
        "--batch-size", type=int_at_least(1), default=16, help="series per batch"
    )
    _add_model_options(parser)
    parser.add_argument(
        "--checkpoint-dir",
        default=None,
        help="write a checkpoint every epoch here; resume from it",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seeds the data, the weights and the shuffling",
    )
    parser.add_argument("--verbose", type=int, default=0, help="Keras fit verbosity")
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    return parser


def _add_model_options(parser):
    """The options of the models' training and memories."""
    parser.add_argument(
        "--learning-rate",
        type=float,
        default=argparse.SUPPRESS,
        help="Adam learning rate (default: per model, "
        + ", ".join(f"{k} {v:g}" for k, v in LEARNING_RATES.items())
        + ")",
    )
    parser.add_argument(
        "--order",
        type=int_at_least(1),
        default=4,
        help="memory order of the recurrent LMU layers",
    )
    parser.add_argument(
        "--theta",
        type=float,
        default=4.0,
        help="window of the recurrent LMU layers, in steps",
    )
    parser.add_argument(
        "--parallel-order",
        type=int_at_least(1),
        default=8,
        help="memory order of the lmu-parallel layers",
    )
    parser.add_argument(
        "--parallel-theta",
        type=float,
        default=float(TAU),
        help="window of the lmu-parallel layers, in steps",
    )


def train(model, data, args, learning_rate, folder=None, say=print):
    """Fit ``model`` for ``args.epochs`` epochs in all, one checkpoint per epoch
    in ``folder`` (resumed from when present). Returns the state: ``epochs_done``,
    ``history`` (training loss and validation NRMSE per epoch) and ``train_s``.

    A checkpoint holds the weights, Adam's moments and step count, and the state;
    each epoch's shuffling depends only on the seed and the epoch, so a resumed
    run continues exactly as an uninterrupted one would (a test checks it).
    """
    import tensorflow as tf

    optimizer = tf.keras.optimizers.Adam(learning_rate)
    model.compile(optimizer=optimizer, loss="mse")
    state = {"epochs_done": 0, "history": [], "train_s": 0.0}
    found = load_checkpoint(folder) if folder else None
    if found is not None:
        arrays, state = found
        restore_training_arrays(model, optimizer, arrays, folder)
        say(f"  resumed from {folder} after {state['epochs_done']} epochs")
    x, y, weights = chunks(*data["train"], args.chunk, args.warm_up)
    while state["epochs_done"] < args.epochs:
        t0 = time.perf_counter()
        rng = np.random.RandomState([args.seed, state["epochs_done"]])
        order = rng.permutation(len(x))  # reproducible shuffling, per epoch
        fit = model.fit(
            x[order],
            y[order],
            sample_weight=weights[order],
            batch_size=args.batch_size,
            epochs=1,
            shuffle=False,
            verbose=args.verbose,
        )
        state["train_s"] += time.perf_counter() - t0
        state["epochs_done"] += 1
        xv, yv = data["val"]
        val = nrmse(model.predict(xv, batch_size=args.batch_size, verbose=0), yv)
        state["history"].append(
            {"loss": float(fit.history["loss"][-1]), "val_nrmse": val}
        )
        if folder:
            save_checkpoint(folder, training_arrays(model, optimizer), state)
    return state


def main(argv=None):
    """Train and test each model; return a dict of results by model name.

    Each result has ``parameters``, ``test_nrmse``, ``test_nrmse_after_startup``
    (after the first 100 steps of each series; None for shorter series) and
    ``val_nrmse`` (fractions),
    ``paper_nrmse`` (percent, 500 epochs), ``train_s`` and ``epochs``.
    """
    quiet_tensorflow()  # before nengo_dl loads TensorFlow
    args = make_parser().parse_args(
        argv, namespace=argparse.Namespace(learning_rate=None)
    )
    say = (lambda *a: None) if args.quiet else print
    kinds = [k.strip() for k in args.models.split(",") if k.strip()]
    bad = [k for k in kinds if k not in MODELS]
    if bad:
        raise SystemExit(f"--models: unknown {bad}; choose from {MODELS}")

    t0 = time.perf_counter()
    data = make_data(args.series, args.steps, seed=args.seed)
    say(
        f"data: {args.series} series x {args.steps} steps "
        f"({time.perf_counter() - t0:.1f} s); train/val/test = "
        + "/".join(str(len(data[s][0])) for s in ("train", "val", "test"))
    )
    results = {}
    for kind in kinds:
        model = build_model(
            kind,
            order=args.order,
            theta=args.theta,
            parallel_order=args.parallel_order,
            parallel_theta=args.parallel_theta,
            seed=args.seed,
        )
        n_params = count_parameters(model)
        rate = args.learning_rate or LEARNING_RATES[kind]
        say(f"{kind}: {n_params:,} trainable parameters, learning rate {rate:g}")
        folder = (
            os.path.join(args.checkpoint_dir, kind) if args.checkpoint_dir else None
        )
        state = train(model, data, args, rate, folder=folder, say=say)
        xt, yt = data["test"]
        prediction = model.predict(xt, batch_size=args.batch_size, verbose=0)
        results[kind] = {
            "parameters": n_params,
            "test_nrmse": nrmse(prediction, yt),
            # None when the series are too short to have steps after start-up
            "test_nrmse_after_startup": (
                nrmse(prediction, yt, skip=SKIP) if yt.shape[1] > SKIP else None
            ),
            "val_nrmse": state["history"][-1]["val_nrmse"]
            if state["history"]
            else None,
            "paper_nrmse": PAPER_NRMSE[kind],
            "train_s": state["train_s"],
            "epochs": state["epochs_done"],
        }
    say(
        f"\n{'model':<13} {'params':>7} {'test NRMSE':>11} {'after 100':>10} "
        f"{'paper (500 ep.)':>16} {'train s':>8}"
    )
    for kind, r in results.items():
        after = r["test_nrmse_after_startup"]
        after = "n/a" if after is None else f"{100 * after:.2f}%"
        say(
            f"{kind:<13} {r['parameters']:>7,} {100 * r['test_nrmse']:>10.2f}% "
            f"{after:>10} "
            f"{r['paper_nrmse']:>15.2f}% {r['train_s']:>8.1f}"
        )
    if "lmu-parallel" in results:
        say("(paper: the recurrent LMU's figure; lmu-parallel is compared with it)")
    if args.epochs < 500 or args.series < 128 or args.steps < 5000:
        say(
            f"NOT comparable with the paper: {args.epochs} epochs on {args.series} "
            f"series x {args.steps} steps (the paper: 500 epochs, 128 x 5000)."
        )
    return results


if __name__ == "__main__":
    main()
