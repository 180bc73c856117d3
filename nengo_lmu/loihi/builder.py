"""nengo_loihi's builder for the networks of this package: checks first.

`register_builders` registers `build_on_loihi` for
`nengo_lmu.networks.LinearNetwork` (and so `LMUMemory`, `RollingWindow` and any
subclass) with nengo_loihi's builder, once, where nengo_loihi has been imported:
``import nengo_lmu.loihi`` does it, as do the helpers here that use nengo_loihi.
Nothing here imports nengo_loihi before a function needs it (it imports
TensorFlow).
"""

import sys

import nengo
import numpy as np
from nengo.exceptions import BuildError

from nengo_lmu.networks import LinearNetwork
from nengo_lmu.networks.builder import check_simulator_dt

# Neuron types nengo_loihi runs on chip.
ON_CHIP_NEURON_TYPES = (nengo.LIF, nengo.SpikingRectifiedLinear)


def register_builders():
    """Register `build_on_loihi` for `nengo_lmu.networks.LinearNetwork` with
    nengo_loihi's builder, where nengo_loihi has been imported (it is never
    imported here). Idempotent.

    Returns
    -------
    registered : bool
        Whether nengo_loihi's builder now builds the networks through
        `build_on_loihi` (False: nengo_loihi is not imported yet).
    """
    module = sys.modules.get("nengo_loihi.builder")
    if module is None:
        return False
    if LinearNetwork not in module.Builder.builders:
        module.Builder.register(LinearNetwork)(build_on_loihi)
    return True


def build_on_loihi(model, network, **kwargs):
    """nengo_loihi's network builder, after checking what nengo_loihi cannot build.

    - A discrete mapping made for another ``dt`` (as on Nengo).
    - A network wired for Nengo (the default `Wiring`) whose decoded recurrence
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
    if network.target != "loihi":
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
                    f"with wiring=nengo_lmu.loihi.LoihiWiring() (neuron-to-neuron "
                    f"recurrent weights, no decode neurons), or layout='ensemble'"
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
