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
DEFAULT_SUBPOPULATION_SIZE = 200


def default_neuron_type():
    """The neuron type an ensemble created here would get from the active
    `nengo.Config` (``nengo.LIF()`` unless a network's config says otherwise)."""
    return nengo.Config.default(nengo.Ensemble, "neuron_type")


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
    if max_rates is None:
        max_rates = nengo.Config.default(nengo.Ensemble, "max_rates")
    if intercepts is None:
        intercepts = nengo.Config.default(nengo.Ensemble, "intercepts")

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


def construction_seed_for(seed):
    """The seed for what must be sampled while a network is constructed.

    ``seed`` if given; else, inside a seeded network, one derived from the
    parent's seed and the number of subnetworks it already holds (so that adding
    nodes, ensembles or connections to the parent shifts nothing); else None
    (fresh randomness).
    """
    if seed is not None or not nengo.Network.context:
        return seed
    parent = nengo.Network.context[-1]
    if parent.seed is None:
        return None
    return (parent.seed * 1_000_003 + 7919 * len(parent.networks)) % 2**31


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
    rng=None,
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
    rng : np.random.RandomState, optional
        Samples the sub-populations' neurons (``"subpopulations"`` only).
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
    """
    d = recurrent_transform.shape[0]
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
        ens, decoders = subpopulation_ensemble(
            n_neurons,
            d,
            default_neuron_type() if neuron_type is None else neuron_type,
            np.random.RandomState(0) if rng is None else rng,
            group_size=subpopulation_size,
            max_rates=max_rates,
            intercepts=intercepts,
            label=label,
        )
        nengo.Connection(ens.neurons, x_all, transform=decoders, synapse=None)
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
    return [ens for ens, _ in targets]
