"""The LMU memory in spiking neurons, and rolling windows with any readout."""

import nengo
import numpy as np
from nengo.builder import Builder
from nengo.exceptions import ValidationError

from nengo_lmu._validation import check_choice, check_order, check_positive
from nengo_lmu.mapping import MAPPINGS, principle3
from nengo_lmu.networks.builder import build_mapped_network
from nengo_lmu.networks.layouts import (
    DEFAULT_SUBPOPULATION_SIZE,
    LAYOUTS,
    RECURRENT,
    TARGETS,
    build_for_nengo,
    build_state,
    check_neurons_and_synapse,
    check_pool_size,
    choose_layout,
    input_peak,
    loihi_wiring,
    minimum_neurons,
    register_loihi_builder,
)
from nengo_lmu.systems import (
    default_input_process,
    legendre_readout,
    realize,
    run_process,
    simulate_memory,
    window_readout,
)

NETWORK_REALIZATIONS = ("legendre", "balanced")


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
    radii : "auto", "ball", float or array_like
        Radius of each realized state. ``"auto"`` measures the largest value each
        reaches for ``input_process``; ``"ball"`` scales those up together so
        that the state vector stays inside the unit ball (for one
        multi-dimensional ensemble; measured on an order-6, 1,200-neuron LIF
        ensemble: NRMSE 0.167 against 0.119 with ``"auto"``, so not the default).
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
    connection_synapse : nengo.synapses.Synapse or None
        The synapse on the connections into the neurons, if not ``synapse``
        (which the transforms are made for): None where the hardware applies
        ``synapse`` after its own decode stage, as nengo_loihi does with its
        ``decode_tau``.
    recurrent : {"auto", "decoded", "weights"}
        ``"weights"``: neuron-to-neuron recurrent weights
        (``LstsqL2(weights=True)``) instead of the decoded state (``"ensemble"``
        and ``"per-dimension"`` layouts). ``"auto"``: ``"weights"`` for
        ``target="loihi"``, ``"decoded"`` otherwise.
    target : {"nengo", "loihi"}
        The simulator the network is wired for. ``"loihi"``
        (`nengo_lmu.networks.layouts.loihi_wiring`): for ``nengo_loihi.Simulator``
        (emulator or chip): one pool per state (``layout="auto"``) with
        neuron-to-neuron recurrent weights, the input connections without a
        synapse (nengo_loihi applies that one on the host, and the chip filters
        by the ensemble's ``synapse`` anyway) and split so that each carries
        values within +-1 for ``input_process``, max rates U(100, 120) Hz and
        intercepts U(-1, 0.5) unless given (overriding the config). Such a
        network is not for Nengo's simulators (its input would not be filtered):
        building it there is an error.
    pool_size : "auto", int or None
        ``layout="per-dimension"`` with ``recurrent="weights"``: the most
        neurons per state in one pool; more neurons form independent copies of
        the memory whose decoded states are averaged (each neuron's fan-in, and
        so its weights' size and Loihi's 8-bit precision of them, does not
        change with ``n_neurons``; see `nengo_lmu.networks.layouts.build_state`).
        ``"auto"``: `nengo_lmu.networks.layouts.LOIHI_POOL_SIZE` (128, the
        thesis' pools) for ``target="loihi"``, None (one pool per state)
        otherwise.

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
        connection_synapse="synapse",
        recurrent="auto",
        target="nengo",
        pool_size="auto",
        label=None,
        seed=None,
        add_to_container=None,
    ):
        super().__init__(label=label, seed=seed, add_to_container=add_to_container)
        register_loihi_builder(type(self))
        self.order = check_order(order, obj=self)
        self.target = check_choice(target, TARGETS, "target", obj=self)
        self.theta = check_positive(theta, "theta", obj=self)
        self.dt = check_positive(dt, "dt", obj=self)
        self.size_in = check_order(size_in, obj=self, attr="size_in")
        check_choice(mapping, MAPPINGS, "mapping", obj=self)
        check_choice(layout, LAYOUTS, "layout", obj=self)
        check_choice(realization, NETWORK_REALIZATIONS, "realization", obj=self)
        n_total, neuron_type, synapse = check_neurons_and_synapse(
            self, n_neurons, neuron_type, synapse
        )
        self.neuron_type = neuron_type
        self.input_process = input_process
        self.synapse = synapse
        # what the connections into the neurons carry (see build_state)
        self.connection_synapse = (
            synapse if connection_synapse == "synapse" else connection_synapse
        )
        check_choice(recurrent, RECURRENT, "recurrent", obj=self)
        self.mapping = mapping
        subpopulation_size = check_order(
            subpopulation_size, obj=self, attr="subpopulation_size"
        )
        input_synapse = "connection"
        if self.target == "loihi":
            layout, recurrent, max_rates, intercepts = loihi_wiring(
                self, layout, recurrent, neuron_type, synapse, max_rates, intercepts
            )
            input_synapse = None
        recurrent = "decoded" if recurrent == "auto" else recurrent
        self.recurrent = recurrent

        per_input = n_total // self.size_in
        self.layout = layout = choose_layout(layout, per_input, self.order)
        self.pool_size = check_pool_size(self, pool_size, layout, recurrent)
        if self.recurrent == "weights" and layout == "subpopulations":
            raise ValidationError(
                "recurrent='weights' needs layout 'ensemble' or 'per-dimension'; "
                "got 'subpopulations'",
                attr="recurrent",
                obj=self,
            )
        minimum = minimum_neurons(layout, self.order)
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
            check_choice(radii, ("auto", "ball"), "radii", obj=self)
            radii = base.state_radii(input_process, dt=self.dt, ball=radii == "ball")
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
        peak = None
        if self.target == "loihi":
            process = (
                default_input_process(self.theta)
                if input_process is None
                else input_process
            )
            duration = max(20 * self.theta, getattr(process, "period", 0) or 0)
            peak = input_peak(process, self.dt, duration)

        d = self.order
        self.subpopulations = []
        with self:
            self.input = nengo.Node(size_in=self.size_in, label="input")
            self.state = nengo.Node(size_in=self.size_in * d, label="state")
            self.output = nengo.Node(size_in=self.size_in * d, label="output")
            for j in range(self.size_in):
                # The output is decoded from the ensembles directly, not through the
                # state node: nengo_loihi's passthrough removal leaves a probed
                # passthrough node fed by another passthrough node unconnected.
                output_j = self.output[j * d : (j + 1) * d]
                _, subpopulations = build_state(
                    layout,
                    per_input + (1 if j < n_total % self.size_in else 0),
                    A_H,
                    B_H,
                    synapse,
                    u=self.input[j],
                    x=self.state,
                    x_offset=j * d,
                    readouts=[(output_j, self.realization.T)],
                    neuron_type=neuron_type,
                    max_rates=max_rates,
                    intercepts=intercepts,
                    solver=solver,
                    subpopulation_size=subpopulation_size,
                    label=f"memory[{j}]",
                    connection_synapse=self.connection_synapse,
                    recurrent=recurrent,
                    input_synapse=input_synapse,
                    input_peak=peak,
                    pool_size=self.pool_size,
                )
                self.subpopulations.extend(subpopulations)

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
        # Superposition holds on any windows: test it on a few random ones, and
        # simulate the input process only for a function that needs neurons.
        probes = np.random.RandomState(seed).standard_normal((16, n_points))
        if is_linear(what, probes):
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
        states, windows = sample_windows(
            self.order,
            self.theta,
            self.input_process,
            n_points=n_points,
            dt=self.dt,
            seed=seed,
        )
        targets = np.array([np.atleast_1d(what(w)) for w in windows], dtype=float)
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
        u = run_process(process, ends[-1] + 1, dt, rng, d=1)[:, 0]
        memory = simulate_memory(u[:, None], order, theta, dt=dt)[:, 0, :]
        states.append(memory[ends])
        windows.append(u[ends[:, None] - back[None, :]])
    return np.concatenate(states)[:n_windows], np.concatenate(windows)[:n_windows]


def is_linear(function, windows, rtol=1e-9):
    """Whether ``function`` is linear in the window, by superposition.

    Checks ``f(a w1 + b w2) = a f(w1) + b f(w2)`` on pairs of the given windows
    (and ``f(0) = 0``), to ``rtol`` of the values' scale.
    """
    rng = np.random.RandomState(0)
    values = np.array([np.atleast_1d(function(w)) for w in windows], dtype=float)
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


Builder.register(LMUMemory)(build_for_nengo(build_mapped_network))
