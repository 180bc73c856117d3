"""How neurons are laid out under a linear system's state: the layouts.

A state ``x`` of dimension ``d`` realized through NEF Principle 3 (the loop
``x <- synapse(A_H x + B_H u)``, a `State`) can live in

- ``"ensemble"`` (`OneEnsemble`): one ``d``-dimensional ensemble;
- ``"per-dimension"`` (`PerDimension`): one 1-D ensemble per state;
- ``"subpopulations"`` (`Subpopulations`): one ensemble whose neurons each
  encode one state, in groups with independently solved decoders (linear build
  cost, millions of neurons).

A layout makes the ensembles and their decodes; the network's
`nengo_lmu.networks.wiring.Wiring` says how they are connected (the recurrence,
the input). `build_state` does both; `nengo_lmu.networks.LinearNetwork` and
`nengo_lmu.networks.LMUMemory` use it. The ensembles' settings (neuron type,
rates, ...) come from the active `nengo.Config`: call it inside the network
whose config should apply.
"""

import collections

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu._validation import check_choice, check_order, check_positive
from nengo_lmu.networks.subpopulations import (
    DEFAULT_GROUP_SIZE,
    SOLVER_DTYPES,
    SubpopulationConnection,
    SubpopulationEncoders,
    SubpopulationEnsemble,
    SubpopulationSolver,
    diagonal_eval_points,
)
from nengo_lmu.networks.wiring import Wiring

LAYOUTS = ("auto", "ensemble", "per-dimension", "subpopulations")

# Above this many neurons per state dimension, "auto" switches from nengo-solved
# per-dimension ensembles to sub-populations with batched, independently solved
# decoders. Nengo's default solver on a 1-D ensemble measured here: 2,000 neurons
# 1.1 s / 0.37 GB, 5,000 neurons 7.8 s / 2.0 GB (2 CPU cores, nengo 4.1);
# an order-6 memory of 10,000 neurons (1,667 per state) took 26 s to build and run
# per-dimension, and the sub-population error was the same within noise.
AUTO_SUBPOPULATION_THRESHOLD = 1000

# Default sub-population size: big enough for a well-conditioned 1-D decoder,
# small enough that the batched Gram matrices stay cheap (cost ~ n_neurons * size).
DEFAULT_SUBPOPULATION_SIZE = DEFAULT_GROUP_SIZE

State = collections.namedtuple(
    "State",
    "n_neurons recurrent_transform input_transform synapse u x x_offset readouts label "
    "neurons_per_state",
    defaults=(0, (), "state", None),
)
State.__doc__ = """What a layout builds: neurons that represent the state of
``x <- synapse(A_H x + B_H u)``.

Parameters
----------
n_neurons : int
    Neurons in all (split as evenly as possible over the states, except in
    ``"ensemble"``, unless ``neurons_per_state`` is given).
recurrent_transform, input_transform : ndarray
    ``A_H`` (d x d) and ``B_H`` (d x k) from `nengo_lmu.mapping.principle3`.
synapse : nengo.synapses.Synapse
    The synapse the transforms were made for (recurrent and input).
u : nengo object
    The input (k dimensions): a node or a slice of one.
x : nengo.Node
    Receives the decoded state, unfiltered, in dimensions ``x_offset`` to
    ``x_offset + d`` (a node, not a slice: each layout slices it itself).
x_offset : int
readouts : sequence of (target, transform)
    More decodes of the state: ``target`` receives ``transform @ x``,
    unfiltered (decoded from the neurons directly, except in
    ``"subpopulations"``, where they read ``x``: one decode of the many
    neurons per step instead of several).
label : str
neurons_per_state : (d,) array_like of int, optional
    How many of the neurons each state gets (summing to ``n_neurons``; see
    `nengo_lmu.systems.noise.allocate_neurons`); None: as even as possible.
    Not for ``"ensemble"``, whose neurons all represent every state.
"""


def subpopulation_ensemble(
    n_neurons,
    dimensions,
    group_size=DEFAULT_SUBPOPULATION_SIZE,
    label=None,
    solver_dtype="float64",
    **ensemble_kwargs,
):
    """An ensemble whose neurons each encode one dimension, and its solver.

    A `SubpopulationEnsemble` (a `nengo.Ensemble`) with `SubpopulationEncoders`
    and diagonal evaluation points; its other arguments (``neuron_type``,
    ``max_rates``, ``fuse``, ...) come from ``ensemble_kwargs`` or the active
    `nengo.Config`. Decode it with the returned `SubpopulationSolver` (each
    dimension's neurons in groups of about ``group_size``, solved independently
    at build time, in ``solver_dtype``; linear cost).

    Returns
    -------
    ensemble : SubpopulationEnsemble
    solver : SubpopulationSolver
    """
    solver = SubpopulationSolver(group_size=group_size, dtype=solver_dtype)
    ensemble_kwargs.setdefault("encoders", SubpopulationEncoders())
    ensemble = SubpopulationEnsemble(
        n_neurons,
        dimensions,
        eval_points=diagonal_eval_points(dimensions, len(solver.points())),
        label=label,
        **ensemble_kwargs,
    )
    return ensemble, solver


def default_neuron_type():
    """The neuron type an ensemble created here would get from the active
    `nengo.Config` (``nengo.LIF()`` unless a network's config says otherwise)."""
    return nengo.Config.default(nengo.Ensemble, "neuron_type")


def check_neurons_and_synapse(network, n_neurons, neuron_type, synapse):
    """The arguments every network here takes, checked: ``n_neurons`` an integer,
    ``neuron_type`` a NeuronType (None: the active config's), ``synapse`` a
    nengo synapse (a float: a lowpass with that time constant).

    Returns
    -------
    n_neurons : int
    neuron_type : nengo.neurons.NeuronType
    synapse : nengo.synapses.Synapse
    """
    if isinstance(n_neurons, bool) or not isinstance(n_neurons, (int, np.integer)):
        raise ValidationError(
            f"Must be an integer; got {n_neurons!r}", attr="n_neurons", obj=network
        )
    neuron_type = default_neuron_type() if neuron_type is None else neuron_type
    if not isinstance(neuron_type, nengo.neurons.NeuronType):
        raise ValidationError(
            f"Must be a nengo NeuronType; got {neuron_type!r}",
            attr="neuron_type",
            obj=network,
        )
    if isinstance(synapse, (int, float)) and not isinstance(synapse, bool):
        synapse = nengo.Lowpass(check_positive(synapse, "synapse", obj=network))
    return int(n_neurons), neuron_type, synapse


def choose_layout(layout, n_neurons, dimensions):
    """``"auto"`` -> ``"per-dimension"`` up to `AUTO_SUBPOPULATION_THRESHOLD`
    neurons per state, ``"subpopulations"`` above; any other layout as given."""
    if layout != "auto":
        return layout
    if n_neurons / dimensions > AUTO_SUBPOPULATION_THRESHOLD:
        return "subpopulations"
    return "per-dimension"


def minimum_neurons(layout, dimensions):
    """The fewest neurons a layout (a name) can have for a state of
    ``dimensions``."""
    return 1 if layout == "ensemble" else dimensions


class Layout:
    """How neurons are laid out under a state: a builder of `State` specs.

    A subclass makes the ensembles and their decodes (`Layout.ensembles`) and
    the neuron-to-neuron recurrence (`Layout.weights_recurrence`); `Layout.build`
    connects them as the `Wiring` says.
    """

    name = None

    def __repr__(self):
        return f"{type(self).__name__}()"

    def ensembles(self, state, wiring):
        """Make the ensembles under ``state`` and their decodes (into ``state.x``
        and the readouts).

        Returns
        -------
        targets : list of (nengo.Ensemble, slice)
            Each ensemble and the rows of the state it represents.
        subpopulations : list of (nengo.Ensemble, nengo.Connection)
        """
        raise NotImplementedError

    def weights_recurrence(self, state, ensembles, i, synapse):
        """Neuron-to-neuron recurrent connections into ``ensembles[i]``."""
        raise ValidationError(
            f"recurrent='weights' needs layout 'ensemble' or 'per-dimension'; got "
            f"{self.name!r}",
            attr="recurrent",
        )

    def build(self, state, wiring=None):
        """The neurons under ``state`` (a `State`), wired by ``wiring`` (default
        Nengo's `Wiring`). Call inside the network that should hold them.

        Returns
        -------
        ensembles : list of nengo.Ensemble
        subpopulations : list of (nengo.Ensemble, nengo.Connection)
            The sub-population ensembles (`SubpopulationEnsemble`) and their
            decoding connections (`SubpopulationConnection`), which their
            builders fuse into one step on Nengo's reference simulator.
        """
        wiring = Wiring() if wiring is None else wiring
        targets, subpopulations = self.ensembles(state, wiring)
        wiring.check_layout(None, self.name)
        connection_synapse = wiring.connection_synapse
        if connection_synapse == "synapse":
            connection_synapse = state.synapse
        input_synapse = wiring.input_synapse
        if input_synapse == "connection":
            input_synapse = connection_synapse
        ensembles = [ens for ens, _ in targets]
        x_all = _state_slice(state)
        for i, (ens, rows) in enumerate(targets):
            if wiring.recurrent == "decoded":
                nengo.Connection(
                    x_all,
                    ens,
                    transform=state.recurrent_transform[rows],
                    synapse=connection_synapse,
                )
            else:
                self.weights_recurrence(state, ensembles, i, connection_synapse)
            B_rows = state.input_transform[rows]
            splits = 1
            if wiring.input_peak is not None:
                splits = input_splits(B_rows, wiring.input_peak, wiring.input_range)
            for _ in range(splits):
                nengo.Connection(
                    state.u, ens, transform=B_rows / splits, synapse=input_synapse
                )
        return ensembles, subpopulations


class OneEnsemble(Layout):
    """``"ensemble"``: one ``d``-dimensional ensemble."""

    name = "ensemble"

    def ensembles(self, state, wiring):
        d = state.recurrent_transform.shape[0]
        if state.neurons_per_state is not None:
            raise ValidationError(
                "layout 'ensemble' has no neurons of one state to allocate: every "
                "neuron represents all of them; use 'per-dimension' or "
                "'subpopulations'",
                attr="allocation",
            )
        ens = nengo.Ensemble(state.n_neurons, d, label=state.label)
        nengo.Connection(ens, _state_slice(state), synapse=None)
        for target, transform in state.readouts:
            nengo.Connection(ens, target, transform=transform, synapse=None)
        return [(ens, slice(None))], []

    def weights_recurrence(self, state, ensembles, i, synapse):
        (ens,) = ensembles
        nengo.Connection(
            ens,
            ens,
            transform=state.recurrent_transform,
            synapse=synapse,
            solver=nengo.solvers.LstsqL2(weights=True),
        )


class PerDimension(Layout):
    """``"per-dimension"``: one 1-D ensemble (pool) per state; with a
    ``Wiring(pool_size=...)``, independent copies of at most ``pool_size``
    neurons per pool, whose decoded states are averaged."""

    name = "per-dimension"

    def ensembles(self, state, wiring):
        d = state.recurrent_transform.shape[0]
        pool_size = wiring.pool_size
        copies = 1 if pool_size is None else n_copies(state.n_neurons, d, pool_size)
        sizes = None
        if state.neurons_per_state is not None:
            sizes = check_neurons_per_state(state.neurons_per_state, state.n_neurons, d)
            if pool_size is not None:
                copies = max(copies, -(-int(np.max(sizes)) // pool_size))
            if np.min(sizes) < copies:
                raise ValidationError(
                    f"neurons_per_state={list(sizes)}: each state needs at least "
                    f"one neuron in each of the {copies} copies that pool_size="
                    f"{pool_size} makes",
                    attr="allocation",
                )
            # per copy, each state's share of its count
            sizes = np.array([_split(n, copies) for n in sizes]).T
        targets = []
        for c, n_c in enumerate(_split(state.n_neurons, copies)):
            name = state.label if copies == 1 else f"{state.label}.copy{c}"
            per_state = _split(n_c, d) if sizes is None else sizes[c]
            for i, n_i in enumerate(per_state):
                ens = nengo.Ensemble(n_i, 1, label=f"{name}[{i}]")
                # the average of the copies' decoded states
                scale = {} if copies == 1 else {"transform": 1.0 / copies}
                nengo.Connection(
                    ens, state.x[state.x_offset + i], synapse=None, **scale
                )
                for target, transform in state.readouts:
                    nengo.Connection(
                        ens,
                        target,
                        transform=np.asarray(transform)[:, i : i + 1] / copies,
                        synapse=None,
                    )
                targets.append((ens, slice(i, i + 1)))
        return targets, []

    def weights_recurrence(self, state, ensembles, i, synapse):
        # pool i of copy c is fed by the d pools of copy c alone
        A_H = state.recurrent_transform
        d = A_H.shape[0]
        copy = ensembles[i - i % d : i - i % d + d]
        for j, pre in enumerate(copy):
            if A_H[i % d, j] != 0:
                nengo.Connection(
                    pre,
                    ensembles[i],
                    transform=A_H[i % d, j][None, None],
                    synapse=synapse,
                    solver=nengo.solvers.LstsqL2(weights=True),
                )


class Subpopulations(Layout):
    """``"subpopulations"``: one ensemble per state vector whose neurons each
    encode one state, decoded in groups of about ``size`` neurons solved
    independently at build time (`subpopulation_ensemble`).

    Parameters
    ----------
    size : int
        Neurons per independently decoded group.
    solver_dtype : {"float64", "float32"}
        Precision of the groups' solves (`SubpopulationSolver`'s ``dtype``):
        ``"float32"`` builds large memories faster, with the same error.
    """

    name = "subpopulations"

    def __init__(self, size=DEFAULT_SUBPOPULATION_SIZE, solver_dtype="float64"):
        self.size = check_order(size, attr="size")
        self.solver_dtype = check_choice(
            solver_dtype, SOLVER_DTYPES, attr="solver_dtype"
        )

    def __repr__(self):
        dtype = "" if self.solver_dtype == "float64" else ", solver_dtype='float32'"
        return f"Subpopulations(size={self.size}{dtype})"

    def ensembles(self, state, wiring):
        d = state.recurrent_transform.shape[0]
        x_all = _state_slice(state)
        encoders = {}
        if state.neurons_per_state is not None:
            sizes = check_neurons_per_state(state.neurons_per_state, state.n_neurons, d)
            encoders = {"encoders": AllocatedEncoders(sizes)}
        ens, solver = subpopulation_ensemble(
            state.n_neurons,
            d,
            group_size=self.size,
            label=state.label,
            solver_dtype=self.solver_dtype,
            **encoders,
        )
        decode = SubpopulationConnection(ens, x_all, synapse=None, solver=solver)
        for target, transform in state.readouts:
            nengo.Connection(x_all, target, transform=transform, synapse=None)
        return [(ens, slice(None))], [(ens, decode)]


class AllocatedEncoders(SubpopulationEncoders):
    """`SubpopulationEncoders` with given numbers of neurons per dimension.

    Neuron ``i`` encodes one dimension, in contiguous blocks of ``sizes[k]``
    neurons for dimension ``k``, with a random sign. (The layout a network with
    an ``allocation`` gives its sub-population ensemble; the ensemble's builder
    and `SubpopulationSolver`'s builder read the blocks from the encoders.)

    Parameters
    ----------
    sizes : (d,) array_like of int
        Neurons per dimension (each >= 1).
    """

    def __init__(self, sizes):
        super().__init__()
        self.sizes = tuple(int(n) for n in sizes)

    def __repr__(self):
        return f"AllocatedEncoders(sizes={list(self.sizes)})"

    def dims(self, n, d):
        if len(self.sizes) != d or sum(self.sizes) != n:
            raise ValidationError(
                f"sizes {list(self.sizes)} do not split {n} neurons over {d} "
                f"dimensions",
                attr="sizes",
                obj=self,
            )
        return np.repeat(np.arange(d), self.sizes)


def check_neurons_per_state(neurons_per_state, n_neurons, dimensions, obj=None):
    """``neurons_per_state`` as ints, or raise: one positive count per state,
    summing to ``n_neurons``."""
    sizes = np.asarray(neurons_per_state)
    if (
        sizes.shape != (dimensions,)
        or not np.issubdtype(sizes.dtype, np.integer)
        or np.any(sizes < 1)
        or int(np.sum(sizes)) != n_neurons
    ):
        raise ValidationError(
            f"Must be {dimensions} integers >= 1 summing to {n_neurons} (one count "
            f"per state); got {np.asarray(neurons_per_state).tolist()!r}",
            attr="allocation",
            obj=obj,
        )
    return sizes.astype(int)


def as_layout(layout):
    """A `Layout` for a name of `LAYOUTS` (not ``"auto"``) or a `Layout`."""
    if isinstance(layout, Layout):
        return layout
    classes = {cls.name: cls for cls in (OneEnsemble, PerDimension, Subpopulations)}
    if layout not in classes:
        raise ValidationError(
            f"Must be one of {tuple(classes)} or a Layout; got {layout!r}",
            attr="layout",
        )
    return classes[layout]()


def build_state(state, layout, wiring=None):
    """Neurons that represent ``state`` (a `State`): ``layout`` (a name or a
    `Layout`) wired by ``wiring`` (default Nengo's `Wiring`).

    Call inside the network that should hold them; see `Layout.build`.
    """
    return as_layout(layout).build(state, wiring)


def input_splits(input_transform, peak, limit):
    """How many equal connections carry ``input_transform @ u`` with each within
    ``+-limit`` for ``|u| <= peak``: ``ceil(peak * max_i sum_j |B_ij| / limit)``."""
    bound = peak * float(np.max(np.sum(np.abs(input_transform), axis=1)))
    return max(1, int(np.ceil(bound / limit - 1e-9)))


def n_copies(n_neurons, dimensions, pool_size):
    """Independent copies a per-dimension state of ``n_neurons`` forms when no
    pool may exceed ``pool_size`` neurons (`Wiring`'s ``pool_size``)."""
    return max(1, -(-n_neurons // (dimensions * pool_size)))


def _state_slice(state):
    d = state.recurrent_transform.shape[0]
    return state.x[state.x_offset : state.x_offset + d]


def _split(n, parts):
    """``n`` split into ``parts`` sizes as even as possible (larger first)."""
    return [len(a) for a in np.array_split(np.arange(n), parts)]
