"""How neurons are laid out under a linear system's state: the layouts.

A state ``x`` of dimension ``d`` realized through NEF Principle 3 (the loop
``x <- synapse(A_H x + B_H u)``) can live in

- ``"ensemble"``: one ``d``-dimensional ensemble;
- ``"per-dimension"``: one 1-D ensemble per state;
- ``"subpopulations"``: one ensemble whose neurons each encode one state, in
  groups with independently solved decoders (linear build cost, millions of
  neurons).

`build_state` wires any of them; `nengo_lmu.networks.LinearNetwork` and
`nengo_lmu.networks.LMUMemory` both use it.
"""

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu._validation import check_positive
from nengo_lmu.networks.subpopulations import (
    DEFAULT_GROUP_SIZE,
    SubpopulationEncoders,
    SubpopulationSolver,
    diagonal_eval_points,
)

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


def default_neuron_type():
    """The neuron type an ensemble created here would get from the active
    `nengo.Config` (``nengo.LIF()`` unless a network's config says otherwise)."""
    return nengo.Config.default(nengo.Ensemble, "neuron_type")


def subpopulation_ensemble(
    n_neurons,
    dimensions,
    group_size=DEFAULT_SUBPOPULATION_SIZE,
    label=None,
    **ensemble_kwargs,
):
    """An ensemble whose neurons each encode one dimension, and its solver.

    A plain `nengo.Ensemble` with `SubpopulationEncoders` and diagonal evaluation
    points; its other arguments (``neuron_type``, ``max_rates``, ...) come from
    ``ensemble_kwargs`` or the active `nengo.Config`. Decode it with the returned
    `SubpopulationSolver` (each dimension's neurons in groups of about
    ``group_size``, solved independently at build time; linear cost).

    Returns
    -------
    ensemble : nengo.Ensemble
    solver : SubpopulationSolver
    """
    solver = SubpopulationSolver(group_size=group_size)
    ensemble = nengo.Ensemble(
        n_neurons,
        dimensions,
        encoders=SubpopulationEncoders(),
        eval_points=diagonal_eval_points(dimensions, len(solver.points())),
        label=label,
        **ensemble_kwargs,
    )
    return ensemble, solver


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
    """The fewest neurons a layout can have for a state of ``dimensions``."""
    return 1 if layout == "ensemble" else dimensions


def build_state(
    layout,
    n_neurons,
    recurrent_transform,
    input_transform,
    synapse,
    u,
    x,
    x_offset=0,
    readouts=(),
    neuron_type=None,
    max_rates=None,
    intercepts=None,
    solver=None,
    subpopulation_size=DEFAULT_SUBPOPULATION_SIZE,
    label="state",
    connection_synapse="synapse",
    recurrent="decoded",
):
    """Neurons that represent the state of ``x <- synapse(A_H x + B_H u)``.

    Call inside the network that should hold them.

    Parameters
    ----------
    layout : {"ensemble", "per-dimension", "subpopulations"}
    n_neurons : int
        Neurons in all (split as evenly as possible over the states, except in
        ``"ensemble"``).
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
    neuron_type, max_rates, intercepts : optional
        Passed to the ensembles; when None, the active `nengo.Config` decides.
    solver : nengo.solvers.Solver, optional
        Decoder solver (``"ensemble"`` and ``"per-dimension"``).
    subpopulation_size : int
        Neurons per independently decoded group (``"subpopulations"``).
    label : str
    connection_synapse : nengo.synapses.Synapse or None
        The synapse placed on the recurrent and input connections, when it is
        not ``synapse`` itself: None for hardware that applies ``synapse`` after
        its own decode stage (nengo_loihi's ``decode_tau``). Default: ``synapse``.
    recurrent : {"decoded", "weights"}
        ``"weights"``: the recurrence as neuron-to-neuron weights
        (``LstsqL2(weights=True)``) instead of through the decoded state
        (``"ensemble"`` layout only).

    Returns
    -------
    ensembles : list of nengo.Ensemble
    subpopulations : list of (nengo.Ensemble, nengo.Connection)
        The sub-population ensembles and their decoding connections, which
        `nengo_lmu.networks.subpopulations.fuse_subpopulation` may fuse on Nengo's
        reference simulator.
    """
    d = recurrent_transform.shape[0]
    subpopulations = []
    ens_kwargs = {}
    for name, value in (
        ("neuron_type", neuron_type),
        ("max_rates", max_rates),
        ("intercepts", intercepts),
    ):
        if value is not None:
            ens_kwargs[name] = value
    conn_kwargs = {} if solver is None else {"solver": solver}
    x_all = x[x_offset : x_offset + d]
    if layout == "ensemble":
        ens = nengo.Ensemble(n_neurons, d, label=label, **ens_kwargs)
        nengo.Connection(ens, x_all, synapse=None, **conn_kwargs)
        for target, transform in readouts:
            nengo.Connection(
                ens, target, transform=transform, synapse=None, **conn_kwargs
            )
        targets = [(ens, slice(None))]
    elif layout == "per-dimension":
        sizes = [len(a) for a in np.array_split(np.arange(n_neurons), d)]
        targets = []
        for i, n_i in enumerate(sizes):
            ens = nengo.Ensemble(n_i, 1, label=f"{label}[{i}]", **ens_kwargs)
            nengo.Connection(ens, x[x_offset + i], synapse=None, **conn_kwargs)
            for target, transform in readouts:
                nengo.Connection(
                    ens,
                    target,
                    transform=np.asarray(transform)[:, i : i + 1],
                    synapse=None,
                    **conn_kwargs,
                )
            targets.append((ens, slice(i, i + 1)))
    elif layout == "subpopulations":
        ens, sub_solver = subpopulation_ensemble(
            n_neurons, d, group_size=subpopulation_size, label=label, **ens_kwargs
        )
        decode = nengo.Connection(ens, x_all, synapse=None, solver=sub_solver)
        subpopulations.append((ens, decode))
        for target, transform in readouts:
            nengo.Connection(x_all, target, transform=transform, synapse=None)
        targets = [(ens, slice(None))]
    else:
        raise ValueError(f"unknown layout {layout!r}")
    if connection_synapse == "synapse":
        connection_synapse = synapse
    if recurrent not in ("decoded", "weights"):
        raise ValidationError(
            f"Must be 'decoded' or 'weights'; got {recurrent!r}", attr="recurrent"
        )
    if recurrent == "weights" and layout != "ensemble":
        raise ValidationError(
            f"recurrent='weights' needs layout='ensemble'; got {layout!r}",
            attr="recurrent",
        )
    for ens, rows in targets:
        if recurrent == "weights":
            nengo.Connection(
                ens,
                ens,
                transform=recurrent_transform,
                synapse=connection_synapse,
                solver=nengo.solvers.LstsqL2(weights=True),
            )
        else:
            nengo.Connection(
                x_all,
                ens,
                transform=recurrent_transform[rows],
                synapse=connection_synapse,
            )
        nengo.Connection(
            u, ens, transform=input_transform[rows], synapse=connection_synapse
        )
    return [ens for ens, _ in targets], subpopulations
