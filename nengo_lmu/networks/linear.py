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
    TARGETS,
    build_for_nengo,
    build_state,
    check_neurons_and_synapse,
    choose_layout,
    input_peak,
    loihi_wiring,
    minimum_neurons,
    register_loihi_builder,
)
from nengo_lmu.systems import LinearSystem, run_process

REALIZERS = ("auto", "identity", "balanced")
# The radii `norm_radii` computes without simulating.
NORMS = ("l1", "h2", "hankel")
# Trials of the input process used to measure radii (each with its own seed): the
# largest value each state reaches over all of them is its radius.
RADIUS_TRIALS = 3


def default_process():
    """The input assumed when measuring radii: 5 Hz band-limited white noise of
    RMS 0.5 starting at 0, 10 s per trial."""
    return nengo.processes.WhiteSignal(period=10.0, high=5.0, rms=0.5, y0=0.0)


def measure_radii(
    system, process=None, dt=0.001, trials=RADIUS_TRIALS, duration=10.0, seed=0
):
    """The largest absolute value each state of ``system`` reaches for ``process``.

    Simulates the system exactly (`LinearSystem.filter`) on ``trials`` runs of
    ``duration`` seconds of the process, each drawn with its own seed (``seed``,
    ``seed + 1``, ...).

    Returns
    -------
    radii : (order,) ndarray
        Positive (a state that never moves gets radius 1).
    """
    process = default_process() if process is None else process
    states = _state_system(system)
    n_steps = int(round(duration / dt))
    peak = np.zeros(system.order)
    for trial in range(trials):
        u = run_process(
            process, n_steps, dt, np.random.RandomState(seed + trial), d=system.size_in
        )
        x = states.filter(u, dt=None if states.dt is not None else dt)
        peak = np.maximum(peak, np.max(np.abs(x), axis=0))
    return np.where(peak > 0, peak, 1.0)


def _state_system(system):
    """The system whose outputs are its states (``C = I``, ``D = 0``)."""
    return LinearSystem.from_ss(
        system.A,
        system.B,
        np.eye(system.order),
        np.zeros((system.order, system.size_in)),
        dt=system.dt,
    )


def norm_radii(system, norm="l1", input_bound=1.0, rtol=1e-9):
    """Radii of the states from norms of their impulse responses (no simulation).

    ``"l1"``: the largest ``|x_i|`` any input with ``|u_j| <= input_bound`` can
    drive state ``i`` to, ``input_bound * sum_j integral |h_ij(t)| dt``; a
    guarantee, so the neurons never saturate, at the cost of resolution for
    typical inputs. ``"h2"``: the state's RMS under unit-intensity white noise on
    every input, ``sqrt(W_c[i, i])`` (the controllability Gramian's diagonal),
    times ``input_bound``: typical, not worst-case, values. ``"hankel"``: twice the
    sum of the Hankel singular values of the map from each input to the state,
    summed over inputs (times ``input_bound``): an upper bound on ``"l1"``
    (Khaisongkram and Banjerdpongchai 2007; nengolib's ``Hankel`` realizer),
    computed from the Gramians alone, looser than ``"l1"``.

    Parameters
    ----------
    system : LinearSystem
        Stable (the norms are infinite otherwise).
    norm : {"l1", "h2", "hankel"}
    input_bound : float
        The input's bound (``"l1"``, ``"hankel"``) or scale (``"h2"``).
    rtol : float
        ``"l1"``: the impulse response is integrated until it has decayed below
        ``rtol`` of its peak.

    Returns
    -------
    radii : (order,) ndarray
    """
    check_choice(norm, NORMS, "norm")
    if not system.is_stable:
        raise ValidationError(
            f"the {norm} norm of an unstable system's states is infinite (poles "
            f"{np.round(system.poles, 6)}); give radii or measure them "
            f"(radii='auto')",
            attr="radii",
        )
    states = _state_system(system)
    if norm == "h2":
        radii = np.sqrt(np.diag(states.controllability_gramian()))
    elif norm == "hankel":
        order, size_in = system.order, system.size_in
        radii = np.array(
            [
                sum(
                    2.0
                    * np.sum(
                        LinearSystem.from_ss(
                            system.A,
                            system.B[:, j : j + 1],
                            np.eye(order)[i : i + 1],
                            np.zeros((1, 1)),
                            dt=system.dt,
                        ).hankel_singular_values()
                    )
                    for j in range(size_in)
                )
                for i in range(order)
            ]
        )
    elif system.analog:
        # sample finely against the fastest pole, long enough for the slowest
        rates = np.abs(system.poles.real)
        dt = 0.01 / np.max(np.abs(system.poles))
        n_steps = int(np.ceil(-np.log(rtol) / np.min(rates) / dt)) + 1
        h = np.abs(states.impulse(n_steps, dt=dt)).reshape(n_steps, system.order, -1)
        # trapezoidal rule over t = k dt
        radii = (h.sum(axis=0) - 0.5 * (h[0] + h[-1])).sum(axis=1) * dt
    else:
        radius = np.max(np.abs(system.poles))
        n_steps = int(np.ceil(np.log(rtol) / np.log(radius))) + 1
        h = np.abs(states.impulse(n_steps)).reshape(n_steps, system.order, -1)
        radii = h.sum(axis=(0, 2))
    return input_bound * radii


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
        Neurons in all (split over the states by the layout).
    synapse : float or nengo.LinearFilter
        Synapse of the recurrent and input connections (a float: a lowpass time
        constant in seconds).
    mapping : {"discrete", "continuous"}
        See `nengo_lmu.mapping.principle3`; ``"discrete"`` is exact at ``dt``.
    dt : float
        The simulator's time step (checked when the network is built).
    layout : {"auto", "ensemble", "per-dimension", "subpopulations"}
        See `nengo_lmu.networks.layouts`.
    realizer : {"auto", "identity", "balanced"}
        ``"balanced"``: the balanced realization (equal, diagonal Gramians;
        stable minimal systems only). ``"identity"``: the state as given.
        ``"auto"``: balanced where possible, the identity otherwise (an
        integrator or an undamped oscillator is not stable).
    radii : "auto", "l1", "h2", "hankel", float or array_like
        Radius of each realized state. ``"auto"`` measures it (`measure_radii`)
        for ``input_process``; ``"l1"``, ``"h2"`` and ``"hankel"`` compute it
        from the norms of the states' impulse responses (`norm_radii`, stable
        systems only): the worst case for inputs within [-1, 1], the RMS under
        white noise, or a bound on the worst case from the Gramians.
    input_process : nengo.Process, optional
        The expected input (default `default_process`).
    neuron_type, max_rates, intercepts : optional
        For the ensembles; when None the active `nengo.Config` decides.
    solver : nengo.solvers.Solver, optional
        Decoder solver (``"ensemble"`` and ``"per-dimension"`` layouts).
    subpopulation_size : int
        Neurons per independently decoded group (``"subpopulations"``).
    target : {"nengo", "loihi"}
        The simulator the network is wired for; ``"loihi"`` as in
        `nengo_lmu.networks.LMUMemory` (one pool per state with neuron-to-neuron
        recurrent weights, the input filtered once on chip and split to stay
        within +-1 for ``input_process``, Loihi's rates and intercepts unless
        given); such a network is for ``nengo_loihi.Simulator`` only.

    Attributes
    ----------
    input : nengo.Node
        ``system.size_in`` dimensions.
    state : nengo.Node
        The decoded realized state, each dimension in about [-1, 1].
    output : nengo.Node
        ``y = C x + D u`` (unfiltered: apply a synapse when probing).
    system : LinearSystem
        The system as given.
    realization : LinearSystem
        The system the neurons represent: realized and scaled (same transfer
        function).

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
        target="nengo",
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
        check_choice(layout, LAYOUTS, "layout", obj=self)
        check_choice(realizer, REALIZERS, "realizer", obj=self)
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
            if mapping != "discrete":
                raise ValidationError(
                    "a digital system needs mapping='discrete'",
                    attr="mapping",
                    obj=self,
                )
        n_neurons, neuron_type, synapse = check_neurons_and_synapse(
            self, n_neurons, neuron_type, synapse
        )
        recurrent, input_synapse = "decoded", "connection"
        if self.target == "loihi":
            layout, recurrent, max_rates, intercepts = loihi_wiring(
                self, layout, "auto", neuron_type, synapse, max_rates, intercepts
            )
            input_synapse = None
        self.recurrent = recurrent
        self.layout = choose_layout(layout, int(n_neurons), system.order)
        minimum = minimum_neurons(self.layout, system.order)
        if n_neurons < minimum:
            raise ValidationError(
                f"n_neurons={n_neurons} is too small for layout {self.layout!r} with "
                f"{system.order} states: it needs at least {minimum}",
                attr="n_neurons",
                obj=self,
            )
        self.synapse = synapse
        self.neuron_type = neuron_type
        subpopulation_size = check_order(
            subpopulation_size, obj=self, attr="subpopulation_size"
        )

        realized = self._realize(system, realizer)
        if isinstance(radii, str):
            check_choice(radii, ("auto",) + NORMS, "radii", obj=self)
            if radii == "auto":
                radii = measure_radii(realized, input_process, dt=self.dt)
            else:
                radii = norm_radii(realized, radii)
        radii = np.broadcast_to(np.asarray(radii, dtype=float), (system.order,))
        if not np.all(np.isfinite(radii)) or np.any(radii <= 0):
            raise ValidationError(
                f"radii must be finite and > 0; got {radii}", attr="radii", obj=self
            )
        self.radii = radii
        # x = diag(radii) x_scaled: the neurons represent x_scaled, in [-1, 1]
        self.realization = realized.transform(np.diag(1.0 / radii))
        try:
            if system.analog:
                A_H, B_H = principle3(
                    self.realization.A,
                    self.realization.B,
                    synapse,
                    mapping=mapping,
                    dt=self.dt,
                )
            else:
                A_H, B_H = principle3_digital(
                    self.realization.A, self.realization.B, synapse, self.dt
                )
        except ValidationError as e:
            raise ValidationError(str(e.args[0]), attr="synapse", obj=self) from e
        self.recurrent_transform = A_H
        self.input_transform = B_H
        peak = None
        if self.target == "loihi":
            process = default_process() if input_process is None else input_process
            duration = max(10.0, getattr(process, "period", 0) or 0)
            peak = input_peak(process, self.dt, duration, trials=RADIUS_TRIALS)

        with self:
            self.input = nengo.Node(size_in=system.size_in, label="input")
            self.state = nengo.Node(size_in=system.order, label="state")
            self.output = nengo.Node(size_in=system.size_out, label="output")
            _, self.subpopulations = build_state(
                self.layout,
                int(n_neurons),
                A_H,
                B_H,
                synapse,
                u=self.input,
                x=self.state,
                readouts=[(self.output, self.realization.C)],
                neuron_type=neuron_type,
                max_rates=max_rates,
                intercepts=intercepts,
                solver=solver,
                subpopulation_size=subpopulation_size,
                label="state",
                recurrent=recurrent,
                input_synapse=input_synapse,
                input_peak=peak,
            )
            if np.any(self.realization.D != 0):
                nengo.Connection(
                    self.input, self.output, transform=self.realization.D, synapse=None
                )

    def _realize(self, system, realizer):
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


Builder.register(LinearNetwork)(build_for_nengo(build_mapped_network))
