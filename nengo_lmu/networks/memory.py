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
from nengo_lmu.systems.legendre import _check_r
from nengo_lmu.systems.radii import state_system

NETWORK_REALIZERS = ("legendre", "balanced")
# Neurons per channel that decode a nonlinear function of the window when the
# caller gives none. Measured (tests/test_window_functions.py: np.max of a
# 0.1 s window of 10 Hz white noise, a 1,000-neuron order-6 LIF memory, seeds
# 0 and 1): NRMSE 0.14, 0.17 with 500 neurons; 0.13, 0.14 with 1,000; 0.108,
# 0.108 with 2,000; 0.109, 0.098 with 4,000: beyond 2,000 the memory's own
# error dominates. A fixed number rather than one tied to the memory's neurons:
# the readout represents at most ``order`` whitened components, whatever the
# memory's layout.
DEFAULT_READOUT_NEURONS = 2000


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
    allocation : "uniform", "output" or array_like, keyword only
        How the neurons are shared among the states (see `LinearNetwork`):
        ``allocation=legendre_readout(order, 1.0)`` minimizes the spike noise of
        the delay ``u(t - theta)``; ``"uniform"`` (default) gives each the same.
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
        *,
        allocation="uniform",
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
            allocation=allocation,
            **ens_kwargs,
        )

    def default_input_process(self):
        """`nengo_lmu.systems.default_input_process` for this ``theta``."""
        return default_input_process(self.theta)

    def _state_label(self, channel):
        return f"memory[{channel}]"

    def add_readout(
        self, what, label=None, n_neurons=None, n_points=100, seed=0, t=None
    ):
        """A node that reads delays or any function of the window out of the memory.

        Parameters
        ----------
        what : float, array_like or callable
            Delay(s) ``r`` as fractions of ``theta`` in ``[0, 1]`` (``u(t - r
            theta)``), or a function of the window: called on an array of
            ``n_points`` samples of ``u`` at times ``t - theta ... t`` (ascending;
            or at the times ``t`` gives), it returns a scalar or a 1-D array. A
            function that is linear in the window (checked by superposition on
            sample windows) is read out exactly by its projection onto the
            Legendre basis (`nengo_lmu.systems.window_readout`); any other
            (``np.max``, products of delays, ...) is decoded by ``n_neurons``
            neurons from the memory (see Notes), or computed exactly when the
            memory's neurons are `nengo.Direct`.
        label : str, optional
        n_neurons : int, optional
            Neurons of the ensemble that decodes a nonlinear function, per
            channel (default ``DEFAULT_READOUT_NEURONS``, 2,000; unused for a
            linear function and in Direct mode).
        n_points : int
            Samples per window passed to a function (when ``t`` is not given).
        seed : int
            Seed of the sample windows of a nonlinear function.
        t : float or array_like, optional
            Sample the window passed to a function at these times instead, as
            fractions of ``theta`` in ``[0, 1]`` (0 = now, 1 = ``theta`` ago):
            the function gets ``u(now - t[i] theta)`` in the order of ``t``
            (nengolib's ``RollingWindow.add_output`` convention).

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

        With `nengo.Direct` neurons nothing is decoded: the function is applied
        to the window reconstructed from the memory in the Legendre basis
        (``legendre_readout(order, r) @ m`` at the sample times ``r``), so the
        readout is exact up to the memory's own approximation of the window.
        """
        if not callable(what):
            if t is not None:
                raise ValidationError(
                    f"t samples the window passed to a function; got the delays "
                    f"{what!r} as well (give the delays as t or as what, not both)",
                    attr="t",
                    obj=self,
                )
            C = legendre_readout(self.order, what)
            return self._linear_readout(C, label)
        r = None if t is None else _check_r(t, attr="t")
        # Superposition holds on any windows: test it on a few random ones, and
        # simulate the input process only for a function that needs neurons.
        probes = np.random.RandomState(seed).standard_normal(
            (16, n_points if r is None else len(r))
        )
        if is_linear(what, probes):
            if r is None:
                C = window_readout(self.order, what, n_points=n_points)
            else:
                # the window at r is legendre_readout(order, r) @ m: a linear
                # function's readout is its value on each column
                L = legendre_readout(self.order, r)
                C = np.column_stack(
                    [np.atleast_1d(what(L[:, k])) for k in range(L.shape[1])]
                )
            return self._linear_readout(C, label)
        if isinstance(self.neuron_type, nengo.Direct):
            if r is None:
                r = np.linspace(1, 0, n_points)  # ascending time
            return self._direct_readout(what, label, r)
        if n_neurons is None:
            n_neurons = DEFAULT_READOUT_NEURONS
        n_neurons = check_order(n_neurons, obj=self, attr="n_neurons")
        return self._neural_readout(what, label, n_neurons, n_points, seed, r)

    def _direct_readout(self, function, label, r):
        """A node computing ``function`` of the window reconstructed at delays
        ``r`` from the (Direct-mode) memory, in a Node per channel."""
        L = legendre_readout(self.order, r)
        n_out = np.atleast_1d(function(np.zeros(len(r)))).size

        def of_window(t, m):
            return np.atleast_1d(function(L @ m))

        with self:
            node = nengo.Node(size_in=self.size_in * n_out, label=label or "readout")
            for j in range(self.size_in):
                window = nengo.Node(
                    of_window,
                    size_in=self.order,
                    size_out=n_out,
                    label=f"{label or 'readout'}[{j}]",
                )
                nengo.Connection(
                    self.output[j * self.order : (j + 1) * self.order],
                    window,
                    synapse=None,
                )
                nengo.Connection(
                    window, node[j * n_out : (j + 1) * n_out], synapse=None
                )
        return node

    def _neural_readout(self, function, label, n_neurons, n_points, seed, r=None):
        """A node decoding ``function`` of the window from ``n_neurons`` per
        channel (see `add_readout`'s Notes); ``r``: the delays the window is
        sampled at (default ``n_points`` in ascending time)."""
        if r is not None:
            # every step of the window (at most 1,001 samples: 2,000 windows of
            # a long theta would take gigabytes), interpolated at the delays
            n_points = min(max(2, int(round(self.theta / self.dt)) + 1), 1001)
        states, windows = sample_windows(
            self.order,
            self.theta,
            self.input_process,
            n_points=n_points,
            dt=self.dt,
            seed=seed,
        )
        if r is not None:
            position = (1 - r) * (n_points - 1)
            low = np.minimum(np.floor(position).astype(int), n_points - 2)
            frac = position - low
            windows = windows[:, low] * (1 - frac) + windows[:, low + 1] * frac
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
    ...     peak = window.add_output(np.max)  # decoded by 2,000 more neurons
    ...     mean = window.add_output(np.mean)  # linear: exact projection
    """

    def __init__(self, theta, n_neurons, process=None, order=6, **kwargs):
        # nengolib's RollingWindow(theta, n_neurons, dimensions=6, process=None):
        # its third argument and its name for the order, refused by name here
        if "dimensions" in kwargs:
            raise ValidationError(
                f"dimensions={kwargs['dimensions']!r}: the memory's order is "
                f"order={kwargs['dimensions']!r} here (nengolib's dimensions)",
                attr="dimensions",
                obj=self,
            )
        if process is not None and not isinstance(process, nengo.Process):
            raise ValidationError(
                f"Must be a nengo.Process; got {process!r} (the third argument is "
                f"the input process; give the order as order=..., not as "
                f"nengolib's positional dimensions)",
                attr="process",
                obj=self,
            )
        super().__init__(order, theta, n_neurons, input_process=process, **kwargs)

    def add_output(self, function=None, t=None, n_neurons=None, label=None):
        """An output node: ``function`` of the window, or the window at times ``t``.

        Parameters
        ----------
        function : callable, optional
            A function of the window (see `LMUMemory.add_readout`): linear ones
            are read out exactly, nonlinear ones decoded by ``n_neurons``
            neurons (computed exactly with `nengo.Direct` neurons). Without
            ``t`` it is called on 100 samples of the window in ascending time
            (``u(now - theta) ... u(now)``).
        t : float or array_like, optional
            Times as fractions of ``theta`` in [0, 1] (0 = now, 1 = ``theta``
            ago). Alone: the delays ``u(now - t theta)``. With ``function``:
            the function is called on ``u(now - t[i] theta)`` in the order of
            ``t``, as nengolib's ``RollingWindow.add_output(t=..., function=...)``.
        n_neurons : int, optional
            Neurons (per channel) decoding a nonlinear ``function`` (default
            ``nengo_lmu.networks.memory.DEFAULT_READOUT_NEURONS``, 2,000).
        label : str, optional

        Returns
        -------
        node : nengo.Node
            Unfiltered (apply a synapse on the connection from it).
        """
        if function is None and t is None:
            raise ValidationError(
                "give function (a function of the window), t (delays as fractions "
                "of theta), or both (function of the window sampled at t)",
                attr="function",
                obj=self,
            )
        if function is None:
            return self.add_readout(t, label=label)
        return self.add_readout(function, label=label, n_neurons=n_neurons, t=t)


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
