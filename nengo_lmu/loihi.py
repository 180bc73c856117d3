"""What an LMU memory needs beyond plain Nengo to run well on Loihi (nengo-loihi).

The mathematics (A, B, realizations, Principle 3) comes from `nengo_lmu.systems`
and `nengo_lmu.mapping` unchanged: this module only chooses what the chip can do.

- Chip-to-chip connections take Lowpass synapses only, so the recurrence is the
  exact discrete Principle 3 mapping of a lowpass at the chip's dt.
- On-chip neuron types are LIF and SpikingRectifiedLinear; Poisson neurons are
  rejected with an error that says how to keep them off-chip.

nengo_loihi is imported only by the functions that need it.
"""

import nengo
from nengo.exceptions import ValidationError

from nengo_lmu.networks import LMUMemory

ON_CHIP_NEURON_TYPES = (nengo.LIF, nengo.SpikingRectifiedLinear)


def check_on_chip_neuron_type(neuron_type):
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
    )


def set_off_chip(network, memory):
    """Mark every ensemble of ``memory`` to run off-chip (on the host)."""
    import nengo_loihi  # pylint: disable=import-outside-toplevel

    nengo_loihi.add_params(network)
    for ens in memory.all_ensembles:
        network.config[ens].on_chip = False


def thesis_memory(
    order, theta, n_neurons, dt=0.001, input_process=None, recurrent="decoded", **kwargs
):
    """The memory of the thesis' Loihi experiment, with settings that build on chip.

    Balanced realization, LIF neurons, one order-D ensemble (nengo_loihi splits a
    per-dimension recurrence into one decode-neuron block per pair of states,
    and blocks with small transforms find no weight exponent). ``kwargs`` override
    any LMUMemory argument.

    ``recurrent="weights"`` replaces the decoded recurrence by neuron-to-neuron
    weights (no decode neurons; upstream reports decode-neuron recurrences blowing
    up where weights stay stable). Measured here on the emulator it was worse
    (0.81 against 0.36 for the thesis protocol): the 8-bit weights share one
    exponent per block, which the larger input weights set.
    """
    args = dict(
        neuron_type=nengo.LIF(),
        realization="balanced",
        layout="ensemble",
        synapse=0.1,
        dt=dt,
        input_process=input_process,
    )
    args.update(kwargs)
    check_on_chip_neuron_type(args["neuron_type"])
    if recurrent not in ("decoded", "weights"):
        raise ValidationError(
            f"Unknown value {recurrent!r}; must be 'decoded' or 'weights'",
            attr="recurrent",
        )
    return LMUMemory(order, theta, n_neurons, recurrent=recurrent, **args)


def chip_memory(
    order, theta, n_neurons, dt=0.001, input_process=None, synapse=0.02, **kwargs
):
    """`thesis_memory` wired so that the chip filters each input exactly once.

    nengo_loihi puts a decoded connection's synapse *before* its decode neurons
    and only ``Model.decode_tau`` (5 ms) after them, so the decode neurons' spike
    noise reaches the ensemble almost unfiltered and the loop sees two filters.
    Here the connections into the ensemble carry no synapse
    (``connection_synapse=None``); run it with
    ``nengo_loihi.Simulator(net, model=loihi_model(dt, decode_tau=synapse))`` so
    the one filter, after the decode neurons, is the synapse the Principle 3
    mapping was made for. A short synapse (20 ms) keeps the recurrent and input
    transforms within the range the decode and host-input neurons carry (at
    0.1 s, ``|A_H|`` reached 11 and ``|B_H|`` 16, past their +-1.5 range).

    Neurons fire at 100-120 Hz (nengo_loihi's own default rates) with intercepts
    in [-0.5, 0.9]: tuned on the emulator (thesis protocol, 4 seeds of 3 s): 0.108
    against 0.183 with Nengo's 200-400 Hz and [-1, 0.9], 0.154 with nengo_loihi's
    intercepts [-1, 0.5], 0.180 with [0, 0.9]. ``kwargs`` override any of these.

    This network is for nengo_loihi only: in Nengo the unfiltered recurrence is
    an algebraic loop.
    """
    kwargs.setdefault("max_rates", nengo.dists.Uniform(100, 120))
    kwargs.setdefault("intercepts", nengo.dists.Uniform(-0.5, 0.9))
    kwargs.setdefault("connection_synapse", None)
    return thesis_memory(
        order,
        theta,
        n_neurons,
        dt=dt,
        input_process=input_process,
        synapse=synapse,
        **kwargs,
    )


def loihi_model(dt=0.001, decode_tau=0.005, input_rate=None):
    """A nengo_loihi builder Model with the decode filter (and host-input neuron
    rate) set, for ``nengo_loihi.Simulator(..., model=loihi_model(...))``.

    ``input_rate`` above 1 / dt's default lets the host's on/off input neurons
    carry values beyond +-1 (500 Hz: about +-3 with the default encoding).
    """
    from nengo_loihi.builder import Model  # pylint: disable=import-outside-toplevel
    from nengo_loihi.decode_neurons import (  # pylint: disable=import-outside-toplevel
        OnOffDecodeNeurons,
    )

    model = Model(dt=dt)
    model.decode_tau = decode_tau
    if input_rate is not None:
        model.node_neurons = OnOffDecodeNeurons(dt=dt, rate=input_rate, is_input=True)
    return model


CORES_PER_CHIP = 128  # Loihi 1 (nengo_loihi's allocators refuse more)
DECODE_PAIRS_PER_DIMENSION = 10  # nengo_loihi's default Preset10DecodeNeurons


def cores_needed(memory):
    """Loihi cores a memory needs: its neurons in blocks of at most
    `max_neurons_per_core` compartments (nengo_loihi splits larger ensembles
    itself), plus the on/off decode neurons of its decoded recurrence."""
    per_core = max_neurons_per_core()
    cores = sum(-(-ens.n_neurons // per_core) for ens in memory.all_ensembles)
    decode = 2 * DECODE_PAIRS_PER_DIMENSION * memory.order * memory.size_in
    return cores + -(-decode // per_core)


def check_fits(memory, n_chips=1):
    """Raise a clear ValidationError when ``memory`` cannot fit on ``n_chips``
    Loihi chips; return the number of cores it needs."""
    cores = cores_needed(memory)
    if cores > CORES_PER_CHIP * n_chips:
        raise ValidationError(
            f"This memory needs about {cores} Loihi cores "
            f"({sum(e.n_neurons for e in memory.all_ensembles)} neurons at "
            f"{max_neurons_per_core()} per core, plus decode neurons); {n_chips} "
            f"chip(s) have {CORES_PER_CHIP * n_chips}. Use fewer neurons or more chips",
            attr="n_neurons",
        )
    return cores


def hardware_available():
    """True when nengo_loihi can reach Loihi hardware (nxsdk importable)."""
    try:
        import nxsdk  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        return False
    return True


def max_neurons_per_core():
    """Loihi's compartments per core, from nengo_loihi (1024 on Loihi 1)."""
    from nengo_loihi.block import (  # pylint: disable=import-outside-toplevel
        MAX_COMPARTMENTS,
    )

    return int(MAX_COMPARTMENTS)


__all__ = [
    "check_fits",
    "check_on_chip_neuron_type",
    "cores_needed",
    "chip_memory",
    "loihi_model",
    "hardware_available",
    "max_neurons_per_core",
    "set_off_chip",
    "thesis_memory",
]
