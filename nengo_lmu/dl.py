"""What LMU training needs beyond plain Nengo: the parallel memory for NengoDL.

When nothing feeds back into the memory, ``m[t] = sum_k H[k] u[t - k]`` with the
impulse response ``H[k] = Ad^k Bd``: the memory of a whole sequence is one causal
convolution, computed here by FFT (Chilkuri & Eliasmith 2021). The hidden
recurrence ``h[t] = f(W_m m[t] + W_h h[t-1] + W_x x[t] + b)`` still runs step by
step, but inside one TensorFlow loop instead of one NengoDL simulator step per
time step. Importing this module imports TensorFlow.

References
----------
.. [1] Chilkuri & Eliasmith. "Parallelizing Legendre Memory Unit training."
   ICML 2021.
"""

import numpy as np
import tensorflow as tf
import nengo
import nengo_dl


def impulse_response(Ad, Bd, n_steps):
    """``H[k] = Ad^k Bd`` for ``k = 0 .. n_steps - 1``: shape (n_steps, order)."""
    H = np.empty((n_steps, Ad.shape[0]))
    h = np.asarray(Bd, dtype=float)[:, 0]
    for k in range(n_steps):
        H[k] = h
        h = Ad @ h
    return H


def lif_rate(J, tau_rc=0.02, tau_ref=0.002, amplitude=1.0):
    """nengo.LIFRate's rate in TensorFlow (0 for J <= 1)."""
    safe = tf.where(J > 1, J, 2 * tf.ones_like(J))
    rate = amplitude / (tau_ref + tau_rc * tf.math.log1p(1.0 / (safe - 1)))
    return tf.where(J > 1, rate, tf.zeros_like(J))


class ParallelLMU(tf.keras.layers.Layer):
    """The LMU cell over a whole sequence at once (FFT memory, looped hidden).

    Inputs ``(batch, n_steps * input_d)``, outputs ``(batch, n_steps * units)``,
    step-major, so that it fits a NengoDL TensorNode that runs for one step.
    ``weights`` are the initial values (see `nengo_lmu.networks.LMUCell`).
    """

    def __init__(self, cell, trainable_encoders=True, trainable_kernels=True, **kwargs):
        super().__init__(**kwargs)
        self.n_steps = cell.n_steps
        self.input_d = cell.input_d
        self.units = cell.units
        self.activation = cell.hidden_activation
        self.initial = cell.weights
        self.trainable_encoders = trainable_encoders
        self.trainable_kernels = trainable_kernels
        H = impulse_response(cell.Ad, cell.Bd, cell.n_steps)
        # FFT of the impulse response, zero-padded to 2 n_steps (linear, not
        # circular, convolution); kept in float64 for accuracy, cast on use.
        self.n_fft = 2 * cell.n_steps
        self.H_fft = tf.constant(np.fft.rfft(H, n=self.n_fft, axis=0).T)  # (order, F)

    def build(self, input_shape):
        for name, value in self.initial.items():
            trainable = (
                self.trainable_encoders if name.startswith("e_") else self.trainable_kernels
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
        return lif_rate(J, amplitude=1.0 / 63.0)

    def call(self, inputs):
        x = tf.reshape(inputs, (-1, self.n_steps, self.input_d))
        u = tf.einsum("btd,od->bt", x, self.e_x)  # (batch, T)
        u_fft = tf.signal.rfft(tf.cast(u, tf.float64), fft_length=[self.n_fft])
        m = tf.signal.irfft(
            u_fft[:, None, :] * self.H_fft[None], fft_length=[self.n_fft]
        )[:, :, : self.n_steps]  # (batch, order, T)
        m = tf.cast(tf.transpose(m, (0, 2, 1)), inputs.dtype)  # (batch, T, order)
        drive = tf.einsum("bto,ko->btk", m, self.W_m) + self.bias
        if hasattr(self, "W_x"):
            drive += tf.einsum("btd,kd->btk", x, self.W_x)
        W_h = self.W_h

        def step(h, drive_t):
            return self._activation(drive_t + tf.matmul(h, W_h, transpose_b=True))

        h0 = tf.zeros_like(drive[:, 0])
        hs = tf.scan(step, tf.transpose(drive, (1, 0, 2)), initializer=h0)
        return tf.reshape(tf.transpose(hs, (1, 0, 2)), (-1, self.n_steps * self.units))


def build_parallel_cell(cell, trainable_encoders=True, trainable_kernels=True):
    """Give ``cell`` (an LMUCell, inside its context) its parallel form."""
    cell.layer = ParallelLMU(cell, trainable_encoders, trainable_kernels)
    cell.input = nengo.Node(size_in=cell.n_steps * cell.input_d, label="input")
    node = nengo_dl.TensorNode(
        cell.layer,
        shape_in=(cell.n_steps * cell.input_d,),
        shape_out=(cell.n_steps * cell.units,),
        pass_time=False,
        label="parallel_lmu",
    )
    cell.output = nengo.Node(size_in=cell.n_steps * cell.units, label="output")
    nengo.Connection(cell.input, node, synapse=None)
    nengo.Connection(node, cell.output, synapse=None)
