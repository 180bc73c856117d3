"""Any linear system in recurrently connected spiking neurons."""

import nengo
import numpy as np
from nengo.builder import Builder
from nengo.exceptions import ValidationError

from nengo_lmu._validation import check_choice, check_order, check_positive
from nengo_lmu.mapping import MAPPINGS, principle3, principle3_digital
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
from nengo_lmu.systems import LinearSystem
from nengo_lmu.systems.radii import NORMS, measure_radii, norm_radii, process_radii

REALIZERS = ("auto", "identity", "balanced")
# How `LinearNetwork` sets the radii from the input process, besides the norms.
PROCESS_RADII = ("auto", "measured", "ball")


def default_process():
    """The input assumed by `LinearNetwork` for its radii: 5 Hz band-limited white
    noise of RMS 0.5 starting at 0, with a 10 s period."""
    return nengo.processes.WhiteSignal(period=10.0, high=5.0, rms=0.5, y0=0.0)


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
    layout : {"auto", "ensemble", "per-dimension", "subpopulations"}
        See `nengo_lmu.networks.layouts`.
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
    neuron_type, max_rates, intercepts : optional
        For the ensembles; when None the active `nengo.Config` decides.
    solver : nengo.solvers.Solver, optional
        Decoder solver (``"ensemble"`` and ``"per-dimension"`` layouts).
    subpopulation_size : int
        Neurons per independently decoded group (``"subpopulations"``).
    channels : int
        Independent copies of the system, each with its own neurons: input
        ``channels * system.size_in`` dimensions, state ``channels * order``,
        output ``channels * system.size_out`` (channel ``j``'s together).
    connection_synapse : "synapse", nengo.synapses.Synapse or None
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
        neurons per state in one pool; more neurons form independent copies
        whose decoded states are averaged (each neuron's fan-in, and so its
        weights' size and Loihi's 8-bit precision of them, does not change with
        ``n_neurons``; see `nengo_lmu.networks.layouts.build_state`).
        ``"auto"``: `nengo_lmu.networks.layouts.LOIHI_POOL_SIZE` (128, the
        thesis' pools) for ``target="loihi"``, None (one pool per state)
        otherwise.

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
    ensembles : list of nengo.Ensemble
        (Nengo's own list) the ensembles, in state order.

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
        neuron_type=None,
        max_rates=None,
        intercepts=None,
        solver=None,
        subpopulation_size=DEFAULT_SUBPOPULATION_SIZE,
        channels=1,
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
        self.target = check_choice(target, TARGETS, "target", obj=self)
        self.system = system = LinearSystem(system)
        self.dt = check_positive(dt, "dt", obj=self)
        self.mapping = check_choice(mapping, MAPPINGS, "mapping", obj=self)
        self.channels = check_order(channels, obj=self, attr="channels")
        check_choice(layout, LAYOUTS, "layout", obj=self)
        if isinstance(realizer, str):
            check_choice(realizer, REALIZERS, "realizer", obj=self)
        check_choice(recurrent, RECURRENT, "recurrent", obj=self)
        self._check_system(system)
        n_total, neuron_type, synapse = check_neurons_and_synapse(
            self, n_neurons, neuron_type, synapse
        )
        self.neuron_type = neuron_type
        self.synapse = synapse
        # what the connections into the neurons carry (see build_state)
        self.connection_synapse = (
            synapse if connection_synapse == "synapse" else connection_synapse
        )
        subpopulation_size = check_order(
            subpopulation_size, obj=self, attr="subpopulation_size"
        )
        self.input_process = (
            self.default_input_process() if input_process is None else input_process
        )

        # --- wiring: layout, recurrence, neurons
        input_synapse = "connection"
        if self.target == "loihi":
            layout, recurrent, max_rates, intercepts = loihi_wiring(
                self, layout, recurrent, neuron_type, synapse, max_rates, intercepts
            )
            input_synapse = None
        self.recurrent = recurrent = "decoded" if recurrent == "auto" else recurrent
        per_channel = n_total // self.channels
        self.layout = layout = choose_layout(layout, per_channel, system.order)
        self.pool_size = check_pool_size(self, pool_size, layout, recurrent)
        if recurrent == "weights" and layout == "subpopulations":
            raise ValidationError(
                "recurrent='weights' needs layout 'ensemble' or 'per-dimension'; "
                "got 'subpopulations'",
                attr="recurrent",
                obj=self,
            )
        minimum = minimum_neurons(layout, system.order) * self.channels
        if n_total < minimum:
            raise ValidationError(
                f"n_neurons={n_total} is too small for layout {layout!r} with "
                f"{system.order} states and {self.channels} channel(s): it needs "
                f"at least {minimum}",
                attr="n_neurons",
                obj=self,
            )

        # --- the system in the realized basis, each state scaled to unit radius
        realized = self._realize(system, realizer)
        self.radii = self._radii(realized, radii)
        # x = diag(radii) x_scaled: the neurons represent x_scaled, in [-1, 1]
        self.realization = realized.transform(np.diag(1.0 / self.radii))
        self.recurrent_transform, self.input_transform = self._map(synapse)
        peak = None
        if self.target == "loihi":
            process = self.input_process
            duration = max(10.0, getattr(process, "period", 0) or 0)
            peak = input_peak(process, self.dt, duration)

        # --- the neurons
        k, d, p = system.size_in, system.order, system.size_out
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
                _, subpopulations = build_state(
                    layout,
                    per_channel + (1 if j < n_total % self.channels else 0),
                    self.recurrent_transform,
                    self.input_transform,
                    synapse,
                    u=u,
                    x=self.state,
                    x_offset=j * d,
                    readouts=[(y, self.realization.C)],
                    neuron_type=neuron_type,
                    max_rates=max_rates,
                    intercepts=intercepts,
                    solver=solver,
                    subpopulation_size=subpopulation_size,
                    label=self._state_label(j),
                    connection_synapse=self.connection_synapse,
                    recurrent=recurrent,
                    input_synapse=input_synapse,
                    input_peak=peak,
                    pool_size=self.pool_size,
                )
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
