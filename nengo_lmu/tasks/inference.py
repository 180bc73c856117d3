"""A trained classifier's rate network in numpy: logits without TensorFlow.

`rate_logits` computes what the NengoDL classifier of `nengo_lmu.tasks.Trainer`
outputs, from its named weights (`Trainer.trained_weights`, or a weights file of
`save_weights`), for many sequences at once. The memory's drive to the hidden
units, ``W_m m[t]``, is one causal convolution of the input with the kernel
``W_m H[k] e_x`` (``H`` the memory's impulse response), computed by FFT; only the
hidden recurrence, where there is one, is stepped.
"""

import json

import numpy as np

from nengo_lmu.dl.neurons import hidden_neuron_type
from nengo_lmu.systems import discretize, impulse_response, lmu_matrices

# The weight names a classifier's weights file holds, beside "settings".
WEIGHT_NAMES = ("e_x", "W_m", "W_h", "W_x", "bias", "W_out")


def memory_impulse(order, theta, n_steps):
    """``H[k]``, ``(n_steps, order)``: the trained cell's memory (ZOH at one step,
    window ``theta`` steps) ``k`` steps after a unit input."""
    Ad, Bd = discretize(*lmu_matrices(order, theta), dt=1.0)[:2]
    return impulse_response(Ad, Bd, n_steps)


def memory_drive_kernel(weights, order, theta, n_steps):
    """``K[k] = W_m H[k] e_x`` for ``k < n_steps``, (n_steps, units): the memory's
    drive to the hidden units is ``sum_k K[k] x[t - k]``."""
    H = memory_impulse(order, theta, n_steps)
    return (H @ np.asarray(weights["W_m"]).T) * float(np.asarray(weights["e_x"])[0, 0])


def final_memory_states(weights, order, theta, x):
    """The memory's state at the last step for sequences ``x`` ``(n, n_steps)``:
    ``(n, order)``, ``m[T-1] = sum_k H[k] e_x x[T-1-k]``."""
    x = np.asarray(x, dtype=np.float64)
    H = memory_impulse(order, theta, x.shape[1])
    return x[:, ::-1] @ H * float(np.asarray(weights["e_x"])[0, 0])


def state_hidden(weights, m, x_last, hidden_activation="tanh"):
    """The hidden units' outputs of a classifier without hidden recurrence, from
    the memory's last state ``m`` ``(n, order)`` and the last input ``x_last``
    ``(n, 1)``: ``f(W_m m + W_x x + b)``. A spiking memory's decoded state can
    stand in for the exact one (`final_memory_states`)."""
    if "W_h" in weights:
        raise ValueError(
            "weights has W_h: a hidden recurrence needs every step (hidden_rates)"
        )
    w = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    units = len(w["bias"])
    W_x = w.get("W_x", np.zeros((units, 1)))
    drive = np.asarray(m) @ w["W_m"].T + np.asarray(x_last) @ W_x.T + w["bias"]
    neuron = hidden_neuron_type(hidden_activation)
    return neuron.rates(drive, np.ones(units), np.zeros(units))


def state_logits(weights, m, x_last, hidden_activation="tanh"):
    """`state_hidden`'s logits, ``W_out f(...)``."""
    hidden = state_hidden(weights, m, x_last, hidden_activation)
    return hidden @ np.asarray(weights["W_out"], dtype=np.float64).T


def hidden_rates(weights, order, theta, x, hidden_activation="tanh", batch=1000):
    """The hidden units' outputs at the last step for sequences ``x`` ``(n,
    n_steps, 1)``, ``(n, units)``.

    ``h[t] = f(W_m m[t] + W_x x[t] (+ W_h h[t-1]) + b)`` with the LMU memory
    ``m`` of ``e_x x`` (order ``order``, window ``theta`` steps, ZOH at one step)
    and ``f`` the cell's neuron type (`nengo_lmu.dl.neurons.hidden_neuron_type`).
    Without ``W_h`` only the last step is computed.

    Parameters
    ----------
    weights : dict of array_like
        ``e_x, W_m, W_x, bias`` and, for the recurrent hidden layer, ``W_h`` (the
        names of `Trainer.trained_weights`).
    hidden_activation : {"tanh", "relu", "lif"}
    batch : int
        Sequences per block of the hidden recurrence (memory use grows with it;
        without ``W_h`` all sequences are one product).
    """
    neuron = hidden_neuron_type(hidden_activation)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3 or x.shape[2] != 1:
        raise ValueError(f"x must have shape (n, n_steps, 1); got shape {x.shape}")
    n, n_steps = x.shape[:2]
    w = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    units = len(w["bias"])
    ones, zeros = np.ones(units), np.zeros(units)

    def f(J):
        return neuron.rates(J, ones, zeros)

    if "W_h" not in w:  # the last step only: one product for all sequences
        m = final_memory_states(w, order, theta, x[:, :, 0])
        return state_hidden(w, m, x[:, -1], hidden_activation)
    K = memory_drive_kernel(w, order, theta, n_steps)  # (T, units)
    W_x = w.get("W_x", np.zeros((units, 1)))
    out = []
    for start in range(0, n, batch):
        xb = x[start : start + batch, :, 0]  # (b, T)
        # causal convolution of each sequence with each unit's kernel, by FFT
        size = 2 * n_steps
        spectrum = np.fft.rfft(xb, size)[:, :, None] * np.fft.rfft(K, size, axis=0)
        drive = np.fft.irfft(spectrum, size, axis=1)[:, :n_steps]  # (b, T, units)
        drive += xb[:, :, None] * W_x[:, 0] + w["bias"]
        h = np.zeros((len(xb), units))
        for t in range(n_steps):
            h = f(drive[:, t] + h @ w["W_h"].T)
        out.append(h)
    return np.concatenate(out)


def rate_logits(weights, order, theta, x, hidden_activation="tanh", batch=1000):
    """The classifier's logits ``W_out h[last]`` for sequences ``x`` ``(n,
    n_steps, 1)`` (see `hidden_rates`; ``weights`` also hold ``W_out``)."""
    hidden = hidden_rates(weights, order, theta, x, hidden_activation, batch)
    return hidden @ np.asarray(weights["W_out"], dtype=np.float64).T


def save_weights(path, weights, settings):
    """Write a classifier's named weights and its ``settings`` (a JSON-able dict:
    units, order, theta, hidden activation, data and permutation) to an npz file
    that loads with ``allow_pickle=False`` (the settings as a JSON string)."""
    arrays = {k: np.asarray(v) for k, v in weights.items() if k in WEIGHT_NAMES}
    with open(path, "wb") as f:
        np.savez(f, settings=np.array(json.dumps(settings, sort_keys=True)), **arrays)


def load_weights(path):
    """``(weights, settings)`` from a file of `save_weights`.

    Raises
    ------
    ValueError
        When the file is not such a file (naming it and what is missing).
    """
    try:
        with np.load(path, allow_pickle=False) as f:
            files = set(f.files)
            weights = {k: f[k] for k in WEIGHT_NAMES if k in files}
            settings = json.loads(str(f["settings"])) if "settings" in files else None
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a readable weights file ({e})") from None
    missing = [k for k in ("e_x", "W_m", "bias", "W_out") if k not in weights]
    if settings is None or missing:
        raise ValueError(
            f"{path}: not a classifier weights file of save_weights (missing: "
            f"{missing + ([] if settings is not None else ['settings'])})"
        )
    return weights, settings
