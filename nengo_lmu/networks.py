"""Spiking realizations of the LMU memory (NEF Principle 3) as Nengo networks."""

import nengo
import numpy as np
from nengo.builder import Builder
from nengo.builder.network import build_network
from nengo.exceptions import BuildError, ValidationError

from nengo_lmu._validation import check_choice, check_order, check_positive
from nengo_lmu.mapping import MAPPINGS, principle3
from nengo_lmu.systems import (
    default_input_process,
    discretize,
    legendre_readout,
    lmu_matrices,
    realize,
    simulate_memory,
    window_readout,
)

LAYOUTS = ("auto", "ensemble", "per-dimension", "subpopulations")
NETWORK_REALIZATIONS = ("legendre", "balanced")

# Above this many neurons per state dimension, "auto" switches from nengo-solved
# per-dimension ensembles to sub-populations with batched, independently solved
# decoders. Nengo's default solver on a 1-D ensemble measured here: 2,000 neurons
# 1.1 s / 0.37 GB, 5,000 neurons 7.8 s / 2.0 GB (2 CPU cores, nengo 4.1);
# an order-6 memory of 10,000 neurons (1,667 per state) took 26 s to build and run
# per-dimension, and the sub-population error was the same within noise.
AUTO_SUBPOPULATION_THRESHOLD = 1000

# Default sub-population size: big enough for a well-conditioned 1-D decoder,
# small enough that the batched Gram matrices stay cheap (cost ~ n_neurons * size).
DEFAULT_SUBPOPULATION_SIZE = 200


def _default_neuron_type():
    return nengo.LIF()


def solve_subpopulation_decoders(
    neuron_type,
    gain,
    bias,
    encoders,
    group_sizes,
    n_eval_points=None,
    reg=0.1,
    chunk_neurons=20_000,
):
    """Decoders for 1-D sub-populations, each solved independently (batched).

    Neurons are taken in consecutive groups of ``group_sizes``; each group's
    decoder of ``x`` in ``[-1, 1]`` (the value its neurons encode, with encoders
    +1 or -1) is the ridge solution ``(A^T A + n sigma^2 I)^-1 A^T x`` with
    ``sigma = reg * max(A)`` (Nengo's LstsqL2 convention). Never forms an
    ``n_neurons x n_neurons`` matrix; memory is bounded by ``chunk_neurons``.

    Parameters
    ----------
    neuron_type : nengo.neurons.NeuronType
    gain, bias : (n,) arrays
    encoders : (n,) array of +1 / -1
    group_sizes : int or sequence of int
        Sizes of the consecutive groups (summing to ``n``), or one size for all.
    n_eval_points : int, optional
        Evaluation points per group (default twice the largest group).
    reg : float
        Regularization, relative to the largest firing rate.

    Returns
    -------
    decoders : (n,) array
        Each group's decoder of its own value (not averaged across groups).
    """
    n = gain.shape[0]
    if np.isscalar(group_sizes):
        if n % group_sizes != 0:
            raise ValueError(
                f"n ({n}) is not a multiple of group_sizes ({group_sizes})"
            )
        group_sizes = [group_sizes] * (n // group_sizes)
    group_sizes = np.asarray(group_sizes, dtype=int)
    if group_sizes.sum() != n:
        raise ValueError(f"group_sizes sum to {group_sizes.sum()}, not n = {n}")
    starts = np.concatenate([[0], np.cumsum(group_sizes)[:-1]])
    n_eval_points = 2 * group_sizes.max() if n_eval_points is None else n_eval_points
    x = np.linspace(-1, 1, n_eval_points)
    decoders = np.empty(n)
    for size in np.unique(group_sizes):
        # Groups of one size are solved together, a chunk at a time.
        group_starts = starts[group_sizes == size]
        per_chunk = max(1, chunk_neurons // size)
        for c0 in range(0, len(group_starts), per_chunk):
            idx = group_starts[c0 : c0 + per_chunk, None] + np.arange(size)  # (G, k)
            J = x[None, :, None] * (encoders[idx] * gain[idx])[:, None, :]
            J += bias[idx][:, None, :]
            A = neuron_type.rates(J.reshape(-1), 1.0, 0.0).reshape(J.shape)
            AtA = np.matmul(A.transpose(0, 2, 1), A)
            sigma = reg * A.max(axis=(1, 2))
            AtA[:, np.arange(size), np.arange(size)] += (n_eval_points * sigma**2)[
                :, None
            ]
            Aty = np.matmul(A.transpose(0, 2, 1), x)  # (G, k)
            decoders[idx] = np.linalg.solve(AtA, Aty[..., None])[..., 0]
    return decoders


def subpopulation_ensemble(
    n_neurons,
    dimensions,
    neuron_type,
    rng,
    group_size=None,
    max_rates=None,
    intercepts=None,
    label=None,
):
    """An ensemble whose neurons each encode one dimension, decoded by groups.

    The ``n_neurons`` are split evenly over ``dimensions``; each dimension's
    neurons are split into groups of about ``group_size`` whose decoders are solved
    independently (`solve_subpopulation_decoders`) and averaged, weighted by group
    size. Build cost grows linearly with ``n_neurons``.

    Returns
    -------
    ensemble : nengo.Ensemble
        With explicit encoders, gains and biases (and tiny unused eval points).
    decoders : (dimensions, n_neurons) ndarray
        Connect ``ensemble.neurons`` with ``transform=decoders`` to decode the
        represented vector.
    """
    group_size = DEFAULT_SUBPOPULATION_SIZE if group_size is None else group_size
    max_rates = nengo.dists.Uniform(200, 400) if max_rates is None else max_rates
    intercepts = nengo.dists.Uniform(-1.0, 0.9) if intercepts is None else intercepts

    def sample(dist):
        if isinstance(dist, nengo.dists.Distribution):
            return dist.sample(n_neurons, rng=rng)
        return np.broadcast_to(np.asarray(dist, dtype=float), (n_neurons,))

    gain, bias = neuron_type.gain_bias(sample(max_rates), sample(intercepts))
    signs = rng.choice([-1.0, 1.0], size=n_neurons)
    per_dim = [len(a) for a in np.array_split(np.arange(n_neurons), dimensions)]
    dims = np.repeat(np.arange(dimensions), per_dim)
    group_sizes, weights = [], []
    for n_i in per_dim:
        n_groups = max(1, int(round(n_i / group_size)))
        sizes = [len(a) for a in np.array_split(np.arange(n_i), n_groups)]
        group_sizes.extend(sizes)
        # Every group decodes the whole value: average them, weighted by size.
        weights.extend(np.full(k, k / n_i) for k in sizes)
    dec = solve_subpopulation_decoders(neuron_type, gain, bias, signs, group_sizes)
    dec *= np.concatenate(weights)
    decoders = np.zeros((dimensions, n_neurons))
    decoders[dims, np.arange(n_neurons)] = dec
    encoders = np.zeros((n_neurons, dimensions))
    encoders[np.arange(n_neurons), dims] = signs
    ensemble = nengo.Ensemble(
        n_neurons,
        dimensions,
        encoders=encoders,
        gain=gain,
        bias=bias,
        neuron_type=neuron_type,
        # eval points are unused (decoders are solved here); keep them tiny
        eval_points=np.zeros((1, dimensions)),
        label=label,
    )
    return ensemble, decoders


class LMUMemory(nengo.Network):
    """An LMU memory built from recurrently connected spiking neurons.

    The memory of ``theta`` seconds of each input dimension is realized through NEF
    Principle 3: the chosen realization of the LMU system, each state scaled to the
    radius it reaches for the expected input, mapped onto ``synapse``.

    Parameters
    ----------
    order : int
        Memory order ``d`` (>= 1).
    theta : float
        Window length in seconds (> 0).
    n_neurons : int
        Total number of neurons ``m`` (split evenly over the input dimensions and,
        in the per-dimension and sub-population layouts, over the states).
    neuron_type : nengo.neurons.NeuronType, optional
        Default ``nengo.LIF()``. Tested with LIF, ``PoissonSpiking(LIFRate())``,
        ``SpikingRectifiedLinear`` and ``RegularSpiking(LIFRate())``.
    synapse : float or nengo.LinearFilter
        Synapse on the recurrent and input connections (default a 0.1 s lowpass: a
        long time constant averages more spikes; measured in
        ``benchmarks/choose_defaults.py``).
    mapping : {"discrete", "continuous"}
        Principle 3 mapping (see `nengo_lmu.mapping.principle3`). ``"discrete"`` is
        exact for the simulator time step ``dt``.
    dt : float
        Simulator time step the discrete mapping is made for.
    layout : {"auto", "ensemble", "per-dimension", "subpopulations"}
        ``"ensemble"``: one ``order``-D ensemble per input. ``"per-dimension"``: one
        1-D ensemble per state. ``"subpopulations"``: one large ensemble per input
        whose neurons each encode one state, in groups of ``subpopulation_size``
        neurons with independently solved decoders (scales to millions of
        neurons). ``"auto"``: per-dimension up to
        ``AUTO_SUBPOPULATION_THRESHOLD`` neurons per state, sub-populations above.
    realization : {"legendre", "balanced"}
        Basis of the represented state (before radius scaling).
    radii : "auto", float or array_like
        Radius of each realized state. ``"auto"`` measures the largest value each
        reaches for ``input_process``.
    input_process : nengo.Process, optional
        The expected input, for ``radii="auto"`` (default
        `nengo_lmu.systems.default_input_process`).
    size_in : int
        Number of input dimensions, each with its own memory.
    max_rates, intercepts : nengo.dists.Distribution, optional
        Tuning of the neurons (Nengo's defaults when not given).
    subpopulation_size : int
        Neurons per independently decoded group in the sub-population layout.
    solver : nengo.solvers.Solver, optional
        Decoder solver for the ensemble and per-dimension layouts.

    Attributes
    ----------
    input : nengo.Node
        ``size_in`` dimensions.
    output : nengo.Node
        The decoded memory, ``size_in * order`` dimensions, in the units (and the
        Legendre basis) of `nengo_lmu.LegendreMemory`'s output. Unfiltered: apply a
        synapse when probing.
    state : nengo.Node
        The decoded realized state (``size_in * order``, each in about [-1, 1]).
    ensembles : list of nengo.Ensemble
        (Nengo's own list) the memory's ensembles, in state order.
    realization : nengo_lmu.systems.Realization
        The realized (and scaled) system the neurons represent.
    """

    def __init__(
        self,
        order,
        theta,
        n_neurons,
        neuron_type=None,
        synapse=0.1,
        mapping="discrete",
        dt=0.001,
        layout="auto",
        realization="legendre",
        radii="auto",
        input_process=None,
        size_in=1,
        max_rates=None,
        intercepts=None,
        subpopulation_size=DEFAULT_SUBPOPULATION_SIZE,
        solver=None,
        label=None,
        seed=None,
        add_to_container=None,
    ):
        if seed is None and nengo.Network.context:
            # Inside a seeded network, derive our seed from it (and our position in
            # it), so that the neurons sampled here at construction time are as
            # reproducible as those Nengo samples at build time.
            parent = nengo.Network.context[-1]
            if parent.seed is not None:
                seed = (parent.seed * 1_000_003 + len(parent.all_objects)) % 2**31
        super().__init__(label=label, seed=seed, add_to_container=add_to_container)
        self.order = check_order(order, obj=self)
        self.theta = check_positive(theta, "theta", obj=self)
        self.dt = check_positive(dt, "dt", obj=self)
        self.size_in = check_order(size_in, obj=self, attr="size_in")
        check_choice(mapping, MAPPINGS, "mapping", obj=self)
        check_choice(layout, LAYOUTS, "layout", obj=self)
        check_choice(realization, NETWORK_REALIZATIONS, "realization", obj=self)
        if isinstance(n_neurons, bool) or not isinstance(n_neurons, (int, np.integer)):
            raise ValidationError(
                f"Must be an integer; got {n_neurons!r}", attr="n_neurons", obj=self
            )
        n_total = int(n_neurons)
        neuron_type = _default_neuron_type() if neuron_type is None else neuron_type
        if not isinstance(neuron_type, nengo.neurons.NeuronType):
            raise ValidationError(
                f"Must be a nengo NeuronType; got {neuron_type!r}",
                attr="neuron_type",
                obj=self,
            )
        self.neuron_type = neuron_type
        self.input_process = input_process
        if isinstance(synapse, (int, float)) and not isinstance(synapse, bool):
            synapse = nengo.Lowpass(check_positive(synapse, "synapse", obj=self))
        self.synapse = synapse
        self.mapping = mapping
        subpopulation_size = check_order(
            subpopulation_size, obj=self, attr="subpopulation_size"
        )

        per_input = n_total // self.size_in
        if layout == "auto":
            layout = (
                "subpopulations"
                if per_input / self.order > AUTO_SUBPOPULATION_THRESHOLD
                else "per-dimension"
            )
        self.layout = layout
        minimum = {
            "ensemble": 1,
            "per-dimension": self.order,
            "subpopulations": self.order,
        }[layout]
        if per_input < minimum:
            raise ValidationError(
                f"n_neurons={n_total} is too small for layout {layout!r} with "
                f"order={self.order} and size_in={self.size_in}: it needs at least "
                f"{minimum * self.size_in}",
                attr="n_neurons",
                obj=self,
            )

        # --- the system, in the chosen basis, scaled to unit radius
        base = realize(self.order, self.theta, realization)
        if isinstance(radii, str):
            check_choice(radii, ("auto",), "radii", obj=self)
            radii = base.state_radii(input_process, dt=self.dt)
        radii = np.broadcast_to(np.asarray(radii, dtype=float), (self.order,))
        self.realization = base.scaled(radii)
        try:
            A_H, B_H = principle3(
                self.realization.A,
                self.realization.B,
                synapse,
                mapping=mapping,
                dt=self.dt,
            )
        except ValidationError as e:
            raise ValidationError(str(e.args[0]), attr="synapse", obj=self) from e
        self.recurrent_transform = A_H
        self.input_transform = B_H

        rng = np.random.RandomState(seed)
        ens_kwargs = {"neuron_type": neuron_type}
        if max_rates is not None:
            ens_kwargs["max_rates"] = max_rates
        if intercepts is not None:
            ens_kwargs["intercepts"] = intercepts
        conn_kwargs = {} if solver is None else {"solver": solver}

        d = self.order
        with self:
            self.input = nengo.Node(size_in=self.size_in, label="input")
            self.state = nengo.Node(size_in=self.size_in * d, label="state")
            self.output = nengo.Node(size_in=self.size_in * d, label="output")
            for j in range(self.size_in):
                state_j = self.state[j * d : (j + 1) * d]
                # The output is decoded from the ensembles directly, not through the
                # state node: nengo_loihi's passthrough removal leaves a probed
                # passthrough node fed by another passthrough node unconnected.
                output_j = self.output[j * d : (j + 1) * d]
                T = self.realization.T
                n_j = per_input + (1 if j < n_total % self.size_in else 0)
                if layout == "ensemble":
                    ens = nengo.Ensemble(n_j, d, label=f"memory[{j}]", **ens_kwargs)
                    nengo.Connection(ens, state_j, synapse=None, **conn_kwargs)
                    nengo.Connection(
                        ens, output_j, transform=T, synapse=None, **conn_kwargs
                    )
                    targets = [(ens, slice(None))]
                elif layout == "per-dimension":
                    sizes = [len(a) for a in np.array_split(np.arange(n_j), d)]
                    targets = []
                    for i, n_i in enumerate(sizes):
                        ens = nengo.Ensemble(
                            n_i, 1, label=f"memory[{j}][{i}]", **ens_kwargs
                        )
                        nengo.Connection(
                            ens, self.state[j * d + i], synapse=None, **conn_kwargs
                        )
                        nengo.Connection(
                            ens,
                            output_j,
                            transform=T[:, i : i + 1],
                            synapse=None,
                            **conn_kwargs,
                        )
                        targets.append((ens, slice(i, i + 1)))
                else:
                    ens, decoders = subpopulation_ensemble(
                        n_j,
                        d,
                        neuron_type,
                        rng,
                        group_size=subpopulation_size,
                        max_rates=max_rates,
                        intercepts=intercepts,
                        label=f"memory[{j}]",
                    )
                    nengo.Connection(
                        ens.neurons, state_j, transform=decoders, synapse=None
                    )
                    # (here output reads the state node: one decode of m neurons
                    # per step instead of two; this layout is not meant for Loihi)
                    nengo.Connection(state_j, output_j, transform=T, synapse=None)
                    targets = [(ens, slice(None))]
                for ens, rows in targets:
                    nengo.Connection(state_j, ens, transform=A_H[rows], synapse=synapse)
                    nengo.Connection(
                        self.input[j], ens, transform=B_H[rows], synapse=synapse
                    )

    def add_readout(self, what, label=None, n_neurons=None, n_points=100, seed=0):
        """A node that reads delays or any function of the window out of the memory.

        Parameters
        ----------
        what : float, array_like or callable
            Delay(s) ``r`` as fractions of ``theta`` in ``[0, 1]`` (``u(t - r
            theta)``), or a function of the window: called on an array of
            ``n_points`` samples of ``u`` at times ``t - theta ... t`` (ascending),
            it returns a scalar or a 1-D array. A function that is linear in the
            window (checked by superposition on sample windows) is read out exactly
            by its projection onto the Legendre basis
            (`nengo_lmu.systems.window_readout`); any other (``np.max``, products
            of delays, ...) is decoded by ``n_neurons`` neurons from the memory
            (see Notes).
        label : str, optional
        n_neurons : int, optional
            Neurons of the ensemble that decodes a nonlinear function (required
            for one; unused otherwise).
        n_points : int
            Samples per window passed to a function.
        seed : int
            Seed of the sample windows of a nonlinear function.

        Returns
        -------
        node : nengo.Node
            ``size_in * n_out`` dimensions (input dimension ``j``'s readouts
            together), unfiltered like `output`.

        Notes
        -----
        A nonlinear function of the window is decoded from an ensemble that
        represents the memory's principal components for the expected input (the
        memory's ``input_process``), whitened and scaled so that 95 % of the
        states lie in the unit ball: the higher Legendre coefficients of a
        smooth input are small, and an ensemble spread evenly over all ``order``
        dimensions would spend most of its neurons where the memory never goes.
        Components with less than 5 % of the largest one's standard deviation are
        left out. The evaluation points are the exact memory of 2,000 windows of
        that process, and the targets the function of those same windows.
        """
        if not callable(what):
            C = legendre_readout(self.order, what)
            return self._linear_readout(C, label)
        states, windows = sample_windows(
            self.order,
            self.theta,
            self.input_process,
            n_points=n_points,
            dt=self.dt,
            seed=seed,
        )
        targets = np.array([np.atleast_1d(what(w)) for w in windows], dtype=float)
        if is_linear(what, windows, targets):
            C = window_readout(self.order, what, n_points=n_points)
            return self._linear_readout(C, label)
        if n_neurons is None:
            raise ValidationError(
                f"{what!r} is not linear in the window, so neurons must decode it: "
                f"give n_neurons (e.g. 2000)",
                attr="n_neurons",
                obj=self,
            )
        n_neurons = check_order(n_neurons, obj=self, attr="n_neurons")
        project, points = _whiten(states)
        n_out = targets.shape[1]
        with self:
            node = nengo.Node(size_in=self.size_in * n_out, label=label or "readout")
            for j in range(self.size_in):
                ens = nengo.Ensemble(
                    n_neurons,
                    len(project),
                    neuron_type=self.neuron_type,
                    eval_points=points,
                    label=f"{label or 'readout'}[{j}]",
                )
                nengo.Connection(
                    self.output[j * self.order : (j + 1) * self.order],
                    ens,
                    transform=project,
                    synapse=None,
                )
                nengo.Connection(
                    ens,
                    node[j * n_out : (j + 1) * n_out],
                    eval_points=points,
                    function=targets,
                    synapse=None,
                )
        return node

    def _linear_readout(self, C, label):
        n_out = C.shape[0]
        with self:
            node = nengo.Node(size_in=self.size_in * n_out, label=label or "readout")
            for j in range(self.size_in):
                nengo.Connection(
                    self.output[j * self.order : (j + 1) * self.order],
                    node[j * n_out : (j + 1) * n_out],
                    transform=C,
                    synapse=None,
                )
        return node


class RollingWindow(LMUMemory):
    """The last ``theta`` seconds of the input in spiking neurons, and any function
    of that window as an output.

    An `LMUMemory` (order ``order``) whose outputs are functions of the window:
    linear ones read out exactly by projection onto the Legendre basis,
    nonlinear ones decoded by neurons from the memory, with evaluation points
    drawn from windows of ``process`` (see `LMUMemory.add_readout`).

    Parameters
    ----------
    theta : float
        Window length in seconds (> 0).
    n_neurons : int
        Neurons of the memory.
    process : nengo.Process, optional
        The expected input: sets the memory's radii and the windows on which
        nonlinear outputs are fitted (default
        `nengo_lmu.systems.default_input_process`).
    order : int
        Memory order (default 6).
    **kwargs
        The other arguments of `LMUMemory`.

    Examples
    --------
    >>> import nengo
    >>> with nengo.Network(seed=0) as net:
    ...     u = nengo.Node(nengo.processes.WhiteSignal(10.0, high=2.0, rms=0.5))
    ...     window = RollingWindow(0.5, 2000, process=u.output, order=8)
    ...     _ = nengo.Connection(u, window.input, synapse=None)
    ...     peak = window.add_output(np.max, n_neurons=2000)  # decoded by neurons
    ...     mean = window.add_output(np.mean)  # linear: exact projection
    """

    def __init__(self, theta, n_neurons, process=None, order=6, **kwargs):
        super().__init__(order, theta, n_neurons, input_process=process, **kwargs)

    def add_output(self, function=None, t=None, n_neurons=None, label=None):
        """An output node: ``function`` of the window, or the window at times ``t``.

        Parameters
        ----------
        function : callable, optional
            A function of the window (see `LMUMemory.add_readout`).
        t : float or array_like, optional
            Instead of a function: delays as fractions of ``theta`` in [0, 1].
        n_neurons : int, optional
            Neurons decoding a nonlinear ``function``.
        label : str, optional
        """
        if (function is None) == (t is None):
            raise ValidationError(
                f"give exactly one of function and t; got function={function!r}, "
                f"t={t!r}",
                attr="function",
                obj=self,
            )
        what = t if function is None else function
        return self.add_readout(what, label=label, n_neurons=n_neurons)


def _whiten(states, keep=0.05, percentile=95):
    """A projection of memory states onto their whitened principal components.

    Returns ``project`` (k x order) and the projected states, scaled so that
    ``percentile`` % of them lie in the unit ball; components whose standard
    deviation is below ``keep`` times the largest one's are dropped.
    """
    _, singular_values, components = np.linalg.svd(states, full_matrices=False)
    std = singular_values / np.sqrt(len(states))
    k = max(1, int(np.sum(std > keep * std[0])))
    project = components[:k] / std[:k, None]
    points = states @ project.T
    scale = float(np.percentile(np.linalg.norm(points, axis=1), percentile))
    return project / scale, points / scale


def sample_windows(
    order, theta, process=None, n_windows=2000, n_points=100, dt=0.001, seed=0
):
    """Memory states and the windows they hold, for an input process.

    Runs independent realizations of ``process`` (default
    `nengo_lmu.systems.default_input_process`) through the exact memory, each
    ``6 theta`` long, and takes 25 windows from each, ``theta / 5`` apart after
    the first ``theta``. (Independent runs, because a periodic process such as
    `nengo.processes.WhiteSignal` repeats itself after its period: one long run
    would give few distinct windows.)

    Returns
    -------
    states : (n_windows, order) ndarray
        The exact memory at the end of each window.
    windows : (n_windows, n_points) ndarray
        ``u`` at ``n_points`` times ``t - theta ... t`` (ascending) of each window.
    """
    process = default_input_process(theta) if process is None else process
    rng = np.random.RandomState(seed)
    theta_steps = max(1, int(round(theta / dt)))
    stride = max(1, theta_steps // 5)
    per_run = 25
    ends = theta_steps + stride * np.arange(per_run)
    # sample times in steps back from each window's end, ascending in time
    back = np.round(np.linspace(theta_steps, 0, n_points)).astype(int)
    states, windows = [], []
    for _ in range(-(-n_windows // per_run)):
        u = process.run_steps(ends[-1] + 1, dt=dt, rng=rng)[:, 0]
        memory = simulate_memory(u[:, None], order, theta, dt=dt)[:, 0, :]
        states.append(memory[ends])
        windows.append(u[ends[:, None] - back[None, :]])
    return np.concatenate(states)[:n_windows], np.concatenate(windows)[:n_windows]


def is_linear(function, windows, values=None, rtol=1e-9):
    """Whether ``function`` is linear in the window, by superposition.

    Checks ``f(a w1 + b w2) = a f(w1) + b f(w2)`` on pairs of the given windows
    (and ``f(0) = 0``), to ``rtol`` of the values' scale.
    """
    rng = np.random.RandomState(0)
    values = (
        np.array([np.atleast_1d(function(w)) for w in windows], dtype=float)
        if values is None
        else values
    )
    scale = max(float(np.max(np.abs(values))), 1e-300)
    if np.max(np.abs(function(np.zeros_like(windows[0])))) > rtol * scale:
        return False
    for _ in range(8):
        i, k = rng.randint(len(windows), size=2)
        a, b = rng.uniform(-2, 2, size=2)
        combined = np.atleast_1d(function(a * windows[i] + b * windows[k]))
        if np.max(np.abs(combined - (a * values[i] + b * values[k]))) > rtol * scale:
            return False
    return True


@Builder.register(LMUMemory)
def build_lmu_memory(model, memory, progress=None):
    """Nengo's network builder, after checking the memory against the simulator.

    The discrete mapping is exact for the time step it was made for, and only for
    it: simulated at another ``dt`` the memory would run with the wrong dynamics
    and no error. So a mismatch fails the build, saying how to fix it.
    """
    if memory.mapping == "discrete" and not np.isclose(
        model.dt, memory.dt, rtol=1e-9, atol=0
    ):
        raise BuildError(
            f"{memory}: mapping='discrete' made its transforms for dt={memory.dt:g}, "
            f"but the simulator's dt is {model.dt:g}; construct it with "
            f"dt={model.dt:g} (or use mapping='continuous')"
        )
    return build_network(model, memory, progress=progress)


def glorot_uniform(shape, rng):
    """Glorot/Xavier uniform initial weights (what keras and nengo_dl use)."""
    fan_out, fan_in = shape
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)


HIDDEN_ACTIVATIONS = ("tanh", "relu", "lif")


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
        `nengo_lmu.dl`). ``False``: one simulator step per time step.
        ``None`` (default): parallel when nothing feeds back into the memory and
        ``n_steps`` is given.
    n_steps : int, optional
        Sequence length (needed by the parallel form).
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
        hidden_activation="tanh",
        trainable_encoders=True,
        trainable_kernels=True,
        parallel=None,
        n_steps=None,
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
        if not self.input_to_hidden:
            del self.weights["W_x"]
        if not self.hidden_to_hidden:
            del self.weights["W_h"]
        if not self.hidden_to_memory:
            del self.weights["e_h"]
        if not self.memory_to_memory:
            del self.weights["e_m"]

        if self.parallel:
            from nengo_lmu import dl  # pylint: disable=import-outside-toplevel

            with self:
                dl.build_parallel_cell(self, trainable_encoders, trainable_kernels)
            return
        self._build_sequential(trainable_encoders, trainable_kernels)

    def _neuron_type(self):
        if self.hidden_activation == "tanh":
            return nengo.Tanh(tau_ref=1.0)  # output tanh(J)
        if self.hidden_activation == "relu":
            return nengo.RectifiedLinear()
        return nengo.LIFRate(amplitude=1.0 / 63.0)

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
                neuron_type=self._neuron_type(),
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
