"""Memory capacity: an untrained LMU memory against window length (and an LSTM).

The capacity experiment of Voelker, Kajic & Eliasmith (NeurIPS 2019): the input is
10 Hz band-limited white noise; the window is ``theta = 1 s`` sampled at ``T`` steps
per second, so the memory must span ``T`` steps. The memory is the LMU's linear
system of order 100 (``nengo_lmu.systems``, never trained), followed by a linear
readout of five delays ``u(t - r theta)``, ``r = 0, 0.25, 0.5, 0.75, 1``, fitted by
least squares on training sequences and scored (NRMSE) on test sequences. The paper
reports that this scales to ``T = 100,000`` steps, where an LSTM fails beyond about
1,000; an LSTM trained for a few epochs on the same task is run beside it at the
shorter lengths (``--lstm-lengths``).

Run ``nengo-lmu train capacity --help``. The default run (T = 100 .. 100,000, an
LSTM at T = 100 and 1,000) took 2 to 3 minutes on 2 shared CPU cores, nearly all of
it the LSTM at T = 1,000; ``--no-lstm`` takes about 10 s.

What to expect: a 10 Hz window of 1 s has about ``2 * 10 * 1 = 20`` degrees of
freedom, far fewer than the order (100), so the least-squares readout of every
delay is exact to round-off (NRMSE ~1e-12) at every T; the fixed Legendre readout
errs by the discretization (0.17 at T = 100, where theta / dt equals the order,
down to 2e-4 at T = 100,000). The LSTM learns r = 0 but not the delays
(NRMSE near 1) at T = 1,000 in the epochs given. Lower ``--order`` (e.g. 30) to see
an order-limited memory whose error grows with the delay.

Notes
-----
Time is in steps: the memory is ``lmu_matrices(order, theta=T)`` discretized (ZOH)
at ``dt = 1`` step, the same system as ``theta = 1 s`` at ``dt = 1 / T``.

The memory is needed only at the evaluation times, every ``stride`` steps. Between
two of them it obeys ``m[k + s] = Ad^s m[k] + sum_{j<s} Ad^j Bd u[k + s - j]``: the
sum is one matrix product of the block of input with the first ``s`` steps of the
impulse response ``Ad^j Bd``, and ``Ad^s = expm(s A)`` exactly, so a sequence of
100,000-step windows costs one pass over its input in numpy instead of a Python
loop over every step. The readout is linear in the memory, so fitting it only needs
the states at the sampled times.

Besides the fitted readout, the table gives the NRMSE of the fixed Legendre readout
(``legendre_readout(order, r)``, no fitting) for reference.

References
----------
.. [1] Voelker, Kajic, Eliasmith. "Legendre Memory Units: Continuous-time
   representation in recurrent neural networks." NeurIPS 2019.
"""

import argparse
import csv
import time

import numpy as np

from nengo_lmu._argtypes import positive_float, positive_int
from nengo_lmu._tf import quiet_tensorflow
from nengo_lmu.analysis import nrmse
from nengo_lmu.systems import (
    discretize,
    impulse_response,
    legendre_readout,
    lmu_matrices,
)

DELAYS = (0.0, 0.25, 0.5, 0.75, 1.0)  # fractions of theta, as in the paper [1]
CUTOFF_HZ = 10.0  # band limit of the input noise [1]
ORDER = 100  # memory order [1]


def band_limited_noise(n_steps, steps_per_second, cutoff, rng, period=None, rms=0.5):
    """White noise band-limited to ``(0, cutoff]`` Hz, one sequence.

    Random Gaussian Fourier coefficients for every frequency ``k / period`` up to
    ``cutoff`` (no DC), inverse FFT, scaled to ``rms``; the first ``n_steps`` of the
    ``period`` (in steps; default ``n_steps``) are returned.

    The period must be long: a signal made of ``n`` sinusoids is delayed exactly by
    any linear readout of more than ``2 n`` memory dimensions, so a period of only
    a few windows (40 sinusoids below 10 Hz in 4 s) makes the least-squares fit of
    an order-100 memory exact whatever the delay.
    """
    period = n_steps if period is None else max(int(period), n_steps)
    freqs = np.fft.rfftfreq(period, d=1.0 / steps_per_second)
    coef = np.zeros(len(freqs), dtype=complex)
    band = (freqs > 0) & (freqs <= cutoff)
    if not np.any(band):
        raise ValueError(
            f"No frequency in (0, {cutoff}] Hz for {n_steps} steps at "
            f"{steps_per_second} steps/s: make the sequence longer"
        )
    n_band = int(np.sum(band))
    coef[band] = rng.standard_normal(n_band) + 1j * rng.standard_normal(n_band)
    u = np.fft.irfft(coef, n=period)[:n_steps]
    return u * (rms / np.sqrt(np.mean(u**2)))


def memory_at_strides(u, order, theta_steps, stride):
    """The exact discrete memory of ``u`` at every ``stride``-th step.

    Parameters
    ----------
    u : (n_sequences, n_steps) ndarray
        Inputs, one row per sequence (zero before the first step).
    order : int
        Memory order.
    theta_steps : float
        Window length in steps.
    stride : int
        Steps between the returned states.

    Returns
    -------
    m : (n_sequences, n_steps // stride, order) ndarray
        ``m[:, b]`` is the state after step ``(b + 1) * stride - 1`` of the
        recursion ``m[t] = Ad m[t-1] + Bd u[t]`` from ``m[-1] = 0`` (the convention
        of `nengo_lmu.systems.simulate_memory`).
    """
    u = np.atleast_2d(np.asarray(u, dtype=float))
    A, B = lmu_matrices(order, theta_steps)
    Ad, Bd = discretize(A, B, 1.0)
    Ad_stride, _ = discretize(A, B, float(stride))  # = Ad ** stride, no round-off
    # Impulse response h[j] = Ad^j Bd for j < stride, reversed so that row i
    # multiplies the i-th input of a block (the newest input meets h[0]).
    h_rev = impulse_response(Ad, Bd, stride)[::-1]
    n_sequences, n_steps = u.shape
    n_blocks = n_steps // stride
    drive = u[:, : n_blocks * stride].reshape(n_sequences, n_blocks, stride) @ h_rev
    m = np.empty((n_sequences, n_blocks, order))
    x = np.zeros((n_sequences, order))
    for b in range(n_blocks):
        x = x @ Ad_stride.T + drive[:, b]
        m[:, b] = x
    return m


def make_sequences(n_sequences, length, duration, cutoff, rng, period):
    """``n_sequences`` noise inputs of ``duration`` windows of ``length`` steps,
    each cut from noise of ``period`` windows."""
    n_steps = int(round(duration * length))
    return np.array(
        [
            band_limited_noise(n_steps, length, cutoff, rng, period=period * length)
            for _ in range(n_sequences)
        ]
    )


def delayed_targets(u, times, length, delays):
    """``u[:, t - r * length]`` for each sampled time ``t`` and delay ``r``.

    Returns ``(n_sequences, len(times), len(delays))``.
    """
    lags = np.round(np.asarray(delays) * length).astype(int)
    idx = np.asarray(times)[:, None] - lags[None, :]
    if np.any(idx < 0):
        raise ValueError("A target lies before the start of the sequence")
    return u[:, idx]


def lmu_capacity(
    length,
    order,
    delays,
    n_train,
    n_test,
    duration,
    warmup,
    samples_per_window,
    cutoff,
    rng,
    period,
):
    """NRMSE of the least-squares (and of the Legendre) readout of each delay.

    Returns a list of dicts, one per delay.
    """
    stride = max(1, length // samples_per_window)
    u_train = make_sequences(n_train, length, duration, cutoff, rng, period)
    u_test = make_sequences(n_test, length, duration, cutoff, rng, period)
    n_steps = u_train.shape[1]
    times = np.arange(stride - 1, n_steps, stride)[: n_steps // stride]
    keep = times >= warmup * length  # the window and the memory's tail past the
    # start of the input (a step from 0) are left out of the fit and the score
    times = times[keep]

    def states_and_targets(u):
        m = memory_at_strides(u, order, length, stride)[:, keep]
        y = delayed_targets(u, times, length, delays)
        return m.reshape(-1, order), y.reshape(-1, len(delays))

    m_train, y_train = states_and_targets(u_train)
    m_test, y_test = states_and_targets(u_test)
    W, *_ = np.linalg.lstsq(m_train, y_train, rcond=None)
    y_fit = m_test @ W
    y_legendre = m_test @ legendre_readout(order, delays).T
    return [
        {
            "length": length,
            "delay": float(r),
            "lmu_nrmse": nrmse(y_fit[:, k], y_test[:, k]),
            "lmu_legendre_nrmse": nrmse(y_legendre[:, k], y_test[:, k]),
            "n_fit_samples": len(y_train),
        }
        for k, r in enumerate(delays)
    ]


def lstm_capacity(
    length,
    delays,
    n_train,
    n_test,
    duration,
    warmup,
    cutoff,
    units,
    epochs,
    batch_size,
    rng,
    seed,
    period,
    verbose=0,
):
    """Train a small LSTM to output the delayed inputs at every step.

    The loss (mean squared error) and the score leave out the first ``warmup``
    windows, as for the LMU. Returns one NRMSE per delay.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    tf.random.set_seed(seed)
    u_train = make_sequences(n_train, length, duration, cutoff, rng, period)
    u_test = make_sequences(n_test, length, duration, cutoff, rng, period)
    n_steps = u_train.shape[1]
    start = int(np.ceil(warmup * length))
    times = np.arange(start, n_steps)
    y_train = delayed_targets(u_train, times, length, delays)
    y_test = delayed_targets(u_test, times, length, delays)
    # Targets before `start` are never scored: pad them with zeros, weight 0.
    pad = np.zeros((n_train, start, len(delays)))
    weights = np.zeros((n_train, n_steps), dtype=np.float32)
    weights[:, start:] = 1.0

    model = tf.keras.Sequential(
        [
            tf.keras.layers.LSTM(units, return_sequences=True, input_shape=(None, 1)),
            tf.keras.layers.Dense(len(delays)),
        ]
    )
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-2), loss="mse")
    model.fit(
        u_train[..., None].astype(np.float32),
        np.concatenate([pad, y_train], axis=1).astype(np.float32),
        sample_weight=weights,
        epochs=epochs,
        batch_size=batch_size,
        verbose=verbose,
    )
    y = model.predict(u_test[..., None].astype(np.float32), verbose=0)[:, start:]
    return [nrmse(y[..., k], y_test[..., k]) for k in range(len(delays))]


def parse_lengths(text):
    """An argparse type: comma-separated window lengths (steps), each >= 2."""
    values = [int(float(v)) for v in text.split(",") if v.strip()]
    if not values or any(v < 2 for v in values):
        raise argparse.ArgumentTypeError(
            f"need a comma-separated list of integers >= 2; got {text!r}"
        )
    return values


def make_parser():
    """The task's argument parser."""
    parser = argparse.ArgumentParser(
        description=(
            "Capacity of the untrained LMU memory (order 100, least-squares readout "
            "of 5 delays of 10 Hz noise) against window length T in steps, with an "
            "LSTM beside it (Voelker et al. 2019)."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--lengths",
        type=parse_lengths,
        default="100,1000,10000,100000",
        help="window lengths T in steps (theta = 1 s at T steps/s)",
    )
    parser.add_argument(
        "--order", type=positive_int, default=ORDER, help="memory order"
    )
    parser.add_argument(
        "--train-sequences",
        type=positive_int,
        default=20,
        help="sequences in the least-squares fit",
    )
    parser.add_argument(
        "--test-sequences", type=positive_int, default=10, help="sequences scored"
    )
    parser.add_argument(
        "--duration",
        type=positive_float,
        default=4.0,
        help="length of each sequence, in windows",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=1.5,
        help="windows at the start of each sequence left unscored",
    )
    parser.add_argument(
        "--samples-per-window",
        type=positive_int,
        default=50,
        help="memory states sampled per window for the fit",
    )
    parser.add_argument(
        "--cutoff",
        type=positive_float,
        default=CUTOFF_HZ,
        help="band limit of the noise, Hz (per window of 1 s)",
    )
    parser.add_argument(
        "--noise-period",
        type=positive_float,
        default=40.0,
        help="period of the noise each sequence is cut from, in "
        "windows (long, so that it holds many more "
        "frequencies below the cutoff than the memory order)",
    )
    _add_lstm_options(parser)
    parser.add_argument(
        "--seed", type=int, default=0, help="seeds the noise and the LSTM"
    )
    parser.add_argument("--out", help="write the results to this CSV file")
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    return parser


def _add_lstm_options(parser):
    """The options of the LSTM run beside the memory."""
    parser.add_argument(
        "--lstm-lengths",
        type=parse_lengths,
        default="100,1000",
        help="lengths at which to train an LSTM",
    )
    parser.add_argument("--no-lstm", action="store_true", help="skip the LSTM")
    parser.add_argument(
        "--lstm-units", type=positive_int, default=50, help="LSTM units"
    )
    parser.add_argument(
        "--lstm-epochs", type=positive_int, default=20, help="training epochs"
    )
    parser.add_argument(
        "--lstm-train-sequences",
        type=positive_int,
        default=64,
        help="sequences the LSTM trains on",
    )
    parser.add_argument(
        "--lstm-test-sequences",
        type=positive_int,
        default=16,
        help="sequences the LSTM is scored on",
    )
    parser.add_argument(
        "--lstm-duration",
        type=positive_float,
        default=2.5,
        help="length of each LSTM sequence, in windows",
    )
    parser.add_argument(
        "--lstm-batch-size", type=positive_int, default=8, help="LSTM batch size"
    )


def format_table(rows):
    """The results as a plain-text table, one line per length and delay."""
    lines = [f"{'T':>8} {'delay r':>8} {'LMU fit':>9} {'LMU Leg.':>9} {'LSTM':>9}"]
    for row in rows:
        lstm = row["lstm_nrmse"]
        lstm = "-" if lstm is None else f"{lstm:9.4f}"
        lines.append(
            f"{row['length']:>8d} {row['delay']:>8.2f} {row['lmu_nrmse']:>9.2e} "
            f"{row['lmu_legendre_nrmse']:>9.2e} {lstm:>9}"
        )
    return "\n".join(lines)


def main(argv=None):
    """Run the experiment; return ``{"rows": [...], "runtime_s": ...}``.

    Each row has ``length``, ``delay``, ``lmu_nrmse`` (least-squares readout),
    ``lmu_legendre_nrmse`` (fixed Legendre readout), ``lstm_nrmse`` (None where
    no LSTM was trained), ``lmu_s`` and ``lstm_s`` (seconds for that length).
    """
    quiet_tensorflow()  # before nengo_dl loads TensorFlow
    args = make_parser().parse_args(argv)
    say = (lambda *a: None) if args.quiet else print
    if args.duration <= args.warmup + 1.0 / args.samples_per_window:
        raise SystemExit(
            f"--duration ({args.duration}) must exceed --warmup ({args.warmup})"
        )
    if args.warmup < 1.0:
        # The oldest target, u(t - theta), must lie inside the sequence.
        raise SystemExit(f"--warmup must be at least 1 window; got {args.warmup}")
    if not args.no_lstm and args.lstm_duration < 1.5:
        raise SystemExit(
            f"--lstm-duration must be at least 1.5 windows; got {args.lstm_duration}"
        )
    t_start = time.perf_counter()
    rows = []
    for length in args.lengths:
        rng = np.random.RandomState(args.seed + length)
        t0 = time.perf_counter()
        lmu_rows = lmu_capacity(
            length,
            args.order,
            DELAYS,
            args.train_sequences,
            args.test_sequences,
            args.duration,
            args.warmup,
            args.samples_per_window,
            args.cutoff,
            rng,
            args.noise_period,
        )
        lmu_s = time.perf_counter() - t0
        lstm = [None] * len(DELAYS)
        lstm_s = None
        if not args.no_lstm and length in args.lstm_lengths:
            t0 = time.perf_counter()
            lstm = lstm_capacity(
                length,
                DELAYS,
                args.lstm_train_sequences,
                args.lstm_test_sequences,
                args.lstm_duration,
                min(args.warmup, args.lstm_duration - 0.5),
                args.cutoff,
                args.lstm_units,
                args.lstm_epochs,
                args.lstm_batch_size,
                rng,
                args.seed,
                args.noise_period,
            )
            lstm_s = time.perf_counter() - t0
        for row, lstm_nrmse in zip(lmu_rows, lstm):
            row.update(lstm_nrmse=lstm_nrmse, lmu_s=lmu_s, lstm_s=lstm_s)
            rows.append(row)
        say(
            f"T = {length}: LMU {lmu_s:.1f} s"
            + ("" if lstm_s is None else f", LSTM {lstm_s:.1f} s")
        )
    runtime = time.perf_counter() - t_start
    say(format_table(rows))
    say(
        f"(NRMSE on test sequences; order {args.order}; LMU fit = least-squares "
        f"readout, LMU Leg. = fixed Legendre readout; total {runtime:.1f} s)"
    )
    if args.out:
        with open(args.out, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        say(f"wrote {args.out}")
    return {"rows": rows, "runtime_s": runtime, "args": vars(args)}


if __name__ == "__main__":
    main()
