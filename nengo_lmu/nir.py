"""Export spiking LMU memories to the Neuromorphic Intermediate Representation (NIR).

NIR graphs are read by Lava-dl (Loihi 2), SpiNNaker2, Rockpool (Xylo), Sinabs
(Speck), Norse, snnTorch and Spyx. `to_nir` writes an `LMUMemory` as::

    input -> enc (Affine: input weights, bias) -> neurons (CubaLIF) -> dec (Linear)
    dec -> rec (Linear: Principle 3 recurrent weights) -> neurons      (the cycle)
    neurons -> readout (Linear: the decoded memory) -> output

The synapse of the memory is folded into the CubaLIF node (``tau_syn``), since
Lava-dl reads no LI node; non-leaky integrate-and-fire neurons become CubaLIF nodes
with an effectively infinite membrane time constant, or, with ``synapse_node="li"``,
LI + LIF / IF nodes. Weights are in NIR's continuous-time units: a spike is a Dirac
delta of unit area, so they equal Nengo's decoders and encoders (Nengo's discrete
spikes have height 1 / dt).

What NIR cannot express gets an error naming the fix, or needs ``approximate=True``:

- a refractory period (NIR neurons have none): build the memory with
  ``nengo.LIF(tau_ref=0)`` so that its decoders are solved for such neurons;
- Poisson (random) spiking, adaptation, regular spiking of a rate model: no NIR
  node; use LIF or SpikingRectifiedLinear;
- Nengo's clamp of LIF voltages at ``min_voltage`` (0 by default): NIR's voltage is
  unbounded below. ``nengo.LIF(tau_ref=0, min_voltage=-np.inf)`` is exact;
  ``approximate=True`` drops the clamp (the decoded memory changes little: the
  clamp only acts while a neuron is driven below threshold);
- Nengo's SpikingRectifiedLinear integrates ``max(J, 0)`` and resets by
  subtracting the threshold; NIR's IF integrates ``J``, negative too, and resets to
  ``v_reset``. ``approximate=True`` accepts this, but neurons driven below zero then
  fall far below threshold and stay silent: simulated in Norse, such a memory was
  24 % (NRMSE) off Nengo's, against 4.5 % for LIF (order 3, 600 neurons, dt 0.1 ms;
  tests/test_nir.py). Prefer LIF.
- Nengo's LIF emits at most one spike per time step. With ``tau_ref=0`` the
  fastest neurons need more, so simulate such memories at a small ``dt`` (0.1 ms:
  NRMSE 0.053 against the exact memory, 1 ms: 0.24, order 3, 600 neurons), in Nengo
  as in the NIR reader.
- The bias passes through the synapse in NIR (it is the Affine's bias), while
  Nengo adds it after: identical once the synapse has settled, a few ``tau_syn``.
"""

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu._validation import check_choice, check_positive

_INF_TAU = 1e9  # seconds: a CubaLIF with this tau_mem (and r = tau_mem) is an IF


def _require_nir():
    try:
        import nir  # pylint: disable=import-outside-toplevel
    except ImportError as e:  # pragma: no cover
        raise ImportError(
            'NIR export needs the `nir` package: pip install -e ".[nir]" from a '
            "clone of nengo-lmu (or pip install nir)"
        ) from e
    return nir


def _neuron_kind(neuron_type, approximate):
    """'lif' or 'if' for exportable neuron types, else a clear ValidationError."""
    if type(neuron_type) is nengo.LIF:  # pylint: disable=unidiomatic-typecheck
        if neuron_type.tau_ref != 0:
            raise ValidationError(
                f"NIR neurons have no refractory period; got tau_ref="
                f"{neuron_type.tau_ref}. Build the memory with "
                "neuron_type=nengo.LIF(tau_ref=0) so its decoders are solved for "
                "neurons NIR can express",
                attr="neuron_type",
            )
        if neuron_type.min_voltage != -np.inf and not approximate:
            raise ValidationError(
                f"Nengo clamps LIF voltages at min_voltage={neuron_type.min_voltage}; "
                "NIR cannot. Use nengo.LIF(tau_ref=0, min_voltage=-np.inf), or pass "
                "approximate=True to drop the clamp",
                attr="neuron_type",
            )
        return "lif"
    if type(neuron_type) is nengo.SpikingRectifiedLinear:  # noqa: E721
        if not approximate:
            raise ValidationError(
                "Nengo's SpikingRectifiedLinear integrates max(J, 0) and resets by "
                "subtraction; NIR's IF integrates J (negative too) and resets to "
                "v_reset. Pass approximate=True to accept the difference (large: "
                "see nengo_lmu.nir), or export nengo.LIF(tau_ref=0) neurons",
                attr="neuron_type",
            )
        return "if"
    reason = (
        "Poisson (random) spiking has no NIR node"
        if isinstance(neuron_type, nengo.PoissonSpiking)
        else f"{type(neuron_type).__name__} has no NIR node"
    )
    raise ValidationError(
        f"{reason}; export LMU memories built from nengo.LIF(tau_ref=0) or "
        "nengo.SpikingRectifiedLinear() neurons",
        attr="neuron_type",
    )


def _built_weights(memory, dt, model=None):
    """Gather the memory's neuron-level matrices (building it alone if no model)."""
    if model is None:
        model = nengo.builder.Model(dt=dt)
        model.build(memory)
    ensembles = list(memory.all_ensembles)
    offsets = np.cumsum([0] + [e.n_neurons for e in ensembles])
    n = int(offsets[-1])
    index = {e: (offsets[i], offsets[i + 1]) for i, e in enumerate(ensembles)}
    k = memory.input.size_out
    q = memory.state.size_out
    p = memory.output.size_out
    W_in = np.zeros((n, k))
    W_rec = np.zeros((n, q))
    D = np.zeros((q, n))
    R = np.zeros((p, n))
    bias = np.zeros(n)
    gain = np.zeros(n)
    for e in ensembles:
        a, b = index[e]
        bias[a:b] = model.params[e].bias
        gain[a:b] = model.params[e].gain

    def rows(obj, sl):
        return np.arange(obj.size_out if hasattr(obj, "size_out") else obj.size_in)[sl]

    synapses = set()
    state_to_output = []
    for conn in memory.all_connections:
        built = model.params[conn]
        weights = np.atleast_2d(built.weights)
        pre, post = conn.pre_obj, conn.post_obj
        pre_ens = pre.ensemble if isinstance(pre, nengo.ensemble.Neurons) else pre
        if isinstance(post, nengo.Ensemble):
            a, b = index[post]
            encoders = model.params[post].scaled_encoders  # gain * encoders / radius
            cols = rows(pre, conn.pre_slice)
            block = encoders @ weights
            if pre is memory.input:
                W_in[a:b, cols] += block
            elif pre is memory.state:
                W_rec[a:b, cols] += block
            else:
                raise ValidationError(
                    f"Unexpected connection into an ensemble: {conn}", attr="memory"
                )
            synapses.add(conn.synapse)
        elif pre_ens in index:
            a, b = index[pre_ens]
            out_rows = rows(post, conn.post_slice)
            if post is memory.state:
                D[out_rows, a:b] += weights
            elif post is memory.output:
                R[out_rows, a:b] += weights
        elif pre is memory.state and post is memory.output:
            state_to_output.append(conn)  # needs all of D: folded below
        # readout nodes added by add_readout are not exported
    for conn in state_to_output:  # output = T @ state (subpopulation layout)
        T = np.atleast_2d(model.params[conn].weights)
        R[rows(memory.output, conn.post_slice)] += (
            T @ D[rows(memory.state, conn.pre_slice)]
        )
    return W_in, W_rec, D, R, bias, gain, synapses


def to_nir(memory, dt=0.001, approximate=False, synapse_node="cuba", sim=None):
    """Export an `nengo_lmu.networks.LMUMemory` as a `nir.NIRGraph`.

    Parameters
    ----------
    memory : nengo_lmu.networks.LMUMemory
        Built from ``nengo.LIF(tau_ref=0)`` or ``nengo.SpikingRectifiedLinear``
        neurons with a lowpass synapse.
    dt : float
        Time step used to build the memory's weights (its discrete mapping).
    approximate : bool
        Accept the documented approximations (see the module docstring).
    synapse_node : {"cuba", "li"}
        ``"cuba"``: the synapse folded into CubaLIF nodes (read by Lava-dl);
        ``"li"``: an LI node followed by LIF or IF nodes.
    sim : nengo.Simulator, optional
        A simulator that built the memory: its neurons and weights are exported
        (and its dt used). Otherwise the memory is built alone, which gives the
        same neurons only when the memory has a seed (an LMUMemory made inside a
        seeded network gets one).

    Returns
    -------
    graph : nir.NIRGraph
        Nodes ``input``, ``enc``, (``syn``,) ``neurons``, ``dec``, ``rec``,
        ``readout``, ``output``; the edge ``rec -> neurons`` (or ``rec -> syn``)
        closes the recurrent cycle.
    """
    nir = _require_nir()
    from nengo_lmu.networks import LMUMemory  # pylint: disable=import-outside-toplevel

    if not isinstance(memory, LMUMemory):
        raise ValidationError(f"Must be an LMUMemory; got {memory!r}", attr="memory")
    check_choice(synapse_node, ("cuba", "li"), "synapse_node")
    dt = check_positive(sim.dt if sim is not None else dt, "dt")
    kind = _neuron_kind(memory.neuron_type, approximate)
    if not isinstance(memory.synapse, nengo.Lowpass):
        raise ValidationError(
            f"NIR export supports a Lowpass synapse; got {memory.synapse!r}",
            attr="synapse",
        )
    tau_syn = memory.synapse.tau
    W_in, W_rec, D, R, bias, _, synapses = _built_weights(
        memory, dt, model=None if sim is None else sim.model
    )
    if synapses != {memory.synapse}:
        raise ValidationError(
            f"All connections into the neurons must share one synapse; got {synapses}",
            attr="synapse",
        )
    n = bias.shape[0]
    f32 = np.float32
    if kind == "lif":
        tau_mem = np.full(n, memory.neuron_type.tau_rc)
        r = np.ones(n)
    else:
        # dv/dt = I: a CubaLIF/LIF with a huge tau_mem and r = tau_mem
        tau_mem = np.full(n, _INF_TAU)
        r = tau_mem.copy()
    nodes = {
        "input": nir.Input(input_type={"input": np.array([W_in.shape[1]])}),
        "enc": nir.Affine(weight=W_in.astype(f32), bias=bias.astype(f32)),
        "dec": nir.Linear(weight=D.astype(f32)),
        "rec": nir.Linear(weight=W_rec.astype(f32)),
        "readout": nir.Linear(weight=R.astype(f32)),
        "output": nir.Output(output_type={"output": np.array([R.shape[0]])}),
    }
    into = _neuron_nodes(nir, nodes, synapse_node, kind, tau_syn, tau_mem, r)
    edges = _edges(into)
    if synapse_node == "li":
        edges.append(("syn", "neurons"))
    metadata = {
        "source": "nengo_lmu.nir.to_nir",
        "order": memory.order,
        "theta": memory.theta,
        "dt": dt,
        "neuron": kind,
        "approximate": bool(approximate),
    }
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)


def _neuron_nodes(nir, nodes, synapse_node, kind, tau_syn, tau_mem, r):
    """Add the neuron node(s) to ``nodes``: one CubaLIF (``"cuba"``), or an LI
    synapse followed by LIF or IF (``"li"``); returns the node the weights feed."""
    f32 = np.float32
    n = tau_mem.size
    zeros = np.zeros(n, dtype=f32)
    ones = np.ones(n, dtype=f32)
    if synapse_node == "cuba":
        nodes["neurons"] = nir.CubaLIF(
            tau_syn=np.full(n, tau_syn, dtype=f32),
            tau_mem=tau_mem.astype(f32),
            r=r.astype(f32),
            v_leak=zeros,
            v_threshold=ones,
            v_reset=zeros,
        )
        return "neurons"
    else:
        nodes["syn"] = nir.LI(tau=np.full(n, tau_syn, dtype=f32), r=ones, v_leak=zeros)
        if kind == "lif":
            nodes["neurons"] = nir.LIF(
                tau=tau_mem.astype(f32),
                r=ones,
                v_leak=zeros,
                v_threshold=ones,
                v_reset=zeros,
            )
        else:
            nodes["neurons"] = nir.IF(r=ones, v_threshold=ones, v_reset=zeros)
        return "syn"


def _edges(into):
    """The graph's edges; ``into``: the node the input and recurrent weights feed
    (``"neurons"``, a CubaLIF, or ``"syn"``, an LI before LIF / IF)."""
    return [
        ("input", "enc"),
        ("enc", into),
        ("neurons", "dec"),
        ("dec", "rec"),
        ("rec", into),
        ("neurons", "readout"),
        ("readout", "output"),
    ]


def _as_array(x, n):
    return np.broadcast_to(np.asarray(x, dtype=float), (n,)).copy()


def from_nir(graph, label=None):
    """Build a `nengo.Network` (with ``.input`` and ``.output``) from an LMU graph.

    Reads graphs of the shape `to_nir` writes (CubaLIF, or LI + LIF / IF), whatever
    wrote them: the neurons become one ensemble driven at the neuron level, the
    Linear/Affine nodes connection weights. ``.output`` carries the (unfiltered)
    readout, like ``LMUMemory.output``.
    """
    nir = _require_nir()
    nodes = graph.nodes
    _check_graph(nodes, set(map(tuple, graph.edges)))
    tau_syn, tau_mem, r, v_th = _neuron_parameters(nir, nodes)
    n = tau_mem.size
    integrate = not np.isfinite(tau_mem[0]) or tau_mem[0] >= _INF_TAU
    if integrate:
        neuron_type = nengo.SpikingRectifiedLinear()
        # dv/dt = (r / tau_mem) I for the CubaLIF form, r I for IF
        scale = r / (tau_mem[0] if np.isfinite(tau_mem[0]) else 1.0) / v_th
    else:
        neuron_type = nengo.LIF(
            tau_rc=float(tau_mem[0]), tau_ref=0, min_voltage=-np.inf
        )
        scale = r / v_th  # Nengo's threshold is 1: divide the current by v_th
    W_in = np.asarray(nodes["enc"].weight, dtype=float) * scale[:, None]
    bias = (
        np.asarray(nodes["enc"].bias, dtype=float)
        if isinstance(nodes["enc"], nir.Affine)
        else np.zeros(n)
    ) * scale
    W_rec = np.asarray(nodes["rec"].weight, dtype=float) * scale[:, None]
    D = np.asarray(nodes["dec"].weight, dtype=float)
    R = np.asarray(nodes["readout"].weight, dtype=float)
    synapse = nengo.Lowpass(float(tau_syn[0]))
    with nengo.Network(label=label) as net:
        net.input = nengo.Node(size_in=W_in.shape[1], label="input")
        net.output = nengo.Node(size_in=R.shape[0], label="output")
        net.state = nengo.Node(size_in=D.shape[0], label="state")
        net.ensemble = nengo.Ensemble(
            n,
            1,
            neuron_type=neuron_type,
            gain=np.ones(n),
            bias=bias,
            encoders=np.ones((n, 1)),
            eval_points=np.zeros((1, 1)),
            label="neurons",
        )
        nengo.Connection(
            net.input, net.ensemble.neurons, transform=W_in, synapse=synapse
        )
        nengo.Connection(net.ensemble.neurons, net.state, transform=D, synapse=None)
        nengo.Connection(
            net.state, net.ensemble.neurons, transform=W_rec, synapse=synapse
        )
        nengo.Connection(net.ensemble.neurons, net.output, transform=R, synapse=None)
    return net


def _check_graph(nodes, edges):
    """The nodes and edges `to_nir` writes, or a ValidationError naming the first
    one missing."""
    required = ["input", "enc", "neurons", "dec", "rec", "readout", "output"]
    missing = [name for name in required if name not in nodes]
    if missing:
        raise ValidationError(
            f"Not an LMU memory graph as written by to_nir: missing nodes {missing}",
            attr="graph",
        )
    for edge in _edges("syn" if "syn" in nodes else "neurons"):
        if edge not in edges:
            raise ValidationError(
                f"Not an LMU memory graph as written by to_nir: no edge {edge}",
                attr="graph",
            )


def _neuron_parameters(nir, nodes):
    """``(tau_syn, tau_mem, r, v_th)`` per neuron from a CubaLIF node, or an LI
    node followed by LIF or IF; checked to be what Nengo's neurons can be."""
    neurons = nodes["neurons"]
    if isinstance(neurons, nir.CubaLIF):
        tau_syn = _as_array(neurons.tau_syn, neurons.tau_mem.size)
        tau_mem = np.asarray(neurons.tau_mem, dtype=float).ravel()
        n = tau_mem.size
        r = _as_array(neurons.r, n) * _as_array(neurons.w_in, n)
        v_th = _as_array(neurons.v_threshold, n)
        v_leak = _as_array(neurons.v_leak, n)
        v_reset = _as_array(0.0 if neurons.v_reset is None else neurons.v_reset, n)
    elif "syn" in nodes and isinstance(neurons, (nir.LIF, nir.IF)):
        syn = nodes["syn"]
        tau_syn = np.asarray(syn.tau, dtype=float).ravel()
        n = tau_syn.size
        r = _as_array(syn.r, n) * _as_array(neurons.r, n)
        v_th = _as_array(neurons.v_threshold, n)
        v_reset = _as_array(0.0 if neurons.v_reset is None else neurons.v_reset, n)
        if isinstance(neurons, nir.LIF):
            tau_mem = _as_array(neurons.tau, n)
            v_leak = _as_array(neurons.v_leak, n) + _as_array(syn.v_leak, n)
        else:
            tau_mem = np.full(n, np.inf)
            v_leak = np.zeros(n)
    else:
        raise ValidationError(
            f"Unsupported neuron node {type(neurons).__name__}: expected CubaLIF, or "
            "LI followed by LIF or IF",
            attr="graph",
        )
    for name, values in [("v_leak", v_leak), ("v_reset", v_reset)]:
        if np.any(values != 0):
            raise ValidationError(
                f"Nengo neurons need {name} = 0; got {values[values != 0][0]}",
                attr="graph",
            )
    if np.ptp(tau_syn) > 0 or np.ptp(tau_mem) > 0:
        raise ValidationError(
            "All neurons must share tau_syn and tau_mem", attr="graph"
        )
    return tau_syn, tau_mem, r, v_th


def write(memory, path, **kwargs):
    """`to_nir` (with ``kwargs``) then `nir.write` to ``path``; returns the graph."""
    nir = _require_nir()
    graph = to_nir(memory, **kwargs)
    nir.write(str(path), graph)
    return graph
