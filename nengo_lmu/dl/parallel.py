"""The parallel LMU for NengoDL: the memory of a whole sequence at once.

When nothing feeds back into the memory, ``m[t] = sum_k H[k] u[t - k]`` with the
impulse response ``H[k] = Ad^k Bd``: the memory of a whole sequence is one causal
convolution (Chilkuri & Eliasmith 2021). It is computed directly, as one
``conv1d``: TensorFlow's CPU FFT took 4.6 s for the psMNIST-sized memory (batch 100,
784 steps, order 256) where conv1d took 0.28 s (measured here). The hidden
recurrence ``h[t] = f(W_m m[t] + W_h h[t-1] + W_x x[t] + b)`` still runs step by
step, but inside one TensorFlow loop instead of one NengoDL simulator step per
time step. Importing this module imports TensorFlow.

References
----------
.. [1] Chilkuri & Eliasmith. "Parallelizing Legendre Memory Unit training."
   ICML 2021.
"""

import nengo
import nengo_dl
import numpy as np
import tensorflow as tf

from nengo_lmu._validation import check_choice, check_order, check_positive
from nengo_lmu.dl.neurons import LIF_AMPLITUDE
from nengo_lmu.systems import discretize, impulse_response, lmu_matrices


def memory(cell_layer, inputs):
    """The memory of a whole sequence, (batch, T, order), from a built
    `ParallelLMU` (for inspection: training folds it into the hidden drive)."""
    x = tf.reshape(inputs, (-1, cell_layer.n_steps, cell_layer.input_d))
    u = tf.einsum("btd,od->bto", x, cell_layer.e_x)
    u = tf.pad(u, [[0, 0], [cell_layer.n_steps - 1, 0], [0, 0]])
    return tf.nn.conv1d(u, cell_layer.kernel, stride=1, padding="VALID")


def truncation_steps(Ad, Bd, rtol=1e-7, max_steps=1_000_000):
    """The first ``K`` with ``|Ad^k Bd| <= rtol * max_k |Ad^k Bd|`` for all
    ``k >= K``: where the impulse response may be cut off (it decays
    geometrically; for the LMU below 1e-5 of its peak by 4 theta)."""
    Ad = np.asarray(Ad, dtype=float)
    radius = max(abs(np.linalg.eigvals(Ad)))
    if radius >= 1:
        raise ValueError(f"Ad is not stable (spectral radius {radius:.6g} >= 1)")
    h = np.asarray(Bd, dtype=float)[:, 0]
    peak, k, last_big = 0.0, 0, 0
    # after the peak, stop once the norm stays small for a window long enough that
    # the slowest mode must have decayed (radius^window < rtol)
    window = int(np.ceil(np.log(rtol) / np.log(max(radius, 1e-300)))) + 1
    while k < max_steps:
        norm = np.linalg.norm(h)
        peak = max(peak, norm)
        if norm > rtol * peak:
            last_big = k
        elif k - last_big > window:
            break
        h = Ad @ h
        k += 1
    return last_big + 1


class LegendreMemoryConv(tf.keras.layers.Layer):
    """The Legendre memory of every input channel over a whole sequence at once.

    Inputs ``(batch, T, channels)``, any ``T``; outputs ``(batch, T, channels *
    order)``, channel-major (the ``order`` states of channel 0 first): for each
    channel ``m[t] = sum_k H[k] u[t - k]`` with the ZOH impulse response ``H[k] =
    Ad^k Bd`` (one time step per sample), computed as one depthwise causal
    convolution. The memory is fixed (no trainable weights); put a ``Dense``
    before it as the encoder, as in keras-lmu's ``LMUFeedforward``.

    Parameters
    ----------
    order : int
        Memory order ``d``.
    theta : float
        Window length, in time steps.
    truncation : int, optional
        Length of the impulse response kept, in steps; default: where it has
        decayed below 1e-7 of its peak (`truncation_steps`), which makes the cut
        invisible in float32.
    history : "zero" or "first"
        What the memory assumes came before the sequence: zeros (the memory starts
        empty, as a recurrent LMU does) or its first value, forever (the memory
        starts where a constant input would have left it: no start-up transient
        for slowly varying inputs).
    """

    def __init__(self, order, theta, truncation=None, history="zero", **kwargs):
        super().__init__(**kwargs)
        self.order = check_order(order, attr="order")
        self.theta = check_positive(theta, attr="theta")
        Ad, Bd = discretize(*lmu_matrices(self.order, self.theta), dt=1.0)[:2]
        if truncation is None:
            truncation = truncation_steps(Ad, Bd)
        if (
            isinstance(truncation, bool)
            or int(truncation) != truncation
            or truncation < 1
        ):
            raise ValueError(
                f"truncation must be a positive integer (steps); got {truncation!r}"
            )
        self.truncation = int(truncation)
        self.history = check_choice(history, ("zero", "first"), attr="history")
        # conv correlates: the filter is the impulse response reversed in time
        response = impulse_response(Ad, Bd, self.truncation)
        self.response = response[::-1].astype(np.float32)

    def get_config(self):
        config = super().get_config()
        config.update(
            order=self.order,
            theta=self.theta,
            truncation=self.truncation,
            history=self.history,
        )
        return config

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (input_shape[-1] * self.order,)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        kernel = np.tile(self.response[:, None, :], (1, channels, 1))  # (K, ch, d)
        self.kernel = tf.constant(
            kernel.reshape(1, self.truncation, channels, self.order), self.dtype
        )
        super().build(input_shape)

    def call(self, inputs):
        K = self.truncation
        if self.history == "first":
            before = tf.repeat(inputs[:, :1], K - 1, axis=1)
            padded = tf.concat([before, inputs], axis=1)
        else:
            padded = tf.pad(inputs, [[0, 0], [K - 1, 0], [0, 0]])  # causal
        m = tf.nn.depthwise_conv2d(
            padded[:, None], tf.cast(self.kernel, inputs.dtype), [1, 1, 1, 1], "VALID"
        )
        return m[:, 0]


def lif_rate(J, tau_rc=0.02, tau_ref=0.002, amplitude=1.0):
    """nengo.LIFRate's rate in TensorFlow (0 for J <= 1)."""
    safe = tf.where(J > 1, J, 2 * tf.ones_like(J))
    rate = amplitude / (tau_ref + tau_rc * tf.math.log1p(1.0 / (safe - 1)))
    return tf.where(J > 1, rate, tf.zeros_like(J))


class ParallelLMU(tf.keras.layers.Layer):
    """The LMU cell over a whole sequence at once (convolved memory, looped hidden).

    Inputs ``(batch, n_steps * input_d)``, outputs ``(batch, n_steps * units)``,
    step-major, so that it fits a NengoDL TensorNode that runs for one step (or
    ``(batch, units)``, the last step, for a cell with ``return_sequences=False``).
    ``weights`` are the initial values (see `nengo_lmu.dl.LMUCell`).
    """

    def __init__(self, cell, trainable_encoders=True, trainable_kernels=True, **kwargs):
        super().__init__(**kwargs)
        self.n_steps = cell.n_steps
        self.input_d = cell.input_d
        self.units = cell.units
        self.activation = cell.hidden_activation
        self.initial = cell.weights
        self.return_sequences = cell.return_sequences
        self.trainable_encoders = trainable_encoders
        self.trainable_kernels = trainable_kernels
        H = impulse_response(cell.Ad, cell.Bd, cell.n_steps)
        # conv1d correlates, so the filter is the impulse response reversed in time
        self.kernel = tf.constant(H[::-1, None, :].astype(np.float32))  # (T, 1, order)

    def build(self, input_shape):
        for name, value in self.initial.items():
            trainable = (
                self.trainable_encoders
                if name.startswith("e_")
                else self.trainable_kernels
            )
            setattr(
                self,
                name,
                self.add_weight(
                    name=name,
                    shape=value.shape,
                    initializer=tf.constant_initializer(value),
                    trainable=trainable if name != "bias" else True,
                ),
            )
        super().build(input_shape)

    def _activation(self, J):
        if self.activation == "tanh":
            return tf.tanh(J)
        if self.activation == "relu":
            return tf.nn.relu(J)
        return lif_rate(J, amplitude=LIF_AMPLITUDE)

    def call(self, inputs):
        x = tf.reshape(inputs, (-1, self.n_steps, self.input_d))
        # W_m m[t] = sum_k (W_m H[k] e_x) x[t - k]: e_x and W_m are folded into the
        # kernel, so the convolution makes the hidden drive (units channels)
        # directly, the (batch, T, order) memory is never formed, and no gradient
        # flows back through the convolution's input (TensorFlow's backprop to a
        # conv1d input took 3.5 s here, to its kernel 0.5 s).
        kernel = tf.einsum(
            "to,ko,d->tdk",
            tf.cast(self.kernel[:, 0, :], x.dtype),
            self.W_m,
            self.e_x[0],
        )
        if not (self.return_sequences or hasattr(self, "W_h")):
            # the last step only: the (reversed) kernel against the whole sequence
            drive = tf.einsum("btd,tdk->bk", x, kernel) + self.bias
            if hasattr(self, "W_x"):
                drive += tf.matmul(x[:, -1], self.W_x, transpose_b=True)
            return self._activation(drive)
        padded = tf.pad(x, [[0, 0], [self.n_steps - 1, 0], [0, 0]])  # causal
        drive = tf.nn.conv1d(padded, kernel, stride=1, padding="VALID") + self.bias
        if hasattr(self, "W_x"):
            drive += tf.einsum("btd,kd->btk", x, self.W_x)
        if not hasattr(self, "W_h"):  # feed-forward hidden: parallel in time too
            return tf.reshape(self._activation(drive), (-1, self.n_steps * self.units))
        W_h = self.W_h

        def step(h, drive_t):
            return self._activation(drive_t + tf.matmul(h, W_h, transpose_b=True))

        h0 = tf.zeros_like(drive[:, 0])
        hs = tf.scan(step, tf.transpose(drive, (1, 0, 2)), initializer=h0)
        if not self.return_sequences:
            return hs[-1]
        return tf.reshape(tf.transpose(hs, (1, 0, 2)), (-1, self.n_steps * self.units))


def build_parallel_cell(cell, trainable_encoders=True, trainable_kernels=True):
    """Give ``cell`` (an LMUCell, inside its context) its parallel form."""
    cell.layer = ParallelLMU(cell, trainable_encoders, trainable_kernels)
    cell.input = nengo.Node(size_in=cell.n_steps * cell.input_d, label="input")
    size_out = cell.units * (cell.n_steps if cell.return_sequences else 1)
    node = nengo_dl.TensorNode(
        cell.layer,
        shape_in=(cell.n_steps * cell.input_d,),
        shape_out=(size_out,),
        pass_time=False,
        label="parallel_lmu",
    )
    cell.output = nengo.Node(size_in=size_out, label="output")
    nengo.Connection(cell.input, node, synapse=None)
    nengo.Connection(node, cell.output, synapse=None)
