"""Spiking realizations of the LMU memory (NEF Principle 3) as Nengo networks."""

import numpy as np
import nengo
from nengo.exceptions import ValidationError

from nengo_lmu._validation import check_choice, check_order, check_positive
from nengo_lmu.mapping import MAPPINGS, principle3
from nengo_lmu.systems import legendre_readout, realize, window_readout

LAYOUTS = ("auto", "ensemble", "per-dimension", "subpopulations")
NETWORK_REALIZATIONS = ("legendre", "balanced")

# Above this many neurons per state dimension, "auto" switches from nengo-solved
# per-dimension ensembles to sub-populations with batched, independently solved
# decoders. Nengo's default solver on a 1-D ensemble measured here: 2,000 neurons
# 1.1 s / 0.37 GB, 5,000 neurons 7.8 s / 2.0 GB (shared REFERENCE.md section 3).
AUTO_SUBPOPULATION_THRESHOLD = 2000

# Default sub-population size: big enough for a well-conditioned 1-D decoder,
# small enough that the batched Gram matrices stay cheap (cost ~ n_neurons * size).
DEFAULT_SUBPOPULATION_SIZE = 200


def _default_neuron_type():
    return nengo.LIF()


def solve_subpopulation_decoders(
    neuron_type, gain, bias, encoders, group_size, n_eval_points=None, reg=0.1,
    chunk_neurons=200_000,
):
    """Decoders for 1-D sub-populations, each solved independently (batched).

    Neurons are taken in consecutive groups of ``group_size`` (all of one group
    share the same represented dimension); each group's decoder for ``x`` in
    ``[-1, 1]`` is the ridge solution ``(A^T A + n sigma^2 I)^-1 A^T x`` with
    ``sigma = reg * max(A)`` (Nengo's LstsqL2 convention). Never forms an
    ``n_neurons x n_neurons`` matrix; memory is bounded by ``chunk_neurons``.

    Parameters
    ----------
    neuron_type : nengo.neurons.NeuronType
    gain, bias : (n,) arrays
    encoders : (n,) array of +1 / -1
    group_size : int

    Returns
    -------
    decoders : (n,) array
        Each group's decoder of its own dimension (not yet averaged across groups).
    """
    n = gain.shape[0]
    if n % group_size != 0:
        raise ValueError("n must be a multiple of group_size")
    n_eval_points = 2 * group_size if n_eval_points is None else n_eval_points
    x = np.linspace(-1, 1, n_eval_points)
    decoders = np.empty(n)
    groups_per_chunk = max(1, chunk_neurons // group_size)
    n_groups = n // group_size
    eye = np.eye(group_size)
    for g0 in range(0, n_groups, groups_per_chunk):
        g1 = min(n_groups, g0 + groups_per_chunk)
        sl = slice(g0 * group_size, g1 * group_size)
        G = g1 - g0
        # activities: (G, n_eval, group_size)
        J = x[None, :, None] * (encoders[sl] * gain[sl]).reshape(G, 1, group_size)
        J += bias[sl].reshape(G, 1, group_size)
        A = neuron_type.rates(J.reshape(-1), 1.0, 0.0).reshape(J.shape)
        AtA = np.matmul(A.transpose(0, 2, 1), A)
        sigma = reg * A.max(axis=(1, 2))
        AtA += (n_eval_points * sigma**2)[:, None, None] * eye[None]
        Aty = np.matmul(A.transpose(0, 2, 1), x)  # (G, group_size)
        decoders[sl] = np.linalg.solve(AtA, Aty[..., None])[..., 0].ravel()
    return decoders


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
            "subpopulations": self.order * min(subpopulation_size, 2),
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
                n_j = per_input + (1 if j < n_total % self.size_in else 0)
                if layout == "ensemble":
                    ens = nengo.Ensemble(n_j, d, label=f"memory[{j}]", **ens_kwargs)
                    nengo.Connection(ens, state_j, synapse=None, **conn_kwargs)
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
                        targets.append((ens, slice(i, i + 1)))
                else:
                    ens = self._build_subpopulations(
                        n_j, subpopulation_size, neuron_type, max_rates, intercepts,
                        rng, state_j, label=f"memory[{j}]",
                    )
                    targets = [(ens, slice(None))]
                for ens, rows in targets:
                    nengo.Connection(
                        state_j, ens, transform=A_H[rows], synapse=synapse
                    )
                    nengo.Connection(
                        self.input[j], ens, transform=B_H[rows], synapse=synapse
                    )
                nengo.Connection(
                    state_j,
                    self.output[j * d : (j + 1) * d],
                    transform=self.realization.T,
                    synapse=None,
                )

    def _build_subpopulations(
        self, n, group_size, neuron_type, max_rates, intercepts, rng, state, label
    ):
        d = self.order
        # Whole groups only: n is rounded down to a multiple of d * group_size when it
        # is large enough, otherwise the group shrinks to fit.
        per_dim = n // d
        group_size = min(group_size, per_dim)
        per_dim = (per_dim // group_size) * group_size
        n_used = per_dim * d
        max_rates = nengo.dists.Uniform(200, 400) if max_rates is None else max_rates
        intercepts = nengo.dists.Uniform(-1.0, 0.9) if intercepts is None else intercepts
        rates = (
            max_rates.sample(n_used, rng=rng)
            if isinstance(max_rates, nengo.dists.Distribution)
            else np.broadcast_to(np.asarray(max_rates, dtype=float), (n_used,))
        )
        icpts = (
            intercepts.sample(n_used, rng=rng)
            if isinstance(intercepts, nengo.dists.Distribution)
            else np.broadcast_to(np.asarray(intercepts, dtype=float), (n_used,))
        )
        gain, bias = neuron_type.gain_bias(rates, icpts)
        signs = rng.choice([-1.0, 1.0], size=n_used)
        dims = np.repeat(np.arange(d), per_dim)  # neurons of a dimension are contiguous
        encoders = np.zeros((n_used, d))
        encoders[np.arange(n_used), dims] = signs
        dec = solve_subpopulation_decoders(neuron_type, gain, bias, signs, group_size)
        # Average the groups of each dimension: every group decodes the whole state.
        dec /= per_dim / group_size
        decoders = np.zeros((d, n_used))
        decoders[dims, np.arange(n_used)] = dec
        ens = nengo.Ensemble(
            n_used,
            d,
            encoders=encoders,
            gain=gain,
            bias=bias,
            neuron_type=neuron_type,
            # eval points are unused (decoders are solved here); keep them tiny
            eval_points=np.zeros((1, d)),
            label=label,
        )
        nengo.Connection(ens.neurons, state, transform=decoders, synapse=None)
        return ens

    def add_readout(self, what, label=None):
        """A node that reads delays or a window function out of the memory.

        Parameters
        ----------
        what : float, array_like or callable
            Delay(s) ``r`` as fractions of ``theta`` in ``[0, 1]`` (``u(t - r
            theta)``), or a function of the window (see
            `nengo_lmu.systems.window_readout`).

        Returns
        -------
        node : nengo.Node
            ``size_in * n_out`` dimensions (input dimension ``j``'s readouts
            together), unfiltered like `output`.
        """
        if callable(what):
            C = window_readout(self.order, what)
        else:
            C = legendre_readout(self.order, what)
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
