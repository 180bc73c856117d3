"""Sub-population ensembles: millions of neurons, each encoding one dimension.

The ``"subpopulations"`` layout is a `SubpopulationEnsemble` (a `nengo.Ensemble`)
whose encoders come from `SubpopulationEncoders` (each neuron encodes one dimension,
+1 or -1, in contiguous blocks), decoded by a `SubpopulationConnection` (a
`nengo.Connection`) with `SubpopulationSolver`: the neurons of each dimension are
split into groups of about ``group_size`` whose decoders are solved independently
and averaged. Everything that depends on the seed happens at build time, in Nengo's
builder, with Nengo's seeds; the cost grows linearly with the number of neurons.
The network therefore runs, unchanged, on any Nengo simulator.

On Nengo's reference simulator, the builders registered here for the ensemble and
the connection emit, instead of the ensemble's generic operators (encoding
product, neuron step, decoding product: three passes over the neurons, two of
them dense ``n x d`` products), one fused operator, `SimSubpopulation`
(`nengo_lmu.networks.fused`), that computes the input current, the rate, the
spikes and the decoded output in one pass. Whether they do is the ensemble's
``fuse`` option (default True), settable through a network's config.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import nengo
import numpy as np
from nengo.builder import Builder, Signal
from nengo.builder.connection import BuiltConnection, build_connection
from nengo.builder.ensemble import (
    BuiltEnsemble,
    build_ensemble,
    gen_eval_points,
    get_gain_bias,
)
from nengo.builder.operator import Copy, DotInc, ElementwiseInc, Reset
from nengo.builder.transforms import multiply
from nengo.cache import Fingerprint, NoDecoderCache, check_attrs
from nengo.dists import get_samples
from nengo.exceptions import BuildError, ValidationError
from nengo.params import BoolParam, Default, EnumParam, NumberParam
from nengo.rc import rc
from nengo.solvers import Solver
from nengo.transforms import Dense, NoTransform
from scipy.linalg import lapack
from threadpoolctl import threadpool_limits

from nengo_lmu.networks import _kernels
from nengo_lmu.networks.fused import (
    FusedState,
    SimSubpopulation,
    fused_parameters,
    solver_rate_parameters,
)

DEFAULT_GROUP_SIZE = 200

# Part of the decoder cache's key for `SubpopulationSolver`: raise it whenever
# `solve_groups` changes its results, so that decoders cached by an earlier
# version are not loaded.
SOLVER_REVISION = 3

# Precisions of `SubpopulationSolver`'s Gram matrices and solves.
SOLVER_DTYPES = ("float64", "float32")


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

    def dims(self, n, d):
        """The dimension each of ``n`` neurons encodes."""
        return dimension_blocks(n, d)

    def sample_layout(self, n, d=None, rng=np.random):
        """What `sample` draws without forming the ``(n, d)`` rows: each neuron's
        dimension (the smallest unsigned type that holds ``d - 1``) and sign
        (int8, +1 or -1), from the same draws."""
        d = 1 if d is None else d
        dims = self.dims(n, d).astype(np.min_scalar_type(max(d - 1, 0)))
        signs = (2 * rng.randint(2, size=n) - 1).astype(np.int8)
        return dims, signs

    def sample(self, n, d=None, rng=np.random):
        d = 1 if d is None else d
        return one_hot_rows(*self.sample_layout(n, d, rng=rng), d)


def one_hot_rows(dims, values, d):
    """The ``(n, d)`` rows with ``values[i]`` in column ``dims[i]``, zeros
    elsewhere (float64)."""
    rows = np.zeros((dims.shape[0], d))
    rows[np.arange(dims.shape[0]), dims] = values
    return rows


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


def dimension_groups(dims, group_size):
    """Each dimension's neurons split into groups of about ``group_size``, one
    dimension at a time (so that only one dimension's indices are formed).

    Yields
    ------
    groups : list of int arrays
        The neuron indices of each group of one dimension.
    shares : list of float
        Each group's weight in its dimension's average of group decoders (its
        size over the dimension's neurons).
    """
    for k in np.flatnonzero(np.bincount(dims)):
        idx = np.flatnonzero(dims == k)
        n_groups = max(1, int(round(len(idx) / group_size)))
        groups = np.array_split(idx, n_groups)
        yield groups, [len(part) / len(idx) for part in groups]


def groups_of(dims, group_size):
    """Split each dimension's neurons into groups of about ``group_size``.

    Returns
    -------
    groups : list of int arrays
        The neuron indices of each group (`dimension_groups`, all dimensions).
    weights : (n,) array
        Each neuron's weight in its dimension's average of group decoders
        (group size over the dimension's neurons).
    """
    groups = []
    weights = np.zeros(dims.shape[0])
    for parts, shares in dimension_groups(dims, group_size):
        for part, share in zip(parts, shares):
            groups.append(part)
            weights[part] = share
    return groups, weights


def _ridge(A, t, reg, dtype=np.float64):
    """Ridge decoders of ``t`` for a stack of activity matrices A (G, P, k),
    Nengo's LstsqL2 convention: ``sigma = reg * max(A)`` per group; the Gram
    matrices and the solves in ``dtype``."""
    P, k = A.shape[1], A.shape[2]
    As = A.astype(dtype, copy=False)
    AtA = np.matmul(As.transpose(0, 2, 1), As)
    sigma = reg * As.max(axis=(1, 2))
    AtA[:, np.arange(k), np.arange(k)] += (P * sigma**2)[:, None]
    Aty = np.matmul(As.transpose(0, 2, 1), t.astype(dtype))
    if np.dtype(dtype) != np.float32:
        return np.linalg.solve(AtA, Aty[..., None])[..., 0]
    # single precision: Cholesky (the regularized Gram matrix is positive
    # definite), a group at a time; transposed, each is in LAPACK's order
    out = np.empty(Aty.shape)
    for g in range(AtA.shape[0]):
        _, x, info = lapack.sposv(AtA[g].T, Aty[g], overwrite_a=1, overwrite_b=1)
        if info != 0:  # not positive definite in float32: this group in float64
            x = _ridge(A[g : g + 1], t, reg)[0]
        out[g] = x
    return out


def solver_threads():
    """The threads `solve_groups` spreads its solves over: the cores this
    process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _ridge_threaded(A, t, reg, dtype, pool, n_threads):
    """`_ridge` of ``n_threads`` contiguous slices of the groups, on the threads
    of ``pool`` (None: in this thread). Each group's solve is its own BLAS call,
    so the result does not depend on the slicing."""
    if pool is None:
        return _ridge(A, t, reg, dtype)
    bounds = np.linspace(0, A.shape[0], n_threads + 1).astype(int)
    parts = [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    return np.concatenate(
        list(pool.map(lambda ab: _ridge(A[ab[0] : ab[1]], t, reg, dtype), parts))
    )


def solve_groups(
    neuron_type,
    gain,
    bias,
    signs,
    groups,
    t,
    reg,
    chunk_neurons,
    use_numba=True,
    dtype=np.float64,
    n_threads=None,
    radius=1.0,
    out=None,
):
    """Each group's ridge decoder of its own value ``t`` (points in [-1, 1]),
    for neurons of gains ``gain / radius``; into ``out`` (only the groups'
    neurons written) where given.

    The rates of a group's neurons at the points are computed a chunk of groups
    at a time (memory ~ ``chunk_neurons * len(t)``), compiled for the neuron
    types the kernels know (with numba where installed, unless ``use_numba`` is
    False), else by ``neuron_type.rates``. The groups' Gram matrices and solves
    (in ``dtype``) are spread over ``n_threads`` threads (default
    `solver_threads`), with BLAS held to one thread each: the decoders are the
    same for any number of threads, and on any number of cores.
    """
    decoders = np.empty(gain.shape[0]) if out is None else out
    rate = solver_rate_parameters(neuron_type)
    sizes = np.array([len(g) for g in groups])
    n_threads = solver_threads() if n_threads is None else int(n_threads)
    pool = ThreadPoolExecutor(n_threads) if n_threads > 1 else None
    try:
        with threadpool_limits(1, user_api="blas"):
            for size in np.unique(sizes):
                same = [g for g, s in zip(groups, sizes) if s == size]
                per_chunk = max(1, chunk_neurons // size)
                for c0 in range(0, len(same), per_chunk):
                    idx = np.stack(same[c0 : c0 + per_chunk])  # (G, k)
                    enc_gain = signs[idx] * (gain[idx] / radius)
                    if rate is not None:
                        A = _kernels.group_rates(
                            t,
                            enc_gain,
                            bias[idx],
                            *rate,
                            use_numba=use_numba,
                            dtype=dtype,
                        )
                    else:
                        J = t[None, :, None] * enc_gain[:, None, :]
                        J += bias[idx][:, None, :]
                        A = neuron_type.rates(J.reshape(-1), 1.0, 0.0)
                        A = A.reshape(J.shape)
                    decoders[idx] = _ridge_threaded(A, t, reg, dtype, pool, n_threads)
    finally:
        if pool is not None:
            pool.shutdown()
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
    dtype : {"float64", "float32"}
        Precision of the groups' Gram matrices and solves. ``"float32"`` halves
        their cost (a build of 10^7 neurons took 67 % of the time, one of 10^8
        66 %); with ``reg`` of 0.1 its decoders differ from float64's by at
        most about 1e-3 of the largest (rms 1e-4), and a memory's error is
        unchanged (``benchmarks/solver_precision.py``). Its rounding grows with
        the Gram matrices' condition number, about ``group_size / reg**2``, so
        it needs ``reg`` of at least 0.01.
    """

    compositional = True
    group_size = NumberParam("group_size", low=1)
    reg = NumberParam("reg", low=0)
    n_points = NumberParam("n_points", low=2, optional=True)
    dtype = EnumParam("dtype", values=SOLVER_DTYPES)

    def __init__(
        self, group_size=DEFAULT_GROUP_SIZE, reg=0.1, n_points=None, dtype="float64"
    ):
        super().__init__(weights=False)
        self.group_size = group_size
        self.reg = reg
        self.n_points = n_points
        self.dtype = dtype
        if self.dtype == "float32" and self.reg < 0.01:
            raise ValidationError(
                f"dtype='float32' needs reg >= 0.01 (got reg={self.reg}): its "
                "rounding grows with group_size / reg**2",
                attr="reg",
                obj=self,
            )

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
            dec[g] = _ridge(A[None, :, g], t, self.reg, self.dtype)[0]
        decoders = np.zeros((n, d))
        decoders[np.arange(n), dims] = dec * weights
        return decoders, {"groups": len(groups)}


Fingerprint.whitelist(SubpopulationSolver, check_attrs)


def _layout_of(built):
    """``(dims, signs)`` of a built ensemble's one-hot encoders."""
    if isinstance(built, BuiltSubpopulation):
        return built.dims, built.signs
    return one_hot_layout(built.encoders)


def solve_subpopulation(model, solver, conn, rng, dims, signs):
    """The decoder of each neuron of ``conn.pre`` (a sub-population ensemble,
    whose neurons encode dimensions ``dims`` with ``signs``) for its own
    dimension: ``(points, decoders (n,), solver_info)``.

    Seeded connections go through Nengo's decoder cache (`nengo.cache`), as
    Nengo's own solvers do, keyed on the solver, the neuron type, the gains and
    biases, the encoders' layout, the radius and the evaluation points; what is
    cached is the ``n`` decoders, not an ``n x d`` matrix.
    """
    ens = conn.pre_obj
    if not isinstance(ens, nengo.Ensemble) or conn.function is not None:
        raise BuildError(
            f"{conn}: SubpopulationSolver decodes an ensemble's represented value "
            "(no function)"
        )
    built = model.params[ens]
    t = solver.points()

    def solve(conn, gain, bias, key, targets, rng=None):
        # Nengo's solver signature, for its decoder cache. ``key`` stands in for
        # the encoded evaluation points (n_points x n, never formed): what the
        # solve depends on besides the gains, biases and points (the encoders'
        # layout, the radius, the dimensions and SOLVER_REVISION)
        dec = np.empty(gain.shape[0])
        n_groups = 0
        for groups, shares in dimension_groups(dims, int(solver.group_size)):
            solve_groups(
                ens.neuron_type,
                gain,
                bias,
                signs,
                groups,
                targets[:, 0],
                solver.reg,
                chunk_neurons=20_000,
                use_numba=getattr(ens, "use_numba", True),
                dtype=solver.dtype,
                radius=ens.radius,
                out=dec,
            )
            for group, share in zip(groups, shares):
                dec[group] *= share
            n_groups += len(groups)
        dec *= ens.radius
        return dec[:, None], {"groups": n_groups}

    key = None  # formed for the cache only (n numbers more)
    if model.seeded[conn] and not isinstance(model.decoder_cache, NoDecoderCache):
        solve = model.decoder_cache.wrap_solver(solve)
        header = np.array([SOLVER_REVISION, ens.radius, ens.dimensions])
        layout = signs.astype(np.int32) * (dims.astype(np.int32) + 1)
        key = np.concatenate([header.view(np.int32), layout])[None, :]
    decoders, info = solve(conn, built.gain, built.bias, key, t[:, None], rng)
    return t, decoders[:, 0], info


@Builder.register(SubpopulationSolver)
def build_subpopulation_solver(model, solver, conn, rng):
    """Nengo builder of `SubpopulationSolver` (decoded connection from an
    ensemble with one-hot encoders, no function): linear in the neurons
    (`solve_subpopulation`).

    Returns ``(eval_points, decoders, solver_info)`` as Nengo's solver builders do
    (decoders ``d x n``)."""
    ens = conn.pre_obj
    dims, signs = _layout_of(model.params[ens])
    t, decoders, info = solve_subpopulation(model, solver, conn, rng, dims, signs)
    full = one_hot_rows(dims, decoders, ens.dimensions)
    return diagonal_eval_points(ens.dimensions, len(t)), full.T[conn.pre_slice], info


class SubpopulationEnsemble(nengo.Ensemble):
    """A `nengo.Ensemble` whose neurons each encode one dimension, with the option
    of a fused step on Nengo's reference simulator.

    Takes every argument of `nengo.Ensemble` (give it `SubpopulationEncoders`, as
    `nengo_lmu.networks.subpopulation_ensemble` does) and two options of its own,
    read when the ensemble is built; as any parameter of a Nengo object, their
    defaults can be set through a network's config::

        with nengo.Network() as net:
            net.config.configures(SubpopulationEnsemble)
            net.config[SubpopulationEnsemble].fuse = False  # Nengo's operators
            memory = LMUMemory(6, 1.0, 100_000, layout="subpopulations")

    Its builder (`build_subpopulation_ensemble`) emits, on ``nengo.Simulator``, one
    `SimSubpopulation` operator instead of Nengo's bias copy, neuron operator(s)
    and encoding product; a `SubpopulationConnection` from it adds its decoding
    product to that operator. Elsewhere it builds Nengo's operators: on other
    simulators' builders, for neuron types the kernels do not run
    (`nengo_lmu.networks.fused.fused_parameters`), with ensemble noise, with a
    probe of the neurons' input or of a state other than ``voltage``, with a
    learning rule on its encoders, or encoders of more than one nonzero per
    neuron.

    Parameters
    ----------
    *args, **kwargs
        Those of `nengo.Ensemble`.
    fuse : bool, optional
        Whether to emit the fused step where it can run (default True). False
        builds Nengo's own operators: the reference to compare against.
    use_numba : bool, optional
        Whether the fused step and `SubpopulationSolver`'s rates run compiled by
        numba, where it is installed (default True). False runs the numpy code,
        which does the same arithmetic.
    """

    fuse = BoolParam("fuse", default=True)
    use_numba = BoolParam("use_numba", default=True)

    def __init__(self, *args, fuse=Default, use_numba=Default, **kwargs):
        super().__init__(*args, **kwargs)
        self.fuse = fuse
        self.use_numba = use_numba


class SubpopulationConnection(nengo.Connection):
    """A `nengo.Connection` decoding a `SubpopulationEnsemble`, fused into its step.

    Takes every argument of `nengo.Connection` (decode with `SubpopulationSolver`).
    Where its ``pre`` runs the fused step, its builder
    (`build_subpopulation_connection`) gives its decoders to that step instead of
    emitting Nengo's decoding product: the decoded output comes out of the same
    pass over the neurons. One connection per ensemble is fused: the first built
    whose weights have one nonzero per neuron (no function, no slice of ``pre``, no
    transform or a `nengo.Dense` one that keeps the dimensions apart, no learning
    rule, not into neurons); any other is built as Nengo builds a connection.
    """


class BuiltSubpopulation(BuiltEnsemble):
    """What `build_subpopulation_ensemble` builds: a `BuiltEnsemble` whose
    ``encoders`` and ``scaled_encoders`` (``n x d``) are formed when read, from
    ``dims`` and ``signs`` (each neuron's dimension and sign), and ``step``, the
    ensemble's `SimSubpopulation` (which its decoding connection's builder
    decodes into).

    A sub-population ensemble keeps a few numbers per neuron, not ``d``: at
    ``10^8`` neurons an ``n x d`` array of order 6 is 4.8 GB. Its ``max_rates``
    and ``intercepts`` (which the simulation does not use) are drawn again when
    read, from the random state the build drew them with (``drawn``): the same
    numbers, as long as the ensemble's ``max_rates``, ``intercepts``, ``gain``
    and ``bias`` are not changed after the build.
    """

    def __new__(cls, eval_points, gain, bias, step, dims, signs, ensemble, drawn):
        self = super().__new__(cls, eval_points, None, None, None, None, gain, bias)
        self.step, self.dims, self.signs = step, dims, signs
        self.radius = float(ensemble.radius)
        self._ensemble, self._drawn = ensemble, drawn
        return self

    def _draw(self):
        rng = np.random.RandomState()
        rng.set_state(self._drawn)
        return get_gain_bias(self._ensemble, rng, dtype=self.gain.dtype)

    @property
    def max_rates(self):
        return self._draw()[2]

    @property
    def intercepts(self):
        return self._draw()[3]

    @property
    def encoders(self):
        return one_hot_rows(self.dims, self.signs, self.eval_points.shape[1])

    @property
    def scaled_encoders(self):
        return self.encoders * (self.gain / self.radius)[:, np.newaxis]


class BuiltSubpopulationConnection(BuiltConnection):
    """A `BuiltConnection` fused into its ``pre``'s step (a `SimSubpopulation`):
    ``weights`` (``d x n``) formed when read, from the decoders that step keeps
    (each neuron's, of its own dimension)."""

    def __new__(cls, eval_points, solver_info, transform, step):
        self = super().__new__(cls, eval_points, solver_info, None, transform)
        self.step = step
        return self

    @property
    def weights(self):
        s = self.step.fused
        n = s.decoders.shape[0]
        neurons = np.arange(n) if s.layout is None else s.layout.order
        weights = np.zeros((self.eval_points.shape[1], n))
        weights[s.dims, neurons] = s.decoders
        return weights


def _probed(model, obj, attr):
    """Whether the network being built probes ``attr`` of ``obj``."""
    network = model.toplevel
    if not isinstance(network, nengo.Network):  # pragma: no cover - built alone
        return True
    return any(p.obj is obj and p.attr == attr for p in network.all_probes)


def _is_neurons_of(obj, ens):
    # Ensemble.neurons makes a new Neurons object at each access
    return isinstance(obj, nengo.ensemble.Neurons) and obj.ensemble is ens


def _network_links(model, ens):
    """What the network being built does with ``ens``, in one pass over its
    probes and connections.

    Returns None if it needs Nengo's operators (a probe of the neurons' input or
    of a state the fused step does not keep, a learning rule on the encoders),
    else ``(direct_input, output_read)``: whether other connections feed the
    neurons directly (then the fused step reads their input current), and
    whether anything but a `SubpopulationConnection` from ``ens`` reads the
    neurons' output (a probe of ``ens``, of its neurons or of a connection from
    them, whose ``input`` is their output; another connection from them). A
    SubpopulationConnection that is not fused turns the output on when built.
    """
    network = model.toplevel
    if not isinstance(network, nengo.Network):  # pragma: no cover - built alone
        return True, True

    def from_ens(obj):
        return obj is ens or _is_neurons_of(obj, ens)

    output_read = False
    for probe in network.all_probes:
        if _is_neurons_of(probe.obj, ens) and probe.attr not in ("output", "voltage"):
            return None
        output_read = output_read or from_ens(probe.obj)
        output_read = output_read or (
            isinstance(probe.obj, nengo.Connection) and from_ens(probe.obj.pre_obj)
        )
    direct_input = False
    for conn in network.all_connections:
        rules = conn.learning_rule_type
        rules = rules.values() if isinstance(rules, dict) else rules
        rules = rules if isinstance(rules, (list, tuple)) else [rules]
        if conn.post_obj is ens and any(
            getattr(r, "modifies", None) == "encoders" for r in rules
        ):
            return None
        direct_input = direct_input or _is_neurons_of(conn.post_obj, ens)
        output_read = output_read or _is_neurons_of(conn.pre_obj, ens)
        output_read = output_read or (
            conn.pre_obj is ens and not isinstance(conn, SubpopulationConnection)
        )
    return direct_input, output_read


def _sampled_encoders(ens, rng):
    """The ensemble's encoders, drawn and normalized as Nengo's builder does."""
    if isinstance(ens.encoders, nengo.dists.Distribution):
        encoders = get_samples(ens.encoders, ens.n_neurons, ens.dimensions, rng=rng)
    else:
        encoders = ens.encoders
    encoders = np.array(encoders, dtype=rc.float_dtype, ndmin=2)
    if ens.normalize_encoders:
        encoders /= np.sqrt(np.sum(encoders**2, axis=1, keepdims=True))
    return encoders


def _neuron_state_signals(model, ens):
    """The neurons' state signals (``voltage``...), initialized as Nengo's neuron
    builder does (the ensemble's seed plus one; a rates-to-spikes type: its base
    type's state and its own)."""
    neuron_type = ens.neuron_type
    types = [neuron_type]
    if isinstance(neuron_type, nengo.neurons.RatesToSpikesNeuronType):
        types.insert(0, neuron_type.base_type)
    for t in types:
        rng = np.random.RandomState(model.seeds[ens] + 1)
        for key, init in t.make_state(ens.n_neurons, rng, rc.float_dtype).items():
            if isinstance(init, np.ndarray):
                model.sig[ens.neurons][key] = Signal(
                    initial_value=init, name=f"{ens.neurons}.{key}"
                )


@Builder.register(SubpopulationEnsemble)
def build_subpopulation_ensemble(model, ens):
    """Nengo builder of `SubpopulationEnsemble`: the fused step where it can run.

    Draws the evaluation points, encoders, gains, biases and neuron states with
    Nengo's seeds, as `nengo.builder.ensemble.build_ensemble` does, makes the
    same signals, and emits one `SimSubpopulation` (plus the bias copy where other
    connections feed the neurons) instead of the bias copy, neuron operator(s)
    and encoding product. Where the fused step cannot run (see
    `SubpopulationEnsemble`), or with ``fuse=False``, calls Nengo's builder.

    Sets ``model.params[ens]`` to a `BuiltSubpopulation`.
    """
    params = fused_parameters(ens.neuron_type)
    fusable = ens.fuse and params is not None and ens.noise is None
    # other simulators' builders (nengo_dl's...) cannot run SimSubpopulation
    fusable = fusable and type(model.builder) is Builder
    # None: Nengo's operators; else whether connections feed the neurons directly
    links = _network_links(model, ens) if fusable else None
    if links is None:
        return build_ensemble(model, ens)
    direct_input, output_read = links
    rng = np.random.RandomState(model.seeds[ens])
    eval_points = gen_eval_points(ens, ens.eval_points, rng=rng, dtype=rc.float_dtype)
    n, d = ens.n_neurons, ens.dimensions
    if isinstance(ens.encoders, SubpopulationEncoders):  # (dims, signs) only
        dims, signs = ens.encoders.sample_layout(n, d, rng=rng)
    else:
        encoders = _sampled_encoders(ens, rng)
        if not np.all(np.count_nonzero(encoders, axis=1) == 1):
            return build_ensemble(model, ens)
        dims, signs = one_hot_layout(encoders)
        del encoders
    drawn = rng.get_state()  # BuiltSubpopulation draws max_rates... again when read
    gain, bias, _, _ = get_gain_bias(ens, rng, dtype=rc.float_dtype)
    sig, neurons = model.sig, ens.neurons
    sig[ens]["in"] = Signal(shape=d, name=f"{ens}.signal")
    model.add_op(Reset(sig[ens]["in"]))
    if direct_input:  # the input current (without it the step reads the bias)
        sig[neurons]["in"] = Signal(shape=n, name=f"{ens}.neuron_in")
    sig[neurons]["out"] = sig[ens]["out"] = Signal(shape=n, name=f"{ens}.neuron_out")
    sig[neurons]["bias"] = Signal(bias, name=f"{ens}.bias", readonly=True)
    _neuron_state_signals(model, ens)
    step = _emit_fused_step(
        model, ens, params, dims, signs, gain, bias, direct_input, output_read
    )
    built = BuiltSubpopulation(eval_points, gain, bias, step, dims, signs, ens, drawn)
    if _probed(model, ens, "scaled_encoders"):
        sig[ens]["encoders"] = Signal(
            built.scaled_encoders, name=f"{ens}.scaled_encoders", readonly=True
        )
    model.params[ens] = built


def _emit_fused_step(
    model, ens, params, dims, signs, gain, bias, direct_input, output_read
):
    """Add the `SimSubpopulation` of ``ens`` (and the bias copy, with
    ``direct_input``) to the model, running the neuron type as ``params`` says
    (`fused_parameters`); a Poisson step writes the neurons' output only if
    ``output_read``. Return it."""
    sig, neurons = model.sig, ens.neurons
    enc_gain = gain / ens.radius
    enc_gain *= signs  # +-1: the same as signs * gain / radius
    state = FusedState(
        dims,
        enc_gain,
        params,
        model.dt,
        model.seeds[ens],
        None,
        ens.dimensions,
        bias=None if direct_input else bias,
        use_numba=ens.use_numba,
        draw_clocks=False,
    )
    del enc_gain  # the state keeps it in its own order
    states = [
        sig[neurons][name]
        for name in {
            _kernels.LIF: ["voltage", "refractory_time"],
            _kernels.REGULAR: ["voltage"],
        }.get(params["spike_kind"], [])
    ]
    if params["spike_kind"] == _kernels.POISSON:
        # zeros (untouched pages: no memory) until the first step draws the
        # initial clocks (SimSubpopulation.make_step)
        states = [Signal(np.zeros(ens.n_neurons), name=f"{ens}.clock")]
        sig[neurons]["clock"] = states[0]
    if direct_input:
        model.add_op(Copy(sig[neurons]["bias"], sig[neurons]["in"]))
        base = sig[neurons]["in"]
    else:
        base = np.asarray(bias, dtype=np.float64)
    step = SimSubpopulation(
        state,
        sig[ens]["in"],
        base,
        model.step,
        sig[neurons]["out"],
        states,
        None,
        tag=f"{ens} fused step",
        write=params["spike_kind"] != _kernels.POISSON or output_read,
    )
    model.add_op(step)
    return step


def _step_to_decode(model, conn):
    """The fused step ``conn`` can decode into, or None."""
    step = getattr(model.params.get(conn.pre_obj), "step", None)
    plain = (
        conn.function is None
        and conn.learning_rule_type is None
        and type(conn.transform) in (Dense, NoTransform)
        and not conn.solver.weights
        and not isinstance(conn.post_obj, nengo.ensemble.Neurons)
        and conn.post_obj in model.sig
        and "in" in model.sig[conn.post_obj]
    )
    return step if plain and step is not None and not step.incs else None


def _per_neuron(weights, encoders):
    """The one decoder per neuron (of its own dimension) that ``weights``
    (``d x n``) holds, or None if it holds others too."""
    n = encoders.shape[0]
    if weights.shape != (encoders.shape[1], n):
        return None
    dims, _ = one_hot_layout(encoders)
    decoders = np.ascontiguousarray(weights[dims, np.arange(n)])
    if np.count_nonzero(weights) != np.count_nonzero(decoders):
        return None
    return decoders


@Builder.register(SubpopulationConnection)
def build_subpopulation_connection(model, conn):
    """Nengo builder of `SubpopulationConnection`: the decoders go into the fused
    step of its ``pre`` where they can (see `SubpopulationConnection`).

    Solves the decoders and makes the connection's signals and parameters as
    `nengo.builder.connection.build_connection` does (weights, weighted output,
    synapse, the copy into ``post``), but the fused step, not a dense product,
    increments the weighted output. Otherwise calls Nengo's builder.
    """
    step = _step_to_decode(model, conn)
    if step is None:
        _reads_output(model, conn)
        return build_connection(model, conn)
    rng = np.random.RandomState(model.seeds[conn])
    sig = model.sig[conn]
    sig["in"] = model.sig[conn.pre_obj]["out"]
    sig["out"] = model.sig[conn.post_obj]["in"]
    transform = conn.transform
    if isinstance(transform, NoTransform):  # decoded: Nengo's identity
        transform = Dense((transform.size_out, transform.size_in), init=1.0)
    built_pre = model.params[conn.pre_obj]
    matrix = transform.sample(rng=rng).astype(rc.float_dtype)
    scale = _diagonal(matrix, conn.pre_obj.dimensions)
    if (
        scale is not None
        and isinstance(conn.solver, SubpopulationSolver)
        and isinstance(built_pre, BuiltSubpopulation)
        and conn.pre_slice == slice(None)
        and not _probed(model, conn, "weights")
    ):  # each neuron's decoder alone: no d x n matrix
        dims = built_pre.dims
        t, decoders, solver_info = solve_subpopulation(
            model, conn.solver, conn, rng, dims, built_pre.signs
        )
        weighted = Signal(shape=transform.size_out, name=f"{transform}.weighted")
        model.add_op(Reset(weighted))
        # each neuron's scale[dims] * decoder = (transform @ decoders)[dims, i]
        step.decode(decoders, weighted, scale=scale)
        eval_points = diagonal_eval_points(conn.pre_obj.dimensions, len(t))
        del decoders  # the step keeps them, in its own order
        built = BuiltSubpopulationConnection(
            eval_points, solver_info, conn.transform, step
        )
        _finish_connection(model, conn, weighted)
        model.params[conn] = built
        return
    eval_points, decoders, solver_info = model.build(conn.solver, conn, rng)
    weights = multiply(matrix, decoders.astype(rc.float_dtype))
    sig["weights"] = Signal(weights, readonly=True, name=f"{transform}.weights")
    weighted = Signal(shape=transform.size_out, name=f"{transform}.weighted")
    model.add_op(Reset(weighted))
    per_neuron = _per_neuron(weights, built_pre.encoders)
    if per_neuron is not None:
        step.decode(per_neuron, weighted)
    else:
        _reads_output(model, conn)
        product = ElementwiseInc if weights.ndim < 2 else DotInc
        model.add_op(product(sig["weights"], sig["in"], weighted, tag=f"{conn}"))
    _finish_connection(model, conn, weighted)
    model.params[conn] = BuiltConnection(
        eval_points=eval_points,
        solver_info=solver_info,
        transform=conn.transform,
        weights=weights,
    )


def _reads_output(model, conn):
    """``conn`` reads its ``pre``'s neuron output: a fused step writes it."""
    step = getattr(model.params.get(conn.pre_obj), "step", None)
    if step is not None:
        step.write_output()


def _finish_connection(model, conn, weighted):
    """The synapse on ``weighted`` and its copy into ``post``, as Nengo's
    connection builder does."""
    sig = model.sig[conn]
    if conn.synapse is not None:
        weighted = model.build(conn.synapse, weighted, mode="update")
    sig["weighted"] = weighted
    model.add_op(
        Copy(weighted, sig["out"], dst_slice=conn.post_slice, inc=True, tag=f"{conn}")
    )


def _diagonal(matrix, d):
    """The ``d`` scales of a transform's sample that keeps the dimensions apart
    (a scalar, ``d`` scales, or a ``d x d`` matrix with nothing off its
    diagonal), else None."""
    if matrix.ndim < 2:
        return np.broadcast_to(matrix, (d,)).copy() if matrix.size in (1, d) else None
    if matrix.shape != (d, d):
        return None
    diagonal = np.diag(matrix).copy()
    return diagonal if np.count_nonzero(matrix - np.diag(diagonal)) == 0 else None
