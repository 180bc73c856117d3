"""Any linear system in recurrently connected spiking neurons."""

import nengo
import numpy as np
from nengo.builder import Builder
from nengo.dists import Samples
from nengo.exceptions import ValidationError

from nengo_lmu._validation import check_choice, check_order, check_positive
from nengo_lmu.mapping import MAPPINGS, principle3, principle3_digital
from nengo_lmu.networks.builder import build_mapped_network
from nengo_lmu.networks.layouts import (
    AUTO_SUBPOPULATION_THRESHOLD,
    LAYOUTS,
    Layout,
    State,
    as_layout,
    build_state,
    check_neurons_and_synapse,
    check_neurons_per_state,
    choose_layout,
    minimum_neurons,
)
from nengo_lmu.networks.wiring import Wiring, build_for_nengo
from nengo_lmu.systems import LinearSystem
from nengo_lmu.systems.noise import allocate_neurons, state_noise_gains
from nengo_lmu.systems.radii import NORMS, measure_radii, norm_radii, process_radii

REALIZERS = ("auto", "identity", "balanced")
# How `LinearNetwork` sets the radii from the input process, besides the norms.
PROCESS_RADII = ("auto", "measured", "ball")
# How `LinearNetwork` shares its neurons among the states, besides given counts.
ALLOCATIONS = ("uniform", "output")
# The readout filter the "output" allocation assumes: the probe synapse of the
# package's error measurements (`nengo_lmu.analysis.measure_memory`).
ALLOCATION_READOUT_SYNAPSE = 0.01


def default_process():
    """The input assumed by `LinearNetwork` for its radii: 5 Hz band-limited white
    noise of RMS 0.5 starting at 0, with a 10 s period."""
    return nengo.processes.WhiteSignal(period=10.0, high=5.0, rms=0.5, y0=0.0)


def configure_ensembles(network, ens_kwargs, defaults=None):
    """Put ensemble settings on ``network.config``, as
    `nengo.networks.EnsembleArray` does: ``ens_kwargs`` (any `nengo.Ensemble`
    parameter; ``solver`` goes to ``network.config[nengo.Connection]``; None
    values are left to the config), then ``defaults`` for the parameters not
    given (a wiring's, e.g. Loihi's rates).

    Returns
    -------
    neuron_type : nengo.neurons.NeuronType
        The neuron type the network's ensembles will get.
    """
    ens_kwargs = {k: v for k, v in ens_kwargs.items() if v is not None}
    solver = ens_kwargs.pop("solver", None)
    for name in ("n_neurons", "dimensions"):
        if name in ens_kwargs:
            raise ValidationError(
                f"{name!r} is the network's own choice, not an ensemble setting",
                attr=name,
                obj=network,
            )
    for name, value in ens_kwargs.items():
        if not isinstance(getattr(nengo.Ensemble, name, None), nengo.params.Parameter):
            raise ValidationError(
                f"{name}={value!r}: not an argument of {type(network).__name__} nor "
                f"a nengo.Ensemble parameter",
                attr=name,
                obj=network,
            )
        if isinstance(value, (list, tuple, np.ndarray)):
            # as EnsembleArray: a config holds arrays as Samples
            ens_kwargs[name] = Samples(value)
    for name, value in (defaults or {}).items():
        ens_kwargs.setdefault(name, value)
    network.config[nengo.Ensemble].update(ens_kwargs)
    if solver is not None:
        network.config[nengo.Connection].solver = solver
    with network:
        return nengo.Config.default(nengo.Ensemble, "neuron_type")


class LinearNetwork(nengo.Network):
    """A linear system realized by recurrently connected spiking neurons.

    NEF Principle 3: the system's state ``x`` is represented by neurons whose
    recurrent and input connections, through ``synapse``, implement
    ``x' = A x + B u`` (or its digital form); the output is ``y = C x + D u``.
    Before mapping, the state is put in a well-conditioned basis (``realizer``)
    and each state is scaled to the radius it reaches for the expected input.

    Parameters
    ----------
    system : LinearSystem or anything LinearSystem accepts
        Analog, or digital at time step ``dt``.
    n_neurons : int
        Neurons in all (split over the channels, and over the states by the
        layout).
    synapse : float or nengo.LinearFilter
        Synapse of the recurrent and input connections (a float: a lowpass time
        constant in seconds).
    mapping : {"discrete", "continuous"}
        See `nengo_lmu.mapping.principle3`; ``"discrete"`` is exact at ``dt``.
    dt : float
        The simulator's time step (checked when the network is built).
    layout : {"auto", "ensemble", "per-dimension", "subpopulations"} or Layout
        See `nengo_lmu.networks.layouts` (``Subpopulations(size=...)`` for
        another sub-population size). ``"auto"``: per-dimension up to
        ``AUTO_SUBPOPULATION_THRESHOLD`` neurons per state, sub-populations
        above (the wiring may decide otherwise: Loihi's has no sub-populations).
    realizer : {"auto", "identity", "balanced"} or array_like
        ``"balanced"``: the balanced realization (equal, diagonal Gramians;
        stable minimal systems only). ``"identity"``: the state as given.
        ``"auto"``: balanced where possible, the identity otherwise (an
        integrator or an undamped oscillator is not stable). A matrix ``T``
        (``order x order``, invertible): the basis ``x_realized = T x``.
    radii : "auto", "measured", "ball", "l1", "h2", "hankel", float or array_like
        Radius of each realized state, the value it is divided by so that the
        neurons represent it within about [-1, 1]. From the input process
        (`nengo_lmu.systems.radii`): ``"auto"`` computes it from the process's
        spectrum where that is known (`spectral_radii`: three standard deviations
        of the state, for a `nengo.processes.WhiteSignal` into a stable system;
        nothing is simulated) and measures it otherwise; ``"measured"`` is the
        largest value the state reaches on five draws of the process
        (`measure_radii`); ``"ball"`` scales those up together so that the state
        vector stays in the unit ball (for one multi-dimensional ensemble). From
        the system alone (`norm_radii`, stable systems): ``"l1"`` the worst case
        for inputs within [-1, 1], ``"h2"`` the RMS under white noise,
        ``"hankel"`` a bound on the worst case from the Gramians.
    input_process : nengo.Process, optional
        The expected input of each channel (default `default_process`).
    channels : int
        Independent copies of the system, each with its own neurons: input
        ``channels * system.size_in`` dimensions, state ``channels * order``,
        output ``channels * system.size_out`` (channel ``j``'s together).
    wiring : Wiring, optional
        How the neurons are connected, for the simulator that runs them
        (`nengo_lmu.networks.wiring.Wiring`: the recurrence decoded or as
        neuron-to-neuron weights, the pool size, the connections' synapse).
        Default ``Wiring()``: Nengo's simulators.
        ``nengo_lmu.loihi.LoihiWiring()`` wires the network for
        ``nengo_loihi.Simulator`` (emulator or chip); such a network is not for
        Nengo's simulators (its input would not be filtered): building it there
        is an error.
    label, seed, add_to_container
        As for `nengo.Network`.
    allocation : "uniform", "output" or array_like, keyword only
        How each channel's neurons are shared among the states (layouts
        ``"per-dimension"`` and ``"subpopulations"``; ``"auto"`` takes
        sub-populations if a state gets more than
        ``AUTO_SUBPOPULATION_THRESHOLD``). ``"uniform"`` (default):
        as evenly as possible. ``"output"``: in proportion to ``sqrt(g_i)``,
        ``g_i`` the squared H2 norm from spike noise on state ``i`` to the
        output ``y`` as read through a 10 ms lowpass
        (`nengo_lmu.systems.noise.state_noise_gains` of the closed loop; see
        Notes), which minimizes the output's noise for the neurons given. A 2-D
        array ``R`` (``q x size_out``): the same for the readout ``R y`` (for
        `LMUMemory`, ``legendre_readout(order, 1.0)``, i.e. ``np.ones((1,
        order))``, is the delay ``u(t - theta)``). A 1-D array of ``order``
        integers >= 1: the counts themselves, summing to the channel's neurons.
    **ens_kwargs
        Settings of the network's ensembles (``neuron_type``, ``max_rates``,
        ``intercepts``, any `nengo.Ensemble` parameter) and ``solver`` (the
        decoder solver of the ``"ensemble"`` and ``"per-dimension"`` layouts),
        put on the network's config (``config[nengo.Ensemble]``,
        ``config[nengo.Connection]``) as `nengo.networks.EnsembleArray` does;
        None or not given: the active `nengo.Config` decides. A wiring may give
        defaults of its own (Loihi's rates and intercepts, over the config).

    Attributes
    ----------
    input : nengo.Node
        ``channels * system.size_in`` dimensions.
    state : nengo.Node
        The decoded realized state, each dimension in about [-1, 1].
    output : nengo.Node
        ``y = C x + D u`` (unfiltered: apply a synapse when probing).
    system : LinearSystem
        The system as given.
    realization : LinearSystem
        The system the neurons represent: realized and scaled (same transfer
        function).
    radii : (order,) ndarray
        The realized states' radii.
    layout : str
        The layout's name (``"auto"`` resolved).
    wiring : Wiring
        The wiring as resolved for this network (``recurrent``, ``pool_size``,
        ``connection_synapse`` concrete); ``target``, ``recurrent``,
        ``pool_size`` and ``connection_synapse`` are its.
    neuron_type : nengo.neurons.NeuronType
        The ensembles' neuron type.
    ensembles : list of nengo.Ensemble
        (Nengo's own list) the ensembles, in state order.
    neurons_per_state : (channels, order) int ndarray or None
        Each channel's neurons per state, for an ``allocation`` other than
        ``"uniform"`` (None: as even as possible).
    noise_gains : (order,) ndarray or None
        The ``g_i`` an ``"output"`` or readout allocation was made from.

    Notes
    -----
    Allocation. The value decoded from state ``i``'s ``m_i`` neurons carries
    spike noise of variance about ``c / m_i`` (the same ``c`` for every state,
    each being scaled to about [-1, 1]); it reaches the output directly and
    through the recurrence, so the output's noise variance is ``sum_i g_i c /
    m_i``. For ``sum_i m_i = m`` it is least for ``m_i`` proportional to
    ``sqrt(g_i)`` (Lagrange), each state keeping at least one neuron
    (`nengo_lmu.systems.noise`). The model is for white spike noise (Poisson
    neurons), where it predicts the measured gain; regular-spiking LIF
    neurons' error is mostly not that noise, and an allocation changes it
    little (``benchmarks/allocation.py``). The states that get few neurons
    are represented worse on their own: an allocation for one readout is not
    one for reading the states themselves.

    Examples
    --------
    >>> import nengo
    >>> from nengo_lmu import PadeDelay
    >>> with nengo.Network(seed=0) as net:
    ...     u = nengo.Node(nengo.processes.WhiteSignal(5.0, high=3.0, rms=0.5))
    ...     delay = LinearNetwork(PadeDelay(0.1, order=4), n_neurons=1000)
    ...     _ = nengo.Connection(u, delay.input, synapse=None)
    ...     probe = nengo.Probe(delay.output, synapse=0.01)
    """

    def __init__(
        self,
        system,
        n_neurons,
        synapse=0.1,
        mapping="discrete",
        dt=0.001,
        layout="auto",
        realizer="auto",
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
        super().__init__(label=label, seed=seed, add_to_container=add_to_container)
        self.system = system = LinearSystem(system)
        self.dt = check_positive(dt, "dt", obj=self)
        self.mapping = check_choice(mapping, MAPPINGS, "mapping", obj=self)
        self.channels = check_order(channels, obj=self, attr="channels")
        if not isinstance(layout, Layout):
            check_choice(layout, LAYOUTS, "layout", obj=self)
        if isinstance(realizer, str):
            check_choice(realizer, REALIZERS, "realizer", obj=self)
        wiring = Wiring() if wiring is None else wiring
        if not isinstance(wiring, Wiring):
            raise ValidationError(
                f"Must be a nengo_lmu.networks.Wiring; got {wiring!r}",
                attr="wiring",
                obj=self,
            )
        self._check_system(system)
        neuron_type = configure_ensembles(self, ens_kwargs, wiring.ensemble_defaults())
        n_total, neuron_type, synapse = check_neurons_and_synapse(
            self, n_neurons, neuron_type, synapse
        )
        self.neuron_type = neuron_type
        self.synapse = synapse
        self.input_process = (
            self.default_input_process() if input_process is None else input_process
        )
        layout = self._wire(wiring, layout, n_total)

        # --- the system in the realized basis, each state scaled to unit radius
        realized = self._realize(system, realizer)
        self.radii = self._radii(realized, radii)
        # x = diag(radii) x_scaled: the neurons represent x_scaled, in [-1, 1]
        self.realization = realized.transform(np.diag(1.0 / self.radii))
        self.recurrent_transform, self.input_transform = self._map(synapse)
        self.allocation = allocation
        self.neurons_per_state, self.noise_gains = self._allocate(
            allocation, layout, n_total
        )
        layout = self._layout_for_counts(layout)
        self._build(layout, n_total)

    @property
    def target(self):
        """The simulator the network is wired for (its wiring's ``target``)."""
        return self.wiring.target

    @property
    def recurrent(self):
        """``"decoded"`` or ``"weights"`` (its wiring's ``recurrent``)."""
        return self.wiring.recurrent

    @property
    def pool_size(self):
        """The most neurons per state in one pool, or None (its wiring's)."""
        return self.wiring.pool_size

    @property
    def connection_synapse(self):
        """The synapse on the connections into the neurons (its wiring's)."""
        return self.wiring.connection_synapse

    def _wire(self, wiring, layout, n_total):
        """The layout (a `Layout`) and ``self.wiring``, resolved and checked."""
        given = layout
        name = layout.name if isinstance(layout, Layout) else layout
        name, self.wiring = wiring.resolve(self, name)
        self._auto_layout = name == "auto"
        per_channel = n_total // self.channels
        self.layout = name = choose_layout(name, per_channel, self.system.order)
        self.wiring.check_layout(self, name)
        minimum = minimum_neurons(name, self.system.order) * self.channels
        if n_total < minimum:
            raise ValidationError(
                f"n_neurons={n_total} is too small for layout {name!r} with "
                f"{self.system.order} states and {self.channels} channel(s): it "
                f"needs at least {minimum}",
                attr="n_neurons",
                obj=self,
            )
        if isinstance(given, Layout) and given.name == name:
            return given
        return as_layout(name)

    def _build(self, layout, n_total):
        """The nodes and the neurons of each channel."""
        k, d, p = self.system.size_in, self.system.order, self.system.size_out
        per_channel = n_total // self.channels
        self.subpopulations = []
        with self:
            self.input = nengo.Node(size_in=self.channels * k, label="input")
            self.state = nengo.Node(size_in=self.channels * d, label="state")
            self.output = nengo.Node(size_in=self.channels * p, label="output")
            for j in range(self.channels):
                u = self.input[j * k : (j + 1) * k]
                # The output is decoded from the ensembles directly, not through
                # the state node: nengo_loihi's passthrough removal leaves a
                # probed passthrough node fed by another passthrough node
                # unconnected.
                y = self.output[j * p : (j + 1) * p]
                state = State(
                    per_channel + (1 if j < n_total % self.channels else 0),
                    self.recurrent_transform,
                    self.input_transform,
                    self.synapse,
                    u=u,
                    x=self.state,
                    x_offset=j * d,
                    readouts=[(y, self.realization.C)],
                    label=self._state_label(j),
                    neurons_per_state=(
                        None
                        if self.neurons_per_state is None
                        else self.neurons_per_state[j]
                    ),
                )
                _, subpopulations = build_state(state, layout, self.wiring)
                self.subpopulations.extend(subpopulations)
                if np.any(self.realization.D != 0):
                    nengo.Connection(u, y, transform=self.realization.D, synapse=None)

    @staticmethod
    def default_input_process():
        """The input process assumed when none is given (`default_process`)."""
        return default_process()

    def _state_label(self, channel):
        return "state" if self.channels == 1 else f"state[{channel}]"

    def _check_system(self, system):
        if system.order < 1:
            raise ValidationError(
                f"the system has no state (order 0): {system!r}; a pure gain needs "
                f"no neurons",
                attr="system",
                obj=self,
            )
        if not system.analog:
            if not np.isclose(system.dt, self.dt, rtol=1e-9, atol=0):
                raise ValidationError(
                    f"the system is digital at dt={system.dt:g}, but dt={self.dt:g}",
                    attr="dt",
                    obj=self,
                )
            if self.mapping != "discrete":
                raise ValidationError(
                    "a digital system needs mapping='discrete'",
                    attr="mapping",
                    obj=self,
                )

    def _realize(self, system, realizer):
        if not isinstance(realizer, str):
            try:
                return system.transform(realizer)
            except ValidationError as e:
                raise ValidationError(str(e.args[0]), attr="realizer", obj=self) from e
        if realizer == "identity":
            return system
        if realizer == "auto" and not system.is_stable:
            return system
        try:
            return system.balanced()
        except ValidationError as e:
            if realizer == "auto":
                return system
            raise ValidationError(
                f"no balanced realization: {e.args[0]}", attr="realizer", obj=self
            ) from e

    def _radii(self, realized, radii):
        """The radii of the realized states, checked."""
        if isinstance(radii, str):
            check_choice(radii, PROCESS_RADII + NORMS, "radii", obj=self)
            try:
                if radii == "auto":
                    radii, _ = process_radii(realized, self.input_process, dt=self.dt)
                elif radii in PROCESS_RADII:
                    radii = measure_radii(
                        realized, self.input_process, dt=self.dt, ball=radii == "ball"
                    )
                else:
                    radii = norm_radii(realized, radii)
            except ValidationError as e:
                raise ValidationError(str(e.args[0]), attr="radii", obj=self) from e
        radii = np.asarray(radii, dtype=float)
        try:
            radii = np.broadcast_to(radii, (realized.order,)).copy()
        except ValueError:
            raise ValidationError(
                f"Must be a scalar or {realized.order} radii (one per state); got "
                f"shape {radii.shape}",
                attr="radii",
                obj=self,
            ) from None
        if not np.all(np.isfinite(radii)) or np.any(radii <= 0):
            raise ValidationError(
                f"radii must be finite and > 0; got {radii}", attr="radii", obj=self
            )
        return radii

    def _channel_neurons(self, n_total):
        """The neurons of each channel (the first ``n_total % channels`` get one
        more)."""
        per_channel = n_total // self.channels
        extra = n_total % self.channels
        return [per_channel + (1 if j < extra else 0) for j in range(self.channels)]

    def _allocate(self, allocation, layout, n_total):
        """``(neurons_per_state, noise_gains)`` for ``allocation``: None, None
        for ``"uniform"``."""
        d = self.system.order
        if isinstance(allocation, str):
            check_choice(allocation, ALLOCATIONS, "allocation", obj=self)
            if allocation == "uniform":
                return None, None
            readout = np.eye(self.system.size_out)
        else:
            readout = np.asarray(allocation)
            if readout.ndim not in (1, 2) or readout.size == 0:
                raise ValidationError(
                    f"Must be 'uniform', 'output', {d} neuron counts or a readout "
                    f"matrix of the output (q x {self.system.size_out}); got "
                    f"{allocation!r}",
                    attr="allocation",
                    obj=self,
                )
        if layout.name == "ensemble":
            raise ValidationError(
                f"allocation={allocation!r} needs neurons of each state (layout "
                f"'per-dimension' or 'subpopulations'); layout 'ensemble' has "
                f"every neuron represent all states",
                attr="allocation",
                obj=self,
            )
        if readout.ndim == 1:
            counts = [
                self._check_counts(readout, n) for n in self._channel_neurons(n_total)
            ]
            return np.array(counts), None
        if readout.shape[1] != self.system.size_out or not np.all(
            np.isfinite(readout.astype(float))
        ):
            raise ValidationError(
                f"a readout matrix must be finite with {self.system.size_out} "
                f"columns (one per output); got shape {readout.shape}",
                attr="allocation",
                obj=self,
            )
        try:
            gains = state_noise_gains(
                self.recurrent_transform,
                self.synapse,
                self.dt,
                readout.astype(float) @ self.realization.C,
                readout_synapse=ALLOCATION_READOUT_SYNAPSE,
            )
        except ValidationError as e:
            raise ValidationError(str(e.args[0]), attr="allocation", obj=self) from e
        counts = [
            allocate_neurons(np.sqrt(gains), n, minimum=1)
            for n in self._channel_neurons(n_total)
        ]
        return np.array(counts), gains

    def _layout_for_counts(self, layout):
        """``"auto"`` with uneven counts: sub-populations where the largest
        state has more than `AUTO_SUBPOPULATION_THRESHOLD` neurons (as it would
        for that many in every state) and the wiring allows them."""
        if (
            not self._auto_layout
            or self.neurons_per_state is None
            or self.layout != "per-dimension"
            or np.max(self.neurons_per_state) <= AUTO_SUBPOPULATION_THRESHOLD
        ):
            return layout
        try:
            self.wiring.check_layout(self, "subpopulations")
        except ValidationError:
            return layout
        self.layout = "subpopulations"
        return as_layout(self.layout)

    def _check_counts(self, counts, n_channel):
        return check_neurons_per_state(counts, n_channel, self.system.order, obj=self)

    def _map(self, synapse):
        """``(A_H, B_H)``: Principle 3 for the realization on ``synapse``."""
        real = self.realization
        try:
            if real.analog:
                return principle3(
                    real.A, real.B, synapse, mapping=self.mapping, dt=self.dt
                )
            return principle3_digital(real.A, real.B, synapse, self.dt)
        except ValidationError as e:
            raise ValidationError(str(e.args[0]), attr="synapse", obj=self) from e


Builder.register(LinearNetwork)(build_for_nengo(build_mapped_network))
