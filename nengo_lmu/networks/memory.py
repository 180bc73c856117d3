"""The LMU memory in spiking neurons, and rolling windows with any readout."""

import nengo
import numpy as np
from nengo.builder import Builder
from nengo.exceptions import ValidationError

from nengo_lmu._validation import check_choice, check_order, check_positive
from nengo_lmu.networks.builder import build_mapped_network
from nengo_lmu.networks.linear import LinearNetwork
from nengo_lmu.networks.wiring import build_for_nengo
from nengo_lmu.systems import (
    LegendreDelay,
    default_input_process,
    legendre_readout,
    run_process,
    simulate_memory,
    window_readout,
)
from nengo_lmu.systems.radii import state_system

NETWORK_REALIZERS = ("legendre", "balanced")


class LMUMemory(LinearNetwork):
    """An LMU memory built from recurrently connected spiking neurons.

    A `LinearNetwork` of the Legendre delay (`nengo_lmu.LegendreDelay`) whose
    output is the whole memory: the state in the Legendre basis, one memory of
    ``theta`` seconds per input dimension (channel), with readouts of any delay
    or function of the window (`add_readout`).

    Parameters
    ----------
    order : int
        Memory order ``d`` (>= 1).
    theta : float
        Window length in seconds (> 0).
    n_neurons : int
        Total number of neurons ``m`` (split evenly over the channels and, in
        the per-dimension and sub-population layouts, over the states).
    synapse : float or nengo.LinearFilter
        Synapse on the recurrent and input connections (default a 0.1 s lowpass: a
        long time constant averages more spikes; measured in
        ``benchmarks/choose_defaults.py``).
    mapping : {"discrete", "continuous"}
        Principle 3 mapping (see `nengo_lmu.mapping.principle3`). ``"discrete"`` is
        exact for the simulator time step ``dt``.
    dt : float
        Simulator time step the discrete mapping is made for.
    layout : {"auto", "ensemble", "per-dimension", "subpopulations"} or Layout
        ``"ensemble"``: one ``order``-D ensemble per channel.
        ``"per-dimension"``: one 1-D ensemble per state. ``"subpopulations"``:
        one large ensemble per channel whose neurons each encode one state, in
        groups with independently solved decoders (scales to millions of
        neurons; ``nengo_lmu.networks.layouts.Subpopulations(size=...)`` sets the
        group size). ``"auto"``: per-dimension up to
        ``AUTO_SUBPOPULATION_THRESHOLD`` neurons per state, sub-populations above.
    realizer : {"legendre", "balanced"}
        Basis of the represented state (before radius scaling): the Legendre
        basis, or the balanced realization of the delay ``u(t - theta)``.
    radii : "auto", "measured", "ball", "l1", "h2", "hankel", float or array_like
        Radius of each realized state (see `LinearNetwork`). ``"auto"``: three
        standard deviations of the state for ``input_process``, from its
        spectrum (a `nengo.processes.WhiteSignal`, as the default; measured for
        any other process). ``"ball"`` (measured, for one multi-dimensional
        ensemble; on an order-6, 1,200-neuron LIF ensemble it gave NRMSE 0.167
        against 0.119 with per-state radii, so it is not the default).
    input_process : nengo.Process, optional
        The expected input of each channel, for the radii and the windows a
        nonlinear readout is fitted on (default
        `nengo_lmu.systems.default_input_process`).
    channels : int
        Number of input dimensions, each with its own memory.
    wiring : Wiring, optional
        How the neurons are connected (see `LinearNetwork`;
        ``nengo_lmu.loihi.LoihiWiring()`` wires the memory for nengo_loihi).
    label, seed, add_to_container
        As for `nengo.Network`.
    **ens_kwargs
        Settings of the memory's ensembles (``neuron_type``, ``max_rates``,
        ``intercepts``, ...) and ``solver``, put on its config (see
        `LinearNetwork`); the ensembles of nonlinear readouts (`add_readout`)
        are made inside the memory and get them too. Tested with LIF,
        ``PoissonSpiking(LIFRate())``, ``SpikingRectifiedLinear`` and
        ``RegularSpiking(LIFRate())``.

    Attributes
    ----------
    input : nengo.Node
        ``channels`` dimensions.
    output : nengo.Node
        The decoded memory, ``channels * order`` dimensions, in the units (and the
        Legendre basis) of `nengo_lmu.LegendreMemory`'s output. Unfiltered: apply a
        synapse when probing.
    state : nengo.Node
        The decoded realized state (``channels * order``, each in about [-1, 1]).
    size_in : int
        The input dimensions (``channels``).
    system : LinearSystem
        The memory: `nengo_lmu.LegendreDelay` with its states as outputs.
    realization : LinearSystem
        The realized, scaled system the neurons represent; its ``C`` maps their
        state to the Legendre memory.
    ensembles : list of nengo.Ensemble
        (Nengo's own list) the memory's ensembles, in state order.
    """

    def __init__(
        self,
        order,
        theta,
        n_neurons,
        synapse=0.1,
        mapping="discrete",
        dt=0.001,
        layout="auto",
        realizer="legendre",
        radii="auto",
        input_process=None,
        channels=1,
        wiring=None,
        label=None,
        seed=None,
        add_to_container=None,
        **ens_kwargs,
    ):
        self.order = check_order(order, obj=self)
        self.theta = check_positive(theta, "theta", obj=self)
        self.size_in = check_order(channels, obj=self, attr="channels")
        check_choice(realizer, NETWORK_REALIZERS, "realizer", obj=self)
        delay = LegendreDelay(self.theta, self.order)
        # balanced for the delay's readout u(t - theta), then read out as the
        # whole memory (C = I in the Legendre basis)
        basis = "identity" if realizer == "legendre" else delay.balancing_transform()[0]
        super().__init__(
            state_system(delay),
            n_neurons,
            synapse=synapse,
            mapping=mapping,
            dt=dt,
            layout=layout,
            realizer=basis,
            radii=radii,
            input_process=input_process,
            channels=self.size_in,
            wiring=wiring,
            label=label,
            seed=seed,
            add_to_container=add_to_container,
            **ens_kwargs,
        )

    def default_input_process(self):
        """`nengo_lmu.systems.default_input_process` for this ``theta``."""
        return default_input_process(self.theta)

    def _state_label(self, channel):
        return f"memory[{channel}]"

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
        return self._neural_readout(what, label, n_neurons, n_points, seed)

    def _neural_readout(self, function, label, n_neurons, n_points, seed):
        """A node decoding ``function`` of the window from ``n_neurons`` per
        channel (see `add_readout`'s Notes)."""
        states, windows = sample_windows(
            self.order,
            self.theta,
            self.input_process,
            n_points=n_points,
            dt=self.dt,
            seed=seed,
        )
        targets = np.array([np.atleast_1d(function(w)) for w in windows], dtype=float)
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
