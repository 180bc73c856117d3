"""The fused step of a sub-population ensemble on Nengo's reference simulator.

`SimSubpopulation` is one operator for what Nengo's reference builder would emit
as three passes over the neurons (the encoding product, the neuron step, the
decoding product: two of them dense ``n x d`` products). It computes the input
current, the rate, the spikes and the decoded output in one pass, compiled with
numba when it is installed (`nengo_lmu.networks._kernels`).

It is emitted by the builders of `nengo_lmu.networks.SubpopulationEnsemble` and
`nengo_lmu.networks.SubpopulationConnection`; this module holds what they emit:
the neuron types the kernels run (`fused_parameters`), the order in which the
Poisson kernel keeps the neurons (`PoissonLayout`), the kernels' constants and
state (`FusedState`) and the operator.
"""

import nengo
import numpy as np
from nengo.builder import Operator

from nengo_lmu.networks import _kernels


def _rate_parameters(neuron_type):
    """(rate_kind, tau_rc, tau_ref, amplitude) of a rate type the compiled
    kernels know, or None."""
    if type(neuron_type) is nengo.LIFRate:  # noqa: E721 (subclasses may differ)
        return (
            _kernels.LIF_RATE,
            neuron_type.tau_rc,
            neuron_type.tau_ref,
            neuron_type.amplitude,
        )
    if type(neuron_type) is nengo.RectifiedLinear:  # noqa: E721
        return (_kernels.RELU_RATE, 1.0, 0.0, neuron_type.amplitude)
    return None


def solver_rate_parameters(neuron_type):
    """(rate_kind, tau_rc, tau_ref, amplitude) with which the kernels compute
    ``neuron_type.rates`` (the rates Nengo's solvers decode), or None."""
    t = type(neuron_type)
    if t in (nengo.PoissonSpiking, nengo.RegularSpiking):
        return _rate_parameters(neuron_type.base_type)
    if t is nengo.LIF:
        return (
            _kernels.LIF_RATE,
            neuron_type.tau_rc,
            neuron_type.tau_ref,
            neuron_type.amplitude,
        )
    if t is nengo.SpikingRectifiedLinear:
        return (_kernels.RELU_RATE, 1.0, 0.0, neuron_type.amplitude)
    return _rate_parameters(neuron_type)


def fused_parameters(neuron_type):
    """How `SimSubpopulation` runs ``neuron_type``, or None if it cannot.

    Returns
    -------
    dict or None
        ``rate_kind``, ``spike_kind`` and the constants of both.
    """
    rate = solver_rate_parameters(neuron_type)
    if rate is None:
        return None
    rate_kind, tau_rc, tau_ref, rate_amplitude = rate
    t = type(neuron_type)
    spike, spike_amplitude, min_voltage = _kernels.RATE, 1.0, 0.0
    if t is nengo.LIF:
        spike, spike_amplitude = _kernels.LIF, neuron_type.amplitude
        min_voltage = neuron_type.min_voltage
    elif t is nengo.SpikingRectifiedLinear:
        # integrates max(J, 0); the amplitude scales the spikes
        spike, spike_amplitude = _kernels.REGULAR, neuron_type.amplitude
        rate_amplitude = 1.0
    elif t in (nengo.PoissonSpiking, nengo.RegularSpiking):
        spike = _kernels.POISSON if t is nengo.PoissonSpiking else _kernels.REGULAR
        spike_amplitude = neuron_type.amplitude
    return {
        "rate_kind": rate_kind,
        "spike_kind": spike,
        "tau_rc": float(tau_rc),
        "tau_ref": float(tau_ref),
        "rate_amplitude": float(rate_amplitude),
        "spike_amplitude": float(spike_amplitude),
        "min_voltage": float(min_voltage),
    }


class PoissonLayout:
    """The order in which the Poisson kernel keeps a sub-population's neurons.

    Within each window of `~nengo_lmu.networks._kernels.CHUNK` consecutive
    neurons of a dimension: the neurons of positive encoders, sorted by the input
    ``x`` above which they fire (their threshold), then those of negative
    encoders, sorted by the ``-x`` above which they fire, then any whose gain is
    too small to say (processed every step); each of these runs is a chunk of
    the kernel. Each step, a chunk's neurons below threshold are a suffix that
    the kernel skips (they have no rate: no work, no spike). A window's outputs
    are zeroed in one pass, then its spikes written (within 64 kB). With ``bias``
    None (the input current changes: other connections feed the neurons), the
    neurons keep their order and are all processed.

    The kernel keeps the per-neuron arrays (gain, bias, decoders, clocks) in this
    order; the neurons' output and the Poisson draws use the neurons' own
    indices, so spikes do not depend on the order. The thresholds are not kept:
    the kernel recomputes the few its binary search reads, ``(1 - bias) / |gain|``
    (`threshold`), from the sorted gains and biases.
    """

    def __init__(self, dims, enc_gain, bias, size_out):
        n = dims.shape[0]
        self.order = np.empty(n, dtype=np.uint32 if n < 2**32 else np.uint64)
        lo, chunk_dim, chunk_sign = [], [], []
        win_lo, win_hi, win_runs = [], [], [0]
        pos = 0
        for k in range(size_out):
            idx = np.flatnonzero(dims == k)  # one dimension's neurons at a time
            for start in range(0, idx.size, _kernels.CHUNK):
                window = idx[start : start + _kernels.CHUNK]
                win_lo.append(window[0])
                win_hi.append(window[-1] + 1)
                for sign, part in self._runs(window, enc_gain, bias):
                    self.order[pos : pos + part.size] = part
                    lo.append(pos)
                    chunk_dim.append(k)
                    chunk_sign.append(sign)
                    pos += part.size
                win_runs.append(len(lo))
        assert pos == n
        self.chunk_lo = np.asarray(lo, dtype=np.int64)
        self.chunk_hi = np.append(self.chunk_lo[1:], pos).astype(np.int64)
        self.chunk_dim = np.asarray(chunk_dim, dtype=np.int64)
        self.chunk_sign = np.asarray(chunk_sign, dtype=np.float64)
        self.base = None if bias is None else np.ascontiguousarray(bias[self.order])
        # the windows: their neurons (indices lo to hi), their chunks
        self.win_lo = np.asarray(win_lo, dtype=np.int64)
        self.win_hi = np.asarray(win_hi, dtype=np.int64)
        self.win_runs = np.asarray(win_runs, dtype=np.int64)

    @staticmethod
    def _runs(window, enc_gain, bias):
        """The chunks of one window: ``(sign, neurons)``, sorted by threshold."""
        if bias is None:
            return [(0.0, window)]
        g, b = enc_gain[window], bias[window]
        # J = b + g x > 1 iff sign(g) x > (1 - b) / |g|; the kernel adds a margin
        # of 1e-9 (1 + |x|), more than the rounding of J for these gains (the
        # rate itself decides, beyond the margin too)
        steep = np.abs(g) > 1e-6 * (np.abs(b) + 1.0)
        thr = np.zeros(window.size)
        thr[steep] = threshold(b[steep], g[steep])
        runs = []
        signs = ((1.0, steep & (g > 0)), (-1.0, steep & (g < 0)), (0.0, ~steep))
        for sign, sel in signs:
            if np.any(sel):
                by = np.argsort(thr[sel], kind="stable")
                runs.append((sign, window[sel][by]))
        return runs


def threshold(bias, enc_gain):
    """The input ``x`` (times the sign of the gain) above which a neuron of
    ``bias`` and ``enc_gain`` fires: ``(1 - bias) / |enc_gain|`` (the compiled
    kernel computes the same, in the same order)."""
    return (1.0 - bias) / np.abs(enc_gain)


class FusedState:
    """The constants and state `SimSubpopulation` passes to the kernels.

    With Poisson spikes, the per-neuron arrays (``dims``, ``enc_gain``,
    ``decoders``, ``clock``) are in the order of ``layout`` (`PoissonLayout`;
    ``bias``, when constant, lets it skip the neurons below threshold).
    ``use_numba`` False runs the numpy code (the same arithmetic) even where
    numba is installed. ``draw_clocks`` False leaves ``clock`` None: the
    simulator gives it a signal's array, and `SimSubpopulation` draws the
    initial clocks (`start_clocks`) at the first step (so no second copy of
    them is kept as the signal's initial value).
    """

    def __init__(
        self,
        dims,
        enc_gain,
        params,
        dt,
        seed,
        decoders,
        size_out,
        bias=None,
        use_numba=True,
        draw_clocks=True,
    ):
        # each neuron's dimension, in the integer type given (uint8 for d <= 256)
        self.dims = np.asarray(dims)
        self.enc_gain = np.ascontiguousarray(enc_gain, dtype=np.float64)
        self.size_out = size_out
        self.dt = float(dt)
        self.seed = int(seed) % 2**63
        self.decoders = None
        self.use_numba = bool(use_numba) and _kernels.HAVE_NUMBA
        for key, value in params.items():
            setattr(self, key, value)
        self.layout = self.clock = None
        if self.spike_kind == _kernels.POISSON:
            self.layout = lay = PoissonLayout(
                self.dims,
                self.enc_gain,
                None if bias is None else np.asarray(bias, dtype=np.float64),
                size_out,
            )
            self.dims = self.dims[lay.order]
            self.enc_gain = np.ascontiguousarray(self.enc_gain[lay.order])
            self.chunk_lo, self.chunk_hi = lay.chunk_lo, lay.chunk_hi
            self.chunk_dim = lay.chunk_dim
            if draw_clocks:
                self.clock = np.empty(self.enc_gain.shape[0])
                self.start_clocks()
        else:
            # chunks of one dimension each, at most CHUNK neurons
            lo, hi, chunk_dim = [], [], []
            for k in range(size_out):
                idx = np.flatnonzero(self.dims == k)
                for start in range(idx[0], idx[-1] + 1, _kernels.CHUNK):
                    lo.append(start)
                    hi.append(min(start + _kernels.CHUNK, idx[-1] + 1))
                    chunk_dim.append(k)
            self.chunk_lo = np.asarray(lo, dtype=np.int64)
            self.chunk_hi = np.asarray(hi, dtype=np.int64)
            self.chunk_dim = np.asarray(chunk_dim, dtype=np.int64)
        self.dim_first_chunk = np.searchsorted(self.chunk_dim, np.arange(size_out))
        self.partial = np.zeros(self.chunk_lo.shape[0])
        # signals' arrays, set by SimSubpopulation.make_step
        self.out = self.voltage = self.refractory_time = None
        if decoders is not None:
            self.set_decoders(decoders)

    def start_clocks(self):
        """Set the exponential clocks to their initial values (`initial_clock`:
        Exp(1) draws of the seed, keyed by the neurons' own indices)."""
        _kernels.initial_clock(self.seed, self.layout.order, out=self.clock)

    def set_decoders(self, decoders, scale=None):
        """Decode with ``decoders`` (one per neuron, in the neurons' order),
        each times ``scale[k]`` of its dimension ``k`` where ``scale`` is given
        (a copy is kept; ``decoders`` is not changed)."""
        if self.layout is not None:
            decoders = np.asarray(decoders, dtype=np.float64)[self.layout.order]
        else:
            decoders = np.array(decoders, dtype=np.float64)
        if scale is not None:  # a chunk is one dimension
            for lo, hi, k in zip(self.chunk_lo, self.chunk_hi, self.chunk_dim):
                decoders[lo:hi] *= scale[k]
        self.decoders = decoders


class SimSubpopulation(Operator):
    """One step of a sub-population ensemble: encode, rate, spike, decode.

    Emitted on Nengo's reference simulator, instead of the encoding product (a
    ``DotInc``), the ``SimNeurons`` operator(s) and the decoding product, by the
    builders of `~nengo_lmu.networks.SubpopulationEnsemble` and
    `~nengo_lmu.networks.SubpopulationConnection`.

    Reads the decoded input ``x`` (and ``base``, the bias plus direct neuron
    input, when other connections feed the neurons), sets the neurons' output and
    state, and increments ``decoded`` with the decoded output once a decoding
    connection is fused into it (`decode`). A Poisson step may leave the output
    unwritten (``write=False``) where nothing reads it (no probe or other
    connection of the neurons): 8 bytes per neuron less, kept and written each
    step; a builder that reads it turns it on (`write_output`).
    """

    def __init__(
        self, state, x, base, step, output, states, decoded, tag=None, write=True
    ):
        super().__init__(tag=tag)
        self.fused = state
        self.output = output
        self.sets = ([output] if write else []) + list(states)
        self.incs = [] if decoded is None else [decoded]
        self.reads = [x, step] + ([] if isinstance(base, np.ndarray) else [base])
        self.updates = []
        self._base = base
        self._states = states

    @property
    def writes_output(self):
        """Whether the step writes the neurons' output (``output``)."""
        return self.output in self.sets

    def write_output(self):
        """Also write the neurons' output (a Poisson step without it, built
        with ``write=False`` because nothing read it, skips those writes). Called
        by a builder that reads it, before the simulator reads the operators."""
        if not self.writes_output:
            self.sets.insert(0, self.output)

    def decode(self, decoders, decoded, scale=None):
        """Also decode: increment ``decoded`` by ``decoders`` (one per neuron,
        each of its neuron's dimension, times ``scale`` of that dimension where
        given) times the neurons' output. Called by the decoding connection's
        builder, before the simulator reads the operators."""
        if self.incs:
            raise ValueError(f"{self}: already decodes into {self.incs[0]}")
        self.fused.set_decoders(decoders, scale)
        self.incs = [decoded]

    def make_step(self, signals, dt, rng):
        s = self.fused
        x = signals[self.reads[0]]
        step = signals[self.reads[1]]
        base = self._base if isinstance(self._base, np.ndarray) else signals[self._base]
        # None: nothing reads the output, and the (Poisson) step skips it
        s.out = signals[self.output] if self.writes_output else None
        if s.spike_kind == _kernels.LIF:
            s.voltage = signals[self._states[0]]
            s.refractory_time = signals[self._states[1]]
        elif s.spike_kind == _kernels.REGULAR:
            s.voltage = signals[self._states[0]]
            s.refractory_time = s.voltage
        else:
            s.voltage = s.refractory_time = s.out
        poisson = s.spike_kind == _kernels.POISSON
        if poisson:
            # a signal of zeros: the first step (after sim.reset() too) draws
            # the initial clocks into it
            s.clock = signals[self._states[0]]
        decoded = signals[self.incs[0]] if self.incs else None

        def step_subpopulation():
            k = int(step)
            if poisson and k == 1:
                s.start_clocks()
            result = _kernels.fused_step(s, x, base, k)
            if decoded is not None:
                decoded[...] += result

        return step_subpopulation
