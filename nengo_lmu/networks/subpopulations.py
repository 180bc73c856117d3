"""Sub-population ensembles: millions of neurons, each encoding one dimension.

The ``"subpopulations"`` layout is a plain `nengo.Ensemble` whose encoders come from
`SubpopulationEncoders` (each neuron encodes one dimension, +1 or -1, in contiguous
blocks), decoded by a connection with `SubpopulationSolver`: the neurons of each
dimension are split into groups of about ``group_size`` whose decoders are solved
independently and averaged. Everything that depends on the seed happens at build
time, in Nengo's builder, with Nengo's seeds; the cost grows linearly with the
number of neurons. The network therefore runs, unchanged, on any Nengo simulator.

On Nengo's reference simulator, networks of this package (`LinearNetwork`,
`LMUMemory`) also replace the ensemble's generic operators (encoding product,
neuron step, decoding product: three passes over the neurons, two of them dense
``n x d`` products) by one fused operator, `SimSubpopulation`, that computes the
input current, the rate, the spikes and the decoded output in one pass, compiled
with numba when it is installed (`nengo_lmu.networks._kernels`).
"""

import os

import nengo
import numpy as np
from nengo.builder import Builder, Operator, Signal
from nengo.builder.neurons import SimNeurons
from nengo.builder.operator import Copy, DotInc, ElementwiseInc
from nengo.cache import Fingerprint, check_attrs
from nengo.exceptions import BuildError, ValidationError
from nengo.params import NumberParam
from nengo.solvers import Solver

from nengo_lmu.networks import _kernels

DEFAULT_GROUP_SIZE = 200

# Part of the decoder cache's key for `SubpopulationSolver`: raise it whenever
# `solve_groups` changes its results, so that decoders cached by an earlier
# version are not loaded.
SOLVER_REVISION = 1

# Whether `fuse_subpopulation` fuses (``NENGO_LMU_FUSE=0`` in the environment, or
# setting this to False, keeps Nengo's own operators: the reference to compare
# against).
FUSE = os.environ.get("NENGO_LMU_FUSE", "1") != "0"


def dimension_blocks(n_neurons, dimensions):
    """The dimension each neuron encodes: contiguous, as even as possible."""
    sizes = [len(a) for a in np.array_split(np.arange(n_neurons), dimensions)]
    return np.repeat(np.arange(dimensions), sizes)


class SubpopulationEncoders(nengo.dists.Distribution):
    """Encoders of a sub-population ensemble: neuron ``i`` encodes one dimension
    (``dimension_blocks``), with a random sign.

    Samples ``(n, d)`` one-hot rows, ``+e_k`` or ``-e_k``, in contiguous blocks
    of dimensions.
    """

    def sample(self, n, d=None, rng=np.random):
        d = 1 if d is None else d
        dims = dimension_blocks(n, d)
        encoders = np.zeros((n, d))
        encoders[np.arange(n), dims] = 2.0 * rng.randint(2, size=n) - 1.0
        return encoders


def diagonal_eval_points(dimensions, n_points):
    """Evaluation points ``t * (1, ..., 1)``, ``t`` evenly in [-1, 1]: every
    neuron of a sub-population ensemble sees its own dimension sweep [-1, 1]."""
    t = np.linspace(-1.0, 1.0, n_points)
    return np.repeat(t[:, None], dimensions, axis=1)


def one_hot_layout(encoders):
    """The dimension and sign of each row of one-hot ``encoders``, or raise."""
    encoders = np.asarray(encoders)
    nonzero = np.count_nonzero(encoders, axis=1)
    if not np.all(nonzero == 1):
        raise BuildError(
            "SubpopulationSolver needs encoders with one nonzero per neuron "
            "(SubpopulationEncoders); got rows with "
            f"{int(nonzero.min())} to {int(nonzero.max())} nonzeros"
        )
    dims = np.argmax(np.abs(encoders), axis=1)
    signs = np.sign(encoders[np.arange(encoders.shape[0]), dims])
    return dims, signs


def groups_of(dims, group_size):
    """Split each dimension's neurons into groups of about ``group_size``.

    Returns
    -------
    groups : list of int arrays
        The neuron indices of each group.
    weights : (n,) array
        Each neuron's weight in its dimension's average of group decoders
        (group size over the dimension's neurons).
    """
    groups = []
    weights = np.zeros(dims.shape[0])
    for k in np.unique(dims):
        idx = np.flatnonzero(dims == k)
        n_groups = max(1, int(round(len(idx) / group_size)))
        for part in np.array_split(idx, n_groups):
            groups.append(part)
            weights[part] = len(part) / len(idx)
    return groups, weights


def _ridge(A, t, reg):
    """Ridge decoders of ``t`` for a stack of activity matrices A (G, P, k),
    Nengo's LstsqL2 convention: ``sigma = reg * max(A)`` per group."""
    P, k = A.shape[1], A.shape[2]
    AtA = np.matmul(A.transpose(0, 2, 1), A)
    sigma = reg * A.max(axis=(1, 2))
    AtA[:, np.arange(k), np.arange(k)] += (P * sigma**2)[:, None]
    Aty = np.matmul(A.transpose(0, 2, 1), t)
    return np.linalg.solve(AtA, Aty[..., None])[..., 0]


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


def solve_groups(neuron_type, gain, bias, signs, groups, t, reg, chunk_neurons):
    """Each group's ridge decoder of its own value ``t`` (points in [-1, 1]).

    The rates of a group's neurons at the points are computed a chunk of groups
    at a time (memory ~ ``chunk_neurons * len(t)``), compiled for the neuron
    types the kernels know, else by ``neuron_type.rates``.
    """
    n = gain.shape[0]
    decoders = np.empty(n)
    rate = solver_rate_parameters(neuron_type)
    sizes = np.array([len(g) for g in groups])
    for size in np.unique(sizes):
        same = [g for g, s in zip(groups, sizes) if s == size]
        per_chunk = max(1, chunk_neurons // size)
        for c0 in range(0, len(same), per_chunk):
            idx = np.stack(same[c0 : c0 + per_chunk])  # (G, k)
            enc_gain = signs[idx] * gain[idx]
            if rate is not None:
                A = _kernels.group_rates(t, enc_gain, bias[idx], *rate)
            else:
                J = t[None, :, None] * enc_gain[:, None, :] + bias[idx][:, None, :]
                A = neuron_type.rates(J.reshape(-1), 1.0, 0.0).reshape(J.shape)
            decoders[idx] = _ridge(A, t, reg)
    return decoders


class SubpopulationSolver(Solver):
    """Decoders of a sub-population ensemble, one ridge solve per group.

    Each neuron must encode one dimension (`SubpopulationEncoders`). The neurons of
    each dimension are split into consecutive groups of about ``group_size``; each
    group's decoder of its own dimension, over evaluation points ``t`` in [-1, 1],
    is the ridge solution with Nengo's `~nengo.solvers.LstsqL2` regularization
    (``sigma = reg * max(A)``), and a dimension's decoder is the average of its
    groups' (weighted by group size). Cost: linear in the number of neurons; no
    ``n x n`` matrix is ever formed.

    Built by Nengo's builder (`build_subpopulation_solver`), from the ensemble's
    gains, biases and encoders, a chunk of groups at a time; a simulator that
    calls solvers directly gets the same solution from the activities at the
    ensemble's evaluation points (give the ensemble `diagonal_eval_points`).

    Parameters
    ----------
    group_size : int
        Neurons per independently solved group.
    reg : float
        Regularization, relative to the largest rate (as in LstsqL2).
    n_points : int, optional
        Evaluation points per group (default twice the group size).
    """

    compositional = True
    group_size = NumberParam("group_size", low=1)
    reg = NumberParam("reg", low=0)
    n_points = NumberParam("n_points", low=2, optional=True)

    def __init__(self, group_size=DEFAULT_GROUP_SIZE, reg=0.1, n_points=None):
        super().__init__(weights=False)
        self.group_size = group_size
        self.reg = reg
        self.n_points = n_points

    def points(self):
        """The evaluation points ``t`` of each group's solve."""
        n_points = 2 * int(self.group_size) if self.n_points is None else self.n_points
        return np.linspace(-1.0, 1.0, int(n_points))

    def __call__(self, A, Y, rng=None, E=None):
        """Decoders from activities ``A`` (n_points x n) at diagonal evaluation
        points whose targets ``Y`` (n_points x d) are the points themselves."""
        if E is not None:
            raise ValidationError(
                "SubpopulationSolver solves decoders, not weights", attr="weights"
            )
        A, Y = np.asarray(A, dtype=float), np.asarray(Y, dtype=float)
        n, d = A.shape[1], Y.shape[1]
        if not np.allclose(Y, Y[:, :1]):
            raise ValidationError(
                "SubpopulationSolver needs diagonal evaluation points (every "
                "dimension equal; see diagonal_eval_points) and no function",
                attr="eval_points",
            )
        t = Y[:, 0]
        dims = dimension_blocks(n, d)
        groups, weights = groups_of(dims, int(self.group_size))
        dec = np.empty(n)
        for g in groups:
            dec[g] = _ridge(A[None, :, g], t, self.reg)[0]
        decoders = np.zeros((n, d))
        decoders[np.arange(n), dims] = dec * weights
        return decoders, {"groups": len(groups)}


Fingerprint.whitelist(SubpopulationSolver, check_attrs)


@Builder.register(SubpopulationSolver)
def build_subpopulation_solver(model, solver, conn, rng):
    """Nengo builder of `SubpopulationSolver` (decoded connection from an
    ensemble with one-hot encoders, no function): linear in the neurons.

    Seeded connections go through Nengo's decoder cache (`nengo.cache`), as
    Nengo's own solvers do, keyed on the solver, the neuron type, the gains and
    biases, the encoders' layout, the radius and the evaluation points.

    Returns ``(eval_points, decoders, solver_info)`` as Nengo's solver builders do
    (decoders ``d x n``)."""
    ens = conn.pre_obj
    if not isinstance(ens, nengo.Ensemble) or conn.function is not None:
        raise BuildError(
            f"{conn}: SubpopulationSolver decodes an ensemble's represented value "
            "(no function)"
        )
    built = model.params[ens]
    dims, signs = one_hot_layout(built.encoders)
    t = solver.points()

    def solve(conn, gain, bias, key, targets, rng=None):
        # Nengo's solver signature, for its decoder cache. ``key`` stands in for
        # the encoded evaluation points (n_points x n, never formed): what the
        # solve depends on besides the gains, biases and points (the encoders'
        # layout, the radius, the dimensions and SOLVER_REVISION)
        groups, weights = groups_of(dims, int(solver.group_size))
        dec = solve_groups(
            ens.neuron_type,
            gain / ens.radius,
            bias,
            signs,
            groups,
            targets[:, 0],
            solver.reg,
            chunk_neurons=20_000,
        )
        decoders = np.zeros((ens.n_neurons, ens.dimensions))
        decoders[np.arange(ens.n_neurons), dims] = dec * weights * ens.radius
        return decoders, {"groups": len(groups)}

    key = np.concatenate(
        [[SOLVER_REVISION, ens.radius, ens.dimensions], signs * (dims + 1)]
    )
    if model.seeded[conn]:
        solve = model.decoder_cache.wrap_solver(solve)
    decoders, info = solve(conn, built.gain, built.bias, key[None, :], t[:, None], rng)
    return (
        diagonal_eval_points(ens.dimensions, len(t)),
        decoders.T[conn.pre_slice],
        info,
    )


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
    indices, so spikes do not depend on the order.
    """

    def __init__(self, dims, enc_gain, bias, size_out):
        n = dims.shape[0]
        lo, hi, chunk_dim, chunk_sign, order, threshold = [], [], [], [], [], []
        pos = 0
        windows = []
        for k in range(size_out):
            idx = np.flatnonzero(dims == k)
            for start in range(0, idx.size, _kernels.CHUNK):
                windows.append((k, idx[start : start + _kernels.CHUNK]))
        win_lo, win_hi, win_runs = [], [], [0]
        for k, idx in windows:
            win_lo.append(idx[0])
            win_hi.append(idx[-1] + 1)
            if bias is None:
                groups = [(idx, 0.0, np.zeros(idx.size))]
            else:
                g, b = enc_gain[idx], bias[idx]
                # J = b + g x > 1 iff sign(g) x > (1 - b) / |g|; the kernel adds
                # a margin of 1e-9 (1 + |x|), more than the rounding of J for
                # these gains (the rate itself decides, beyond the margin too)
                steep = np.abs(g) > 1e-6 * (np.abs(b) + 1.0)
                thr = np.zeros(idx.size)
                thr[steep] = (1.0 - b[steep]) / np.abs(g[steep])
                groups = []
                for sign, sel in (
                    (1.0, steep & (g > 0)),
                    (-1.0, steep & (g < 0)),
                    (0.0, ~steep),
                ):
                    by = np.argsort(thr[sel], kind="stable")
                    groups.append((idx[sel][by], sign, thr[sel][by]))
            for part, sign, thr_part in groups:
                if part.size == 0:
                    continue
                lo.append(pos)
                hi.append(pos + part.size)
                chunk_dim.append(k)
                chunk_sign.append(sign)
                order.append(part)
                threshold.append(thr_part)
                pos += part.size
            win_runs.append(len(lo))
        self.order = np.concatenate(order).astype(np.uint32 if n < 2**32 else np.uint64)
        assert self.order.size == n
        self.threshold = np.concatenate(threshold)
        self.chunk_lo = np.asarray(lo, dtype=np.int64)
        self.chunk_hi = np.asarray(hi, dtype=np.int64)
        self.chunk_dim = np.asarray(chunk_dim, dtype=np.int64)
        self.chunk_sign = np.asarray(chunk_sign, dtype=np.float64)
        self.base = None if bias is None else np.ascontiguousarray(bias[self.order])
        # the windows: their neurons (indices lo to hi), their chunks
        self.win_lo = np.asarray(win_lo, dtype=np.int64)
        self.win_hi = np.asarray(win_hi, dtype=np.int64)
        self.win_runs = np.asarray(win_runs, dtype=np.int64)


class FusedState:
    """The constants and state `SimSubpopulation` passes to the kernels.

    With Poisson spikes, the per-neuron arrays (``dims``, ``enc_gain``,
    ``decoders``, ``clock``) are in the order of ``layout`` (`PoissonLayout`;
    ``bias``, when constant, lets it skip the neurons below threshold).
    """

    def __init__(self, dims, enc_gain, params, dt, seed, decoders, size_out, bias=None):
        self.dims = dims.astype(np.intp)
        self.enc_gain = np.ascontiguousarray(enc_gain, dtype=np.float64)
        self.size_out = size_out
        self.dt = float(dt)
        self.seed = int(seed) % 2**63
        self.decoders = decoders
        self.use_numba = _kernels.HAVE_NUMBA
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
            if decoders is not None:
                self.decoders = np.ascontiguousarray(decoders[lay.order])
            self.chunk_lo, self.chunk_hi = lay.chunk_lo, lay.chunk_hi
            self.chunk_dim = lay.chunk_dim
            # the exponential clocks' initial values (the state signal's initial
            # value; SimSubpopulation.make_step sets the signal's array)
            n = self.enc_gain.shape[0]
            self.clock = _kernels.initial_clock(self.seed, n)[lay.order]
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


class SimSubpopulation(Operator):
    """One step of a sub-population ensemble: encode, rate, spike, decode.

    Replaces, on Nengo's reference simulator, the encoding product (a
    ``DotInc``), the ``SimNeurons`` operator(s) and the decoding product of a
    sub-population ensemble (`fuse_subpopulation`).

    Reads the decoded input ``x`` (and ``base``, the bias plus direct neuron
    input, when other connections feed the neurons), sets the neurons' output and
    state, and increments ``decoded`` with the decoded output when the decoding
    connection was fused too.
    """

    def __init__(self, state, x, base, step, output, states, decoded, tag=None):
        super().__init__(tag=tag)
        self.fused = state
        self.sets = [output] + list(states)
        self.incs = [] if decoded is None else [decoded]
        self.reads = [x, step] + ([] if isinstance(base, np.ndarray) else [base])
        self.updates = []
        self._base = base
        self._states = states

    def make_step(self, signals, dt, rng):
        s = self.fused
        x = signals[self.reads[0]]
        step = signals[self.reads[1]]
        base = self._base if isinstance(self._base, np.ndarray) else signals[self._base]
        s.out = signals[self.sets[0]]
        if s.spike_kind == _kernels.LIF:
            s.voltage = signals[self._states[0]]
            s.refractory_time = signals[self._states[1]]
        elif s.spike_kind == _kernels.REGULAR:
            s.voltage = signals[self._states[0]]
            s.refractory_time = s.voltage
        else:
            s.voltage = s.refractory_time = s.out
        if s.spike_kind == _kernels.POISSON:
            # a signal, so that sim.reset() restores the initial clocks
            s.clock = signals[self._states[0]]
        decoded = signals[self.incs[0]] if self.incs else None

        def step_subpopulation():
            result = _kernels.fused_step(s, x, base, int(step))
            if decoded is not None:
                decoded[...] += result

        return step_subpopulation


def _ops_reading(model, signal):
    return [op for op in model.operators if any(sig is signal for sig in op.reads)]


def fuse_subpopulation(model, ens, decode_conn=None):
    """Replace a built sub-population ensemble's operators by `SimSubpopulation`.

    Only on Nengo's reference builder, for the neuron types `fused_parameters`
    knows, without ensemble noise or probes of the neurons' input; otherwise
    leaves the model as it is. With ``decode_conn`` (a connection from ``ens``
    whose decoders came from `SubpopulationSolver`, identity transform), its
    decoding product is fused too.

    Returns
    -------
    bool
        Whether the ensemble was fused.
    """
    if not FUSE:
        return False
    params = fused_parameters(ens.neuron_type)
    if type(model.builder) is not Builder or params is None or ens.noise is not None:
        return False
    neurons = ens.neurons
    sig_in, neuron_in = model.sig[ens]["in"], model.sig[neurons]["in"]
    toplevel = model.toplevel if model.toplevel is not None else ens

    def is_these_neurons(obj):
        # Ensemble.neurons makes a new Neurons object at each access
        return isinstance(obj, nengo.ensemble.Neurons) and obj.ensemble is ens

    if isinstance(toplevel, nengo.Network):
        for probe in toplevel.all_probes:
            if is_these_neurons(probe.target) and probe.attr not in (
                "output",
                "voltage",
            ):
                return False
        direct_input = any(
            is_these_neurons(c.post_obj) for c in toplevel.all_connections
        )
    else:  # pragma: no cover
        direct_input = True

    # the ensemble's own operators
    encode = [
        op
        for op in model.operators
        if isinstance(op, DotInc) and op.A is model.sig[ens]["encoders"]
    ]
    rate_out = model.sig[neurons].get("rate_out")
    neuron_ops = [
        op
        for op in model.operators
        if isinstance(op, SimNeurons)
        and (op.J is neuron_in or (rate_out is not None and op.J is rate_out))
    ]
    bias_copy = [
        op
        for op in model.operators
        if isinstance(op, Copy) and op.src is model.sig[neurons]["bias"]
    ]
    if len(encode) != 1 or not neuron_ops or len(bias_copy) != 1:
        return False  # pragma: no cover - not built the way Nengo 4.1 builds

    built = model.params[ens]
    dims, signs = one_hot_layout(built.encoders)
    decoders, decoded, decode_ops = None, None, []
    if decode_conn is not None:
        weights = model.sig[decode_conn]["weights"]
        decode_ops = [
            op
            for op in _ops_reading(model, weights)
            if isinstance(op, (DotInc, ElementwiseInc))
        ]
        if len(decode_ops) == 1 and decode_ops[0].X is model.sig[neurons]["out"]:
            decoded = decode_ops[0].Y
            dense = model.params[decode_conn].weights
            decoders = np.ascontiguousarray(dense[dims, np.arange(ens.n_neurons)])
            if dense.shape != (ens.dimensions, ens.n_neurons) or np.count_nonzero(
                dense
            ) != np.count_nonzero(decoders):
                decoders, decoded, decode_ops = None, None, []
        else:
            decode_ops = []

    state_names = {
        _kernels.LIF: ["voltage", "refractory_time"],
        _kernels.REGULAR: ["voltage"],
    }.get(params["spike_kind"], [])
    states = [model.sig[neurons][name] for name in state_names]
    state = FusedState(
        dims,
        signs * built.gain / ens.radius,
        params,
        model.dt,
        model.seeds[ens],
        decoders,
        ens.dimensions,
        bias=None if direct_input else built.bias,
    )
    if state.clock is not None:
        clock = Signal(state.clock, name=f"{ens}.clock")
        model.sig[neurons]["clock"] = clock
        states = [clock]
        state.clock = None  # the signal's initial value, never written
    for op in encode + neuron_ops + decode_ops + ([] if direct_input else bias_copy):
        model.operators.remove(op)
    base = neuron_in if direct_input else np.asarray(built.bias, dtype=np.float64)
    model.add_op(
        SimSubpopulation(
            state,
            sig_in,
            base,
            model.step,
            model.sig[neurons]["out"],
            states,
            decoded,
            tag=f"{ens} fused step",
        )
    )
    return True
