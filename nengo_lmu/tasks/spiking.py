"""A trained classifier rebuilt in plain Nengo with spiking hidden neurons.

`spiking_classifier` converts the weights of a trained `Trainer` (its
``trained_weights``); `spiking_accuracy` classifies sequences with it in
nengo.Simulator or nengo_loihi.Simulator; `batched_spiking_logits` simulates the
same network for many sequences at once in numpy.
"""

import numbers

import nengo
import numpy as np

from nengo_lmu.dl.neurons import LIF_AMPLITUDE, hidden_neuron_type


class WindowSample(nengo.Process):
    """Sample a signal once per window of ``hold`` steps and hold the sample.

    Window ``j`` holds steps ``j * hold + 1 .. (j + 1) * hold``. The output during
    window ``j`` is a statistic of the input over window ``j - 1``: its ``"last"``
    value or its ``"mean"``; zero during the first ``start`` windows (at least
    one). The input must arrive one step late (through `ONE_STEP`, which also
    breaks the algebraic loop of a recurrent connection through this node).

    With ``"mean"`` over a window of spikes this is a spike count: the rate code
    of a time-stepped spiking network, equal to the rate neuron's output when the
    neuron's input is constant over the window.
    """

    statistic = nengo.params.EnumParam("statistic", values=("last", "mean"))
    hold = nengo.params.IntParam("hold", low=1)
    start = nengo.params.IntParam("start", low=1)

    def __init__(self, hold, statistic="last", start=1, **kwargs):
        super().__init__(**kwargs)
        self.hold = hold
        self.statistic = statistic
        self.start = start

    def make_state(self, shape_in, shape_out, dt, dtype=None):
        return {}

    def make_step(self, shape_in, shape_out, dt, rng, state):
        hold, start, mean = self.hold, self.start, self.statistic == "mean"
        total = np.zeros(shape_in)
        held = np.zeros(shape_out)
        count = [0]  # steps seen, counting the one-step lag

        def step(t, x):
            count[0] += 1
            r = count[0] - 1  # the simulator step this input belongs to
            if r >= 1:
                total[...] += x
                if r % hold == 0:  # the input completed window r // hold - 1
                    if r // hold >= start:
                        held[...] = total / hold if mean else x
                    total[...] = 0
            return held

        return step


# A pure one-step delay (H(z) = 1 / z in Nengo's update order).
ONE_STEP = nengo.synapses.LinearFilter([1], [1], analog=False)


def spiking_classifier(
    weights,
    order,
    theta,
    n_steps,
    neuron="relu",
    rate_scale=100.0,
    steps_per_sample=10,
    dt=0.001,
    spiking=True,
    calibration=None,
):
    """A trained LMU classifier rebuilt in plain Nengo, with spiking hidden neurons.

    The network runs in windows of ``steps_per_sample`` simulator steps, one per
    sequence element plus one. The memory is the exact `nengo_lmu.LegendreMemory`
    stretched to the window (it equals the trained memory at each window's end);
    `WindowSample` nodes hold the input and memory of the previous window, so the
    hidden neurons' input is constant within a window; the hidden recurrence
    (``W_h``, when trained with ``hidden_to_hidden=True``) feeds back each
    neuron's spike count over the previous window. During window ``k + 1`` the
    hidden neurons thus compute ``h[k] = f(W_m m[k] + W_x x[k] + W_h h[k-1] + b)``;
    the prediction is the readout ``W_out`` averaged over the last window
    (`spiking_accuracy` takes that mean).

    Hidden units become spiking neurons whose average output equals the trained
    rate function: ``relu`` -> SpikingRectifiedLinear with currents and rates
    multiplied by ``rate_scale`` and amplitude ``1 / rate_scale``; ``lif`` -> LIF
    with the trained LIFRate's parameters. ``spiking=False`` builds the same
    network with the rate neurons: it reproduces the trained network's outputs
    exactly (a test checks it), so what spiking loses is spike-count quantization.

    ``calibration``, sequences ``(n, n_steps, 1)`` (a few training examples),
    scales every signal that leaves a host-side node (the held input and memory,
    the spike counts) into [-1, 1]: each is divided by its largest magnitude over
    these sequences in the rate network and the weights after it multiplied by
    the same factor. It changes nothing in Nengo; nengo_loihi encodes host-to-chip
    values with on/off neurons that saturate at 1, so there it is needed.

    Returns ``(network, input_node, output_probe)``.
    """
    scale, neuron_type = _hidden_neurons(neuron, rate_scale, spiking)
    if (
        isinstance(steps_per_sample, bool)
        or not isinstance(steps_per_sample, numbers.Integral)
        or steps_per_sample < 1
    ):
        raise ValueError(
            "steps_per_sample (simulator steps per sequence element) must be an "
            f"integer >= 1; got {steps_per_sample!r}"
        )
    hold = int(steps_per_sample)
    units = weights["W_m"].shape[0]
    held_scale, count_scale = np.ones(order + 1), np.ones(units)
    if calibration is not None:
        held_scale, count_scale = _host_signal_ranges(
            weights, order, theta, n_steps, neuron, calibration, dt
        )
    return _network(
        weights,
        order,
        theta,
        n_steps,
        hold,
        dt,
        neuron_type,
        scale,
        held_scale,
        count_scale,
    )


def _hidden_neurons(neuron, rate_scale, spiking):
    """``(scale, neuron_type)`` of `spiking_classifier`'s hidden units: currents
    and rates are multiplied by ``scale``."""
    if neuron == "relu":
        scale = rate_scale
        neuron_type = (
            nengo.SpikingRectifiedLinear(amplitude=1.0 / scale)
            if spiking
            else nengo.RectifiedLinear(amplitude=1.0 / scale)
        )
    elif neuron == "lif":
        scale = 1.0
        neuron_type = (
            nengo.LIF(amplitude=LIF_AMPLITUDE) if spiking else hidden_neuron_type("lif")
        )
    else:
        raise ValueError(f"neuron must be 'relu' or 'lif'; got {neuron!r}")
    return scale, neuron_type


def _network(
    weights,
    order,
    theta,
    n_steps,
    hold,
    dt,
    neuron_type,
    scale,
    held_scale,
    count_scale,
):
    """`spiking_classifier`'s network, from its checked and derived arguments
    (the host-signal scales are ones without calibration)."""
    from nengo_lmu.systems import LegendreMemory  # pylint: disable=C0415

    units = weights["W_m"].shape[0]
    current = {"sequence": np.zeros(n_steps)}

    def present(t):
        """The sequence being classified, each value held for ``hold`` steps."""
        k = (int(round(t / dt)) - 1) // hold
        return current["sequence"][k] if k < n_steps else 0.0

    with nengo.Network(seed=0) as net:
        inp = nengo.Node(present, size_out=1, label="input")
        memory = nengo.Node(LegendreMemory(order, theta * hold * dt), size_in=1)
        nengo.Connection(inp, memory, transform=weights["e_x"], synapse=None)
        held = nengo.Node(
            WindowSample(hold, "last"),
            size_in=order + 1,
            size_out=order + 1,
            label="input and memory, held",
        )
        nengo.Connection(
            memory,
            held[:order],
            synapse=ONE_STEP,
            transform=np.diag(1 / held_scale[:order]),
        )
        nengo.Connection(
            inp, held[order:], synapse=ONE_STEP, transform=1 / held_scale[order:, None]
        )
        hidden = nengo.Ensemble(
            units,
            1,
            neuron_type=neuron_type,
            gain=np.ones(units),
            bias=scale * weights["bias"],
        )
        nengo.Connection(
            held[:order],
            hidden.neurons,
            synapse=None,
            transform=scale * weights["W_m"] * held_scale[:order],
        )
        if "W_x" in weights:
            nengo.Connection(
                held[order:],
                hidden.neurons,
                synapse=None,
                transform=scale * weights["W_x"] * held_scale[order:],
            )
        if "W_h" in weights:
            _hidden_recurrence(hidden, hold, scale * weights["W_h"], count_scale)
        out = nengo.Node(size_in=weights["W_out"].shape[0], label="readout")
        nengo.Connection(hidden.neurons, out, transform=weights["W_out"], synapse=None)
        probe = nengo.Probe(out)
    net.steps_per_sample = hold
    net.n_steps = n_steps
    net.current = current
    return net, inp, probe


def _hidden_recurrence(hidden, hold, transform, count_scale):
    """Feed the hidden neurons' spike counts over the previous window back to
    them through ``transform`` (in the current network)."""
    units = hidden.n_neurons
    # h[k-1] is the count over window k, the one before h[k]'s: the first
    # window's output (driven by the bias alone) is never fed back.
    counts = nengo.Node(
        WindowSample(hold, "mean", start=2),
        size_in=units,
        size_out=units,
        label="hidden spike counts",
    )
    nengo.Connection(
        hidden.neurons,
        counts,
        synapse=ONE_STEP,
        transform=np.diag(1 / count_scale),
    )
    nengo.Connection(
        counts, hidden.neurons, synapse=None, transform=transform * count_scale
    )


def _host_signal_ranges(weights, order, theta, n_steps, neuron, sequences, dt):
    """The largest magnitude of each held input / memory dimension and of each
    hidden unit's count, over ``sequences`` in the rate network (floored at
    1e-6 so that silent signals keep a finite scale)."""
    net, _, _ = spiking_classifier(
        weights,
        order,
        theta,
        n_steps,
        neuron=neuron,
        steps_per_sample=1,
        dt=dt,
        spiking=False,
    )
    nodes = {node.label: node for node in net.all_nodes}
    with net:
        p_held = nengo.Probe(nodes["input and memory, held"])
        p_counts = (
            nengo.Probe(nodes["hidden spike counts"])
            if "hidden spike counts" in nodes
            else None
        )
    held = np.zeros(order + 1)
    counts = np.zeros(weights["W_m"].shape[0])
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        for sequence in np.asarray(sequences):
            sim.reset()
            net.current["sequence"] = sequence[:, 0]
            sim.run_steps(n_steps + 1)
            held = np.maximum(held, np.abs(sim.data[p_held]).max(axis=0))
            if p_counts is not None:
                counts = np.maximum(counts, np.abs(sim.data[p_counts]).max(axis=0))
    return np.maximum(held, 1e-6), np.maximum(counts, 1e-6)


def spiking_accuracy(
    network, probe, x, y, dt=0.001, return_outputs=False, simulator=None
):
    """Accuracy of a `spiking_classifier` on sequences ``x`` (n, n_steps, 1): each
    sequence from a reset simulator, classified by the readout's mean over the
    last window. With ``return_outputs``, also those means, shape (n, classes).
    ``simulator``: the Simulator class (default ``nengo.Simulator``; e.g.
    ``nengo_loihi.Simulator``, which cannot reset: it is rebuilt per sequence)."""
    simulator = nengo.Simulator if simulator is None else simulator
    hold = network.steps_per_sample
    steps = (network.n_steps + 1) * hold
    outputs = []
    sim = None
    try:
        for sequence in x:
            network.current["sequence"] = np.asarray(sequence)[:, 0]
            if sim is not None:
                try:
                    sim.reset()
                except NotImplementedError:
                    sim.close()
                    sim = None
            if sim is None:
                sim = simulator(network, dt=dt, progress_bar=False)
            sim.run_steps(steps)
            outputs.append(sim.data[probe][-hold:].mean(axis=0))
    finally:
        if sim is not None:
            sim.close()
    outputs = np.array(outputs)
    accuracy = float(np.mean(np.argmax(outputs, axis=1) == np.asarray(y)))
    return (accuracy, outputs) if return_outputs else accuracy


def batched_spiking_logits(
    weights, order, theta, hold, x, voltage0, rate_scale=100.0, dt=0.001,
    return_spikes=False,
):  # fmt: skip
    """What `spiking_accuracy` returns for the network of `spiking_classifier`
    (ReLU, no calibration), for all of ``x`` at once: the same windows, spike
    counts and neuron updates, in numpy.

    Pixel ``k`` is presented in window ``k`` (``hold`` steps); during window
    ``k + 1`` the neurons get ``rate_scale * (W_m m[k] + W_x x[k] + W_h c + b)``,
    ``c`` each neuron's mean output over window ``k`` (0 before window 2); a
    SpikingRectifiedLinear neuron adds ``max(J, 0) dt`` to its voltage each step
    and emits its whole part; ``voltage0`` are the simulator's initial voltages
    (see `initial_voltages`). The logits are ``W_out`` times the mean output over
    the last window. With ``return_spikes``, also each sequence's spike count,
    ``(n, 2)``: over the whole presentation and over the last window.

    It is the same network up to floating-point rounding (the currents are
    summed in another order, the memory is stepped once per pixel rather than
    ``hold`` times): on a tiny model it gives nengo.Simulator's logits to 1e-9
    (tests/test_psmnist.py), but over the 785 x hold steps of a trained psMNIST
    model a current that lands within rounding of a spike threshold now and then
    moves one spike to the next window, and the hidden recurrence carries that on
    (a few tenths of a logit on some digits, as large as the quantization error
    itself).
    """
    from nengo_lmu.systems import discretize, lmu_matrices  # pylint: disable=C0415

    Ad, Bd = discretize(*lmu_matrices(order, theta), dt=1.0)[:2]
    n, n_steps = x.shape[:2]
    units = len(weights["bias"])
    W_x = weights.get("W_x", np.zeros((units, 1)))
    voltage = np.tile(voltage0, (n, 1))
    m = np.zeros((n, order))
    previous = np.zeros((n, units))
    held = None
    total = np.zeros(n)
    for window in range(n_steps + 1):
        drive = np.tile(weights["bias"], (n, 1))
        if held is not None:
            drive = drive + held
            if "W_h" in weights:
                drive += previous @ weights["W_h"].T
        increment = np.maximum(rate_scale * drive, 0) * dt
        spikes = np.zeros((n, units))
        for _ in range(hold):
            voltage += increment
            whole = np.floor(voltage)
            voltage -= whole
            spikes += whole
        total += spikes.sum(axis=1)
        mean = spikes / (rate_scale * hold * dt)
        if window > 0:
            previous = mean
        if window < n_steps:
            xk = x[:, window, :1]
            m = m @ Ad.T + (xk * weights["e_x"][0, 0]) @ Bd.T
            held = m @ weights["W_m"].T + xk @ W_x.T
    logits = mean @ weights["W_out"].T
    if return_spikes:
        return logits, np.stack([total, spikes.sum(axis=1)], axis=1)
    return logits


def initial_voltages(network):
    """The hidden neurons' initial voltages in nengo.Simulator for a network of
    `spiking_classifier` (seeded by the network, so the same in every simulator
    `spiking_accuracy` builds)."""
    (ensemble,) = network.all_ensembles
    with nengo.Simulator(network, progress_bar=False) as sim:
        return np.array(sim.signals[sim.model.sig[ensemble.neurons]["voltage"]])
