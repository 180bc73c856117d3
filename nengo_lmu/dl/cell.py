"""The trainable LMU cell as a Nengo network (NengoDL trains it)."""

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu._validation import check_choice, check_order, check_positive
from nengo_lmu.dl.neurons import HIDDEN_ACTIVATIONS, hidden_neuron_type
from nengo_lmu.systems import discretize, lmu_matrices


def glorot_uniform(shape, rng):
    """Glorot/Xavier uniform initial weights (what keras and nengo_dl use)."""
    fan_out, fan_in = shape
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)


RECURRENT_INITIALIZERS = ("glorot_uniform", "zeros")


class LMUCell(nengo.Network):
    """A trainable LMU layer (Voelker et al. 2019) as a Nengo network.

    ``input -> u -> Legendre memory -> hidden``, with a recurrent hidden state::

        u[t] = e_x . x[t] (+ e_h . h[t-1] + e_m . m[t-1])
        m[t] = Ad m[t-1] + Bd u[t]           (frozen: A, B from nengo_lmu.systems)
        h[t] = f(W_m m[t] (+ W_h h[t-1]) (+ W_x x[t]) + b)

    Time is in steps: ``theta`` is the window in simulator steps (as in keras-lmu)
    and the memory is the ZOH discretization at one step.

    Parameters
    ----------
    units : int
        Hidden units.
    order : int
        Memory order (>= 1).
    theta : float
        Window length in time steps.
    input_d : int
        Input dimensions per step.
    hidden_to_memory, memory_to_memory : bool
        Feed the hidden state / the memory back into ``u`` (encoders start at 0).
    input_to_hidden : bool
        Connect the input directly to the hidden units.
    hidden_to_hidden : bool
        The hidden units' own recurrence ``W_h`` (default True). Without it the
        hidden layer is a feed-forward readout of the memory: fully parallel in
        time, and what `nengo_lmu.tasks.spiking_classifier` converts to spikes.
    recurrent_initializer : {"glorot_uniform", "zeros"}
        The initial ``W_h``: Glorot uniform (default) or zeros, as the LMU paper's
        psMNIST model started (its ``hidden_kernel_initializer=Constant(0)``):
        the recurrence then grows from nothing instead of starting near the edge
        of stability.
    hidden_activation : {"tanh", "relu", "lif"}
        ``tanh`` (nengo.Tanh), ``relu`` (nengo.RectifiedLinear) or ``lif``
        (nengo.LIFRate, amplitude 1 / 63 so it spans about [0, 1] at 63 Hz); the
        rate types convert to spiking neurons.
    trainable_encoders, trainable_kernels : bool
        Whether nengo_dl may train ``e_x, e_h, e_m`` / ``W_m, W_h, W_x``.
    parallel : bool or None
        ``True``: the whole sequence is one simulator step: ``input`` has
        ``n_steps * input_d`` dimensions (step-major) and ``output`` ``n_steps *
        units``, and the memory is computed for all steps at once by an FFT
        convolution with its impulse response (nengo_dl only; see
        `nengo_lmu.dl.parallel`). ``False``: one simulator step per time step.
        ``None`` (default): parallel when nothing feeds back into the memory and
        ``n_steps`` is given.
    n_steps : int, optional
        Sequence length (needed by the parallel form).
    return_sequences : bool
        The parallel form's ``output``: the hidden state of every step (True,
        default: ``n_steps * units`` dimensions) or of the last step only (False:
        ``units`` dimensions, as keras-lmu's ``return_sequences=False``). Without
        the hidden recurrence the last step alone is one matrix product per
        sequence instead of a convolution over all steps: about 800 times fewer
        operations for psMNIST.
    seed : int, optional
        Seeds the initial weights (the same seed gives the same weights in both
        forms).

    Attributes
    ----------
    input, output : nengo.Node
    hidden : nengo.Ensemble (sequential form only)
    weights : dict of ndarray
        The initial weights, by name.
    """

    def __init__(
        self,
        units,
        order,
        theta,
        input_d,
        hidden_to_memory=False,
        memory_to_memory=False,
        input_to_hidden=False,
        hidden_to_hidden=True,
        recurrent_initializer="glorot_uniform",
        hidden_activation="tanh",
        trainable_encoders=True,
        trainable_kernels=True,
        parallel=None,
        n_steps=None,
        return_sequences=True,
        label=None,
        seed=None,
        add_to_container=None,
    ):
        super().__init__(label=label, seed=seed, add_to_container=add_to_container)
        self.units = check_order(units, obj=self, attr="units")
        self.order = check_order(order, obj=self)
        self.theta = check_positive(theta, "theta", obj=self)
        self.input_d = check_order(input_d, obj=self, attr="input_d")
        check_choice(
            hidden_activation, HIDDEN_ACTIVATIONS, "hidden_activation", obj=self
        )
        self.hidden_activation = hidden_activation
        self.recurrent_initializer = check_choice(
            recurrent_initializer,
            RECURRENT_INITIALIZERS,
            "recurrent_initializer",
            obj=self,
        )
        self.hidden_to_memory = bool(hidden_to_memory)
        self.memory_to_memory = bool(memory_to_memory)
        self.input_to_hidden = bool(input_to_hidden)
        self.hidden_to_hidden = bool(hidden_to_hidden)
        feedback = self.hidden_to_memory or self.memory_to_memory
        if parallel is None:
            parallel = not feedback and n_steps is not None
        if parallel and feedback:
            raise ValidationError(
                "parallel=True needs a memory that nothing feeds back into "
                "(hidden_to_memory=False, memory_to_memory=False)",
                attr="parallel",
                obj=self,
            )
        if parallel:
            n_steps = check_order(n_steps, obj=self, attr="n_steps")
        self.parallel = bool(parallel)
        self.n_steps = n_steps
        self.return_sequences = bool(return_sequences)
        if not (self.return_sequences or self.parallel):
            raise ValidationError(
                "return_sequences=False needs the parallel form (the sequential "
                "form outputs each step as it is simulated: probe its last step)",
                attr="return_sequences",
                obj=self,
            )

        A, B = lmu_matrices(self.order, self.theta)
        self.Ad, self.Bd = discretize(A, B, dt=1.0)
        rng = np.random.RandomState(seed)
        d, k = self.order, self.units
        self.weights = {
            "e_x": np.ones((1, self.input_d)),
            "W_m": glorot_uniform((k, d), rng),
            "W_h": glorot_uniform((k, k), rng),
            "W_x": glorot_uniform((k, self.input_d), rng),
            "bias": np.zeros(k),
            "e_h": np.zeros((1, k)),
            "e_m": np.zeros((1, d)),
        }
        if self.recurrent_initializer == "zeros":  # drawn above all the same,
            self.weights["W_h"][...] = 0  # so the other weights do not change
        if not self.input_to_hidden:
            del self.weights["W_x"]
        if not self.hidden_to_hidden:
            del self.weights["W_h"]
        if not self.hidden_to_memory:
            del self.weights["e_h"]
        if not self.memory_to_memory:
            del self.weights["e_m"]

        if self.parallel:
            from nengo_lmu.dl import parallel  # pylint: disable=C0415

            with self:
                parallel.build_parallel_cell(
                    self, trainable_encoders, trainable_kernels
                )
            return
        self._build_sequential(trainable_encoders, trainable_kernels)

    def sequences_to_data(self, x):
        """NengoDL input data for `input` from sequences ``(batch, n_steps, input_d)``.

        The sequential form takes them as they are (one simulator step per time
        step); the parallel form takes each whole sequence in one simulator step,
        ``(batch, 1, n_steps * input_d)`` (step-major). A wrong shape raises here,
        naming the expected and the given shapes, before TensorFlow sees it.

        Examples
        --------
        >>> cell = LMUCell(8, 4, 10.0, 2, n_steps=10, add_to_container=False)
        >>> cell.sequences_to_data(np.zeros((5, 10, 2))).shape
        (5, 1, 20)
        """
        x = np.asarray(x)
        steps = "n_steps" if self.n_steps is None else self.n_steps
        if (
            x.ndim != 3
            or x.shape[2] != self.input_d
            or (self.n_steps is not None and x.shape[1] != self.n_steps)
        ):
            raise ValidationError(
                f"sequences must have shape (batch, {steps}, {self.input_d}); got "
                f"shape {x.shape}",
                attr="x",
                obj=self,
            )
        return x.reshape(len(x), 1, -1) if self.parallel else x

    def data_to_sequences(self, y):
        """Sequences ``(batch, n_steps, units)`` from NengoDL's data for `output`.

        The inverse of `sequences_to_data` for the output: the parallel form's
        ``(batch, 1, n_steps * units)`` (or ``(batch, n_probe_steps, ...)``: the
        last simulator step is taken) and the sequential form's ``(batch,
        n_steps, units)`` both become ``(batch, n_steps, units)``.

        Examples
        --------
        >>> cell = LMUCell(8, 4, 10.0, 2, n_steps=10, add_to_container=False)
        >>> cell.data_to_sequences(np.zeros((5, 1, 80))).shape
        (5, 10, 8)
        """
        y = np.asarray(y)
        if self.parallel and not self.return_sequences:
            raise ValidationError(
                "this cell outputs the last step only (return_sequences=False)",
                attr="return_sequences",
                obj=self,
            )
        if self.parallel:
            size = self.n_steps * self.units
            if y.ndim != 3 or y.shape[2] != size:
                raise ValidationError(
                    f"parallel output data must have shape (batch, steps, {size}) "
                    f"(n_steps * units); got shape {y.shape}",
                    attr="y",
                    obj=self,
                )
            return y[:, -1].reshape(len(y), self.n_steps, self.units)
        if y.ndim != 3 or y.shape[2] != self.units:
            raise ValidationError(
                f"output data must have shape (batch, n_steps, {self.units}); got "
                f"shape {y.shape}",
                attr="y",
                obj=self,
            )
        return y

    def _build_sequential(self, trainable_encoders, trainable_kernels):
        w = self.weights
        trainable = _trainable_config(self)
        with self:
            self.input = nengo.Node(size_in=self.input_d, label="input")
            self.u = nengo.Node(size_in=1, label="u")
            self.memory = nengo.Node(size_in=self.order, label="memory")
            self.hidden = nengo.Ensemble(
                self.units,
                1,
                neuron_type=hidden_neuron_type(self.hidden_activation),
                gain=np.ones(self.units),
                bias=w["bias"],
                label="hidden",
            )
            self.output = nengo.Node(size_in=self.units, label="output")
            conns = {}
            conns["e_x"] = nengo.Connection(
                self.input, self.u, transform=w["e_x"], synapse=None
            )
            frozen = [
                nengo.Connection(self.u, self.memory, transform=self.Bd, synapse=None),
                nengo.Connection(
                    self.memory, self.memory, transform=self.Ad, synapse=0
                ),
            ]
            # W_m reads a copy of the memory: nengo_dl merges the weights of
            # connections that share a pre, and a merge with the frozen A would
            # leave W_m untrainable (seen: W_m never changed in training).
            memory_copy = nengo.Node(size_in=self.order, label="memory_copy")
            nengo.Connection(self.memory, memory_copy, transform=None, synapse=None)
            conns["W_m"] = nengo.Connection(
                memory_copy, self.hidden.neurons, transform=w["W_m"], synapse=None
            )
            if "W_h" in w:
                # also through a copy: otherwise nengo_dl merged W_h with a readout
                # of `output` and dropped W_h from the trainable weights (seen)
                hidden_copy = nengo.Node(size_in=self.units, label="hidden_copy")
                nengo.Connection(
                    self.hidden.neurons, hidden_copy, transform=None, synapse=None
                )
                conns["W_h"] = nengo.Connection(
                    hidden_copy, self.hidden.neurons, transform=w["W_h"], synapse=0
                )
            if "W_x" in w:
                conns["W_x"] = nengo.Connection(
                    self.input, self.hidden.neurons, transform=w["W_x"], synapse=None
                )
            if "e_h" in w:
                conns["e_h"] = nengo.Connection(
                    self.hidden.neurons, self.u, transform=w["e_h"], synapse=0
                )
            if "e_m" in w:
                conns["e_m"] = nengo.Connection(
                    memory_copy, self.u, transform=w["e_m"], synapse=0
                )
            nengo.Connection(
                self.hidden.neurons, self.output, transform=None, synapse=None
            )
        self.connections_by_weight = conns
        if trainable is not None:
            for conn in frozen:
                trainable[conn].trainable = False
            for name, conn in conns.items():
                is_encoder = name.startswith("e_")
                if not (trainable_encoders if is_encoder else trainable_kernels):
                    trainable[conn].trainable = False


def _trainable_config(network):
    """The network's config with nengo_dl's ``trainable`` parameter, if nengo_dl is
    installed (imported here only, never by ``import nengo_lmu``)."""
    try:
        import nengo_dl  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    with network:
        nengo_dl.configure_settings(trainable=None)
    return network.config
