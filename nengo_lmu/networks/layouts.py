"""How neurons are laid out under a linear system's state: the layouts.

A state ``x`` of dimension ``d`` realized through NEF Principle 3 (the loop
``x <- synapse(A_H x + B_H u)``) can live in

- ``"ensemble"``: one ``d``-dimensional ensemble;
- ``"per-dimension"``: one 1-D ensemble per state;
- ``"subpopulations"``: one ensemble whose neurons each encode one state, in
  groups with independently solved decoders (linear build cost, millions of
  neurons).

`build_state` wires any of them; `nengo_lmu.networks.LinearNetwork` and
`nengo_lmu.networks.LMUMemory` both use it, for one of `TARGETS`:

- ``"nengo"``: Nengo's simulators (reference, NengoDL, ...).
- ``"loihi"``: nengo_loihi (`loihi_wiring`): neuron-to-neuron recurrent weights,
  the input filtered once (on chip) and split so that each host-to-chip
  connection carries values within +-1, Loihi's rates and intercepts.
"""

import sys

import nengo
import numpy as np
from nengo.exceptions import BuildError, ValidationError

from nengo_lmu._validation import check_choice, check_order, check_positive
from nengo_lmu.networks.builder import check_simulator_dt
from nengo_lmu.networks.subpopulations import (
    DEFAULT_GROUP_SIZE,
    SubpopulationConnection,
    SubpopulationEncoders,
    SubpopulationEnsemble,
    SubpopulationSolver,
    diagonal_eval_points,
)
from nengo_lmu.systems import run_process

LAYOUTS = ("auto", "ensemble", "per-dimension", "subpopulations")
TARGETS = ("nengo", "loihi")
RECURRENT = ("auto", "decoded", "weights")

# Loihi neurons: nengo_loihi.set_defaults() and the thesis' Loihi experiment
# (Voelker 2019, dn-loihi.py): 100-120 Hz keeps the spike counts per step well
# within Loihi's range; intercepts U(-1, 0.5) keep every neuron active over
# most of the represented range.
LOIHI_MAX_RATES = nengo.dists.Uniform(100, 120)
LOIHI_INTERCEPTS = nengo.dists.Uniform(-1, 0.5)
# The values a host-to-chip connection can carry: nengo_loihi encodes them in
# on/off input neurons (OnOffDecodeNeurons, is_input=True) that fire at most
# once per step, i.e. at the value 1; beyond it they saturate.
LOIHI_INPUT_RANGE = 1.0
# Neurons per state in one pool of a Loihi-wired per-dimension memory (the
# thesis' 128, Voelker 2019); more neurons form independent copies. A pool's
# neuron-to-neuron weights scale as 1 / (pool neurons), and nengo_loihi gives
# every synapse of a core 8 bits below the largest weight there (the host
# input's, which does not shrink with the pool): at 512 neurons per state the
# recurrent weights kept 3 of them (weight_exp -6 against the block's -1).
LOIHI_POOL_SIZE = 128
# Neuron types nengo_loihi runs on chip.
ON_CHIP_NEURON_TYPES = (nengo.LIF, nengo.SpikingRectifiedLinear)

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

    A `SubpopulationEnsemble` (a `nengo.Ensemble`) with `SubpopulationEncoders`
    and diagonal evaluation points; its other arguments (``neuron_type``,
    ``max_rates``, ``fuse``, ...) come from ``ensemble_kwargs`` or the active
    `nengo.Config`. Decode it with the returned `SubpopulationSolver` (each
    dimension's neurons in groups of about ``group_size``, solved independently
    at build time; linear cost).

    Returns
    -------
    ensemble : SubpopulationEnsemble
    solver : SubpopulationSolver
    """
    solver = SubpopulationSolver(group_size=group_size)
    ensemble = SubpopulationEnsemble(
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


def check_on_chip_neuron_type(neuron_type, obj=None):
    """Raise a clear ValidationError for neuron types Loihi cannot simulate."""
    if type(neuron_type) in ON_CHIP_NEURON_TYPES:
        return neuron_type
    if isinstance(neuron_type, nengo.PoissonSpiking):
        why = (
            "Poisson spiking draws random numbers every step, which Loihi's "
            "deterministic neuron cores cannot do"
        )
    else:
        why = f"{type(neuron_type).__name__} has no Loihi implementation"
    raise ValidationError(
        f"{why}. Use nengo.LIF() or nengo.SpikingRectifiedLinear() on chip, or keep "
        "this memory off-chip with nengo_lmu.loihi.set_off_chip(network, memory) "
        "(at least one other ensemble must stay on chip)",
        attr="neuron_type",
        obj=obj,
    )


def input_peak(process, dt, duration, trials=5, seed=0):
    """The largest ``|u|`` of ``trials`` independent draws of ``process`` (each
    ``duration`` seconds, seeds ``seed``, ``seed + 1``, ...): the input range a
    Loihi wiring splits its input connections for."""
    n_steps = max(1, int(np.ceil(duration / dt)))
    return max(
        float(np.max(np.abs(run_process(process, n_steps, dt, rng))))
        for rng in (np.random.RandomState(seed + k) for k in range(trials))
    )


def loihi_wiring(
    network, layout, recurrent, neuron_type, synapse, max_rates, intercepts
):
    """The choices `TARGETS` ``"loihi"`` makes, checked (in a network's ``__init__``).

    - ``layout``: ``"auto"`` is ``"per-dimension"`` (one pool per state, as in the
      thesis); ``"subpopulations"`` is refused (its build-time solver and fused
      step are Nengo's).
    - ``recurrent``: ``"auto"`` is ``"weights"``. A decoded recurrence on chip
      passes through decode neurons: one block per connection, whose weights
      (``|transform| * decoders / dt``) are too small for any weight exponent
      when a transform entry is small (a BuildError from nengo_loihi), and
      whose spikes reach the ensemble nearly unfiltered.
    - ``neuron_type``: LIF or SpikingRectifiedLinear (`check_on_chip_neuron_type`).
    - ``synapse``: a `nengo.Lowpass` (the only synapse chip-to-chip connections
      take).
    - ``max_rates``, ``intercepts``: `LOIHI_MAX_RATES` and `LOIHI_INTERCEPTS`
      where not given (overriding ``network.config``: Nengo's 200-400 Hz
      overflow Loihi's spike counts at dt = 1 ms).

    Returns
    -------
    layout, recurrent, max_rates, intercepts
    """
    if layout == "subpopulations":
        raise ValidationError(
            "target='loihi' needs layout 'per-dimension' or 'ensemble': the "
            "sub-population layout's solver and fused step are Nengo's",
            attr="layout",
            obj=network,
        )
    layout = "per-dimension" if layout == "auto" else layout
    recurrent = "weights" if recurrent == "auto" else recurrent
    check_on_chip_neuron_type(neuron_type, obj=network)
    if type(synapse) is not nengo.Lowpass:
        raise ValidationError(
            f"target='loihi' needs a nengo.Lowpass synapse (chip-to-chip "
            f"connections take no other); got {synapse!r}",
            attr="synapse",
            obj=network,
        )
    max_rates = LOIHI_MAX_RATES if max_rates is None else max_rates
    intercepts = LOIHI_INTERCEPTS if intercepts is None else intercepts
    return layout, recurrent, max_rates, intercepts


def check_pool_size(network, pool_size, layout, recurrent):
    """``pool_size`` as `build_state` takes it, checked: ``"auto"`` is
    `LOIHI_POOL_SIZE` for ``target="loihi"`` and None (one pool per state)
    otherwise; an int needs ``layout="per-dimension"`` and
    ``recurrent="weights"``."""
    if isinstance(pool_size, str):
        check_choice(pool_size, ("auto",), "pool_size", obj=network)
        loihi = getattr(network, "target", "nengo") == "loihi"
        return LOIHI_POOL_SIZE if loihi and layout == "per-dimension" else None
    if pool_size is None:
        return None
    pool_size = check_order(pool_size, obj=network, attr="pool_size")
    if layout != "per-dimension" or recurrent != "weights":
        raise ValidationError(
            f"pool_size={pool_size} needs layout='per-dimension' and "
            f"recurrent='weights'; got layout={layout!r}, recurrent={recurrent!r}",
            attr="pool_size",
            obj=network,
        )
    return pool_size


def input_splits(input_transform, peak, limit=LOIHI_INPUT_RANGE):
    """How many equal connections carry ``input_transform @ u`` with each within
    ``+-limit`` for ``|u| <= peak``: ``ceil(peak * max_i sum_j |B_ij| / limit)``."""
    bound = peak * float(np.max(np.sum(np.abs(input_transform), axis=1)))
    return max(1, int(np.ceil(bound / limit - 1e-9)))


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
    input_synapse="connection",
    input_peak=None,
    pool_size=None,
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
        (``LstsqL2(weights=True)``) instead of through the decoded state: one
        connection (``"ensemble"``), or one per nonzero ``A_H[i, j]`` from pool
        ``j`` to pool ``i`` (``"per-dimension"``).
    input_synapse : nengo.synapses.Synapse or None
        The synapse on the input connections, if not ``connection_synapse``: None
        where the hardware filters the input itself (nengo_loihi applies a
        host-to-chip connection's synapse on the host and its ensemble's synapse
        on chip).
    input_peak : float, optional
        The largest ``|u|`` expected. When given, each ensemble's input
        connection is split into `input_splits` equal ones, so that each carries
        values within `LOIHI_INPUT_RANGE` (nengo_loihi's input neurons saturate
        beyond it).
    pool_size : int, optional
        ``"per-dimension"`` with ``recurrent="weights"`` only: the most neurons
        per state in one pool. More neurons form independent copies of the
        memory (each ``d`` pools of at most ``pool_size`` neurons, with its own
        input connections and neuron-to-neuron recurrent weights within the
        copy), whose decoded states are averaged. Keeps each neuron's synaptic
        fan-in, and so each weight's size, independent of ``n_neurons`` (see
        `loihi_wiring`). None: one pool per state.

    Returns
    -------
    ensembles : list of nengo.Ensemble
    subpopulations : list of (nengo.Ensemble, nengo.Connection)
        The sub-population ensembles and their decoding connections
        (`SubpopulationConnection`), one fused step each on Nengo's reference
        simulator (unless the ensembles' ``fuse`` option says otherwise).
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
        copies = 1 if pool_size is None else n_copies(n_neurons, d, pool_size)
        targets = []
        for c, n_c in enumerate(_split(n_neurons, copies)):
            name = label if copies == 1 else f"{label}.copy{c}"
            for i, n_i in enumerate(_split(n_c, d)):
                ens = nengo.Ensemble(n_i, 1, label=f"{name}[{i}]", **ens_kwargs)
                # the average of the copies' decoded states
                scale = {} if copies == 1 else {"transform": 1.0 / copies}
                nengo.Connection(
                    ens, x[x_offset + i], synapse=None, **scale, **conn_kwargs
                )
                for target, transform in readouts:
                    nengo.Connection(
                        ens,
                        target,
                        transform=np.asarray(transform)[:, i : i + 1] / copies,
                        synapse=None,
                        **conn_kwargs,
                    )
                targets.append((ens, slice(i, i + 1)))
    elif layout == "subpopulations":
        ens, sub_solver = subpopulation_ensemble(
            n_neurons, d, group_size=subpopulation_size, label=label, **ens_kwargs
        )
        decode = SubpopulationConnection(ens, x_all, synapse=None, solver=sub_solver)
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
    if recurrent == "weights" and layout == "subpopulations":
        raise ValidationError(
            "recurrent='weights' needs layout 'ensemble' or 'per-dimension'; got "
            "'subpopulations'",
            attr="recurrent",
        )
    if input_synapse == "connection":
        input_synapse = connection_synapse
    ensembles = [ens for ens, _ in targets]
    for i, (ens, rows) in enumerate(targets):
        if recurrent == "decoded":
            nengo.Connection(
                x_all,
                ens,
                transform=recurrent_transform[rows],
                synapse=connection_synapse,
            )
        elif layout == "ensemble":
            nengo.Connection(
                ens,
                ens,
                transform=recurrent_transform,
                synapse=connection_synapse,
                solver=nengo.solvers.LstsqL2(weights=True),
            )
        else:
            # pool i of copy c is fed by the d pools of copy c alone
            copy = ensembles[i - i % d : i - i % d + d]
            for j, pre in enumerate(copy):
                if recurrent_transform[i % d, j] != 0:
                    nengo.Connection(
                        pre,
                        ens,
                        transform=recurrent_transform[i % d, j][None, None],
                        synapse=connection_synapse,
                        solver=nengo.solvers.LstsqL2(weights=True),
                    )
        B_rows = input_transform[rows]
        splits = 1 if input_peak is None else input_splits(B_rows, input_peak)
        for _ in range(splits):
            nengo.Connection(u, ens, transform=B_rows / splits, synapse=input_synapse)
    return ensembles, subpopulations


def n_copies(n_neurons, dimensions, pool_size):
    """Independent copies a per-dimension memory of ``n_neurons`` forms when no
    pool may exceed ``pool_size`` neurons (``build_state``'s ``pool_size``)."""
    return max(1, -(-n_neurons // (dimensions * pool_size)))


def _split(n, parts):
    """``n`` split into ``parts`` sizes as even as possible (larger first)."""
    return [len(a) for a in np.array_split(np.arange(n), parts)]


def build_for_nengo(build):
    """Nengo's builder for a network of this package (``build``), refusing a
    network wired for nengo_loihi (``target="loihi"``): its input connections
    carry no synapse (the chip filters them), so Nengo would run other dynamics."""

    def build_checked(model, network, progress=None):
        if getattr(network, "target", "nengo") == "loihi":
            raise BuildError(
                f"{network} is wired for nengo_loihi (target='loihi'): its input "
                f"connections carry no synapse, because the chip filters them; "
                f"construct it with target='nengo' (the default) for "
                f"{type(model).__module__.split('.')[0]}'s simulator"
            )
        return build(model, network, progress=progress)

    return build_checked


def register_loihi_builder(network_class):
    """Register `build_on_loihi` for ``network_class`` with nengo_loihi's builder,
    where nengo_loihi has been imported (never imported here: it imports
    TensorFlow). Network constructors call it, so a network made after
    ``import nengo_loihi`` gets the checks."""
    module = sys.modules.get("nengo_loihi.builder")
    if module is None or network_class in module.Builder.builders:
        return
    module.Builder.register(network_class)(build_on_loihi)


def build_on_loihi(model, network, **kwargs):
    """nengo_loihi's network builder, after checking what nengo_loihi cannot build.

    - A discrete mapping made for another ``dt`` (as on Nengo).
    - A network wired for Nengo (``target="nengo"``) whose decoded recurrence
      needs a decode-neuron block nengo_loihi cannot discretize: each decoded
      connection between on-chip ensembles passes through decode neurons whose
      weights are ``|transform| * decoders / dt``, and when a block's largest
      weight is too small no weight exponent fits (nengo_loihi raises "Could not
      find appropriate weight exponent" at the end of the build, naming no
      connection). The decoders are predicted as nengo_loihi solves them (the
      pre ensemble's neurons sampled from its seed, Loihi's LIF rates, its
      solver), so the error names the connection and the remedy first.
    """
    from nengo_loihi.builder.network import (  # pylint: disable=import-outside-toplevel
        build_network,
    )

    check_simulator_dt(model, network)
    if getattr(network, "target", "nengo") != "loihi":
        for conn, transform, pre, solver in _decoded_recurrences(network):
            on_chip = _on_chip(model, network, pre) and _on_chip(
                model, network, conn.post_obj
            )
            if on_chip and not _decode_block_fits(model, conn, transform, pre, solver):
                raise BuildError(
                    f"{network}: nengo_loihi cannot represent {conn} (the decoded "
                    f"recurrence from {pre} with transform "
                    f"{np.array2string(np.asarray(transform), precision=4)}): its "
                    f"decode neurons' weights, |transform| * decoders / dt, are too "
                    f"small for any Loihi weight exponent. Construct the network "
                    f"with target='loihi' (neuron-to-neuron recurrent weights, no "
                    f"decode neurons), or layout='ensemble'"
                )
    return build_network(model, network, **kwargs)


def _on_chip(model, network, ens):
    """Whether nengo_loihi will put ``ens`` on chip: its own split where the
    network is inside another, the network's ``on_chip`` config otherwise; never
    a neuron type the chip cannot run (nengo_loihi's own error names those)."""
    if type(ens.neuron_type) not in ON_CHIP_NEURON_TYPES:
        return False
    split = getattr(model, "split", None)
    if split is not None:
        return split.on_chip(ens)
    return getattr(network.config[ens], "on_chip", None) is not False


def _decoded_recurrences(network):
    """``(connection, transform, pre ensemble, solver)`` for each decoded connection
    that nengo_loihi will make between two of ``network``'s ensembles: the
    recurrence through the decoded-state node, one per pair of pools."""
    ensembles = set(network.all_ensembles)
    feeds = {}  # state node dimension -> the ensemble decoded into it
    for conn in network.all_connections:
        if conn.pre_obj in ensembles and conn.post_obj is network.state:
            sl = conn.post_slice
            dims = range(network.state.size_in)[sl]
            for k, dim in enumerate(dims):
                feeds[dim] = (conn.pre_obj, k, conn.solver)
    for conn in network.all_connections:
        if conn.pre_obj is not network.state or conn.post_obj not in ensembles:
            continue
        transform = np.atleast_2d(conn.transform.init)
        dims = list(range(network.state.size_in)[conn.pre_slice])
        by_pre, solvers = {}, {}
        for column, dim in enumerate(dims):
            if dim in feeds:
                pre, k, solvers[pre] = feeds[dim]
                by_pre.setdefault(pre, []).append((column, k))
        for pre, pairs in by_pre.items():
            columns = np.zeros((transform.shape[0], pre.dimensions))
            for column, k in pairs:
                columns[:, k] = transform[:, column]
            if np.any(columns != 0):
                yield conn, columns, pre, solvers[pre]


def _decode_block_fits(model, conn, transform, pre, solver):
    """Whether nengo_loihi can discretize the decode-neuron block of a decoded
    connection from ``pre`` with ``transform`` (``post dims x pre dims``)."""
    import copy  # pylint: disable=import-outside-toplevel

    from nengo.builder.ensemble import (  # pylint: disable=import-outside-toplevel
        gen_eval_points,
        get_gain_bias,
    )
    from nengo_loihi.builder.discretize import (  # pylint: disable=import-outside-toplevel
        discretize_block,
    )
    from nengo_loihi.neurons import loihi_rates  # pylint: disable=import-outside-toplevel

    seed = model.seeds.get(pre)
    rng = np.random.RandomState(0 if seed is None else seed)
    # nengo's build_ensemble draws the eval points, then the encoders, then the
    # gains and biases, from the ensemble's seed
    points = gen_eval_points(pre, pre.eval_points, rng=rng)
    encoders = pre.encoders
    if isinstance(encoders, nengo.dists.Distribution):
        encoders = encoders.sample(pre.n_neurons, pre.dimensions, rng=rng)
    encoders = np.asarray(encoders, dtype=float)
    encoders /= np.linalg.norm(encoders, axis=1, keepdims=True)
    gain, bias, _, _ = get_gain_bias(pre, rng)
    x = points @ encoders.T / pre.radius
    activities = loihi_rates(pre.neuron_type, x, gain, bias, model.dt)
    decoders, _ = solver(activities, points @ np.asarray(transform).T, rng=rng)
    block, _ = model.decode_neurons.get_block(decoders / model.dt)
    synapse = conn.synapse
    block.compartment.configure_filter(
        getattr(synapse, "tau", 0.0) if synapse is not None else 0.0, dt=model.dt
    )
    try:
        discretize_block(copy.deepcopy(block))
    except BuildError:
        return False
    return True
