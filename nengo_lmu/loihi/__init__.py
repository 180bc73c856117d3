"""What an LMU memory needs beyond plain Nengo to run well on Loihi (nengo-loihi).

Everything Loihi-specific lives here:

- `nengo_lmu.loihi.wiring`: `LoihiWiring`, the option object that wires a
  network for ``nengo_loihi.Simulator`` (``LMUMemory(..., wiring=LoihiWiring())``,
  ``LinearNetwork(..., wiring=LoihiWiring())``), and the chip's constants.
- `nengo_lmu.loihi.builder`: nengo_loihi's builder for the networks (checks
  before nengo_loihi's own), registered once by `register_builders`: when this
  module is imported after nengo_loihi, or by the helpers below that use
  nengo_loihi.
- Here: the thesis' comparison networks, the chip's limits and helpers.

The chip's rules that the wiring follows:

- Chip-to-chip connections take Lowpass synapses only, so the recurrence is the
  exact discrete Principle 3 mapping of a lowpass at the chip's dt.
- On-chip neuron types are LIF and SpikingRectifiedLinear; Poisson neurons are
  rejected with an error that says how to keep them off-chip.

nengo_loihi is imported only by the functions that need it.
"""

import nengo
from nengo.exceptions import ValidationError

from nengo_lmu.loihi.builder import build_on_loihi, register_builders
from nengo_lmu.loihi.wiring import (
    LOIHI_INPUT_RANGE,
    LOIHI_INTERCEPTS,
    LOIHI_MAX_RATES,
    LOIHI_POOL_SIZE,
    ON_CHIP_NEURON_TYPES,
    LoihiWiring,
    check_on_chip_neuron_type,
    input_peak,
)
from nengo_lmu.networks import LMUMemory, Wiring

# What `loihi_memory` wires a memory for.
TARGETS = ("nengo", "loihi")


def set_off_chip(network, memory):
    """Mark every ensemble of ``memory`` to run off-chip (on the host)."""
    import nengo_loihi  # pylint: disable=import-outside-toplevel

    register_builders()
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

    This is the memory wired for Nengo (the default `Wiring`), as a Loihi user
    got it before `LoihiWiring`: on the emulator its input is filtered twice
    and its recurrence passes through decode neurons (thesis protocol, thesis'
    metric: about 0.3, against 0.06 for `loihi_memory`). ``recurrent="weights"``
    replaces the decoded recurrence by neuron-to-neuron weights in the one
    ensemble; on the emulator the 8-bit weights then share one exponent per
    block, which the larger input weights set (ours: 0.81 against 0.36).
    """
    args = dict(
        neuron_type=nengo.LIF(),
        realizer="balanced",
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
    return LMUMemory(order, theta, n_neurons, wiring=Wiring(recurrent), **args)


def loihi_memory(
    order,
    theta,
    n_neurons,
    dt=0.001,
    input_process=None,
    target="loihi",
    recurrent="weights",
    pool_size="auto",
    **kwargs,
):
    """The LMU memory wired for Loihi, or the same network wired for Nengo.

    ``target="loihi"``: ``LMUMemory(order, theta, n_neurons,
    wiring=LoihiWiring())`` with its defaults (one pool per state,
    neuron-to-neuron recurrent weights through a 0.1 s lowpass, the input
    filtered once on chip and split to stay within +-1, 100-120 Hz, intercepts
    U(-1, 0.5)): what ``nengo-lmu loihi`` runs on the emulator.
    ``target="nengo"``: the same pools, rates, intercepts and recurrent weights,
    wired for Nengo's simulators (the input connections carry the synapse): the
    comparison on ``nengo.Simulator``. ``recurrent`` and ``pool_size`` go to the
    wiring (`LoihiWiring`; for Nengo ``"auto"`` is `LOIHI_POOL_SIZE`);
    ``kwargs`` are any other LMUMemory argument.
    """
    if target not in TARGETS:
        raise ValidationError(
            f"Must be one of {TARGETS}; got {target!r}", attr="target"
        )
    if target == "loihi":
        wiring = LoihiWiring(recurrent, pool_size)
    else:
        kwargs.setdefault("layout", "per-dimension")
        kwargs.setdefault("max_rates", LOIHI_MAX_RATES)
        kwargs.setdefault("intercepts", LOIHI_INTERCEPTS)
        pool_size = LOIHI_POOL_SIZE if pool_size == "auto" else pool_size
        wiring = Wiring(recurrent, pool_size)
    return LMUMemory(
        order,
        theta,
        n_neurons,
        dt=dt,
        input_process=input_process,
        wiring=wiring,
        **kwargs,
    )


def chip_memory(order, theta, n_neurons, dt=0.001, input_process=None, **kwargs):
    """``LMUMemory(..., wiring=LoihiWiring())``: kept for earlier code (see
    `loihi_memory`)."""
    return loihi_memory(
        order, theta, n_neurons, dt=dt, input_process=input_process, **kwargs
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

    register_builders()
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
    itself), plus the on/off decode neurons of a decoded recurrence (none with
    neuron-to-neuron weights)."""
    per_core = max_neurons_per_core()
    cores = sum(-(-ens.n_neurons // per_core) for ens in memory.all_ensembles)
    decoded = getattr(memory, "recurrent", "decoded") == "decoded"
    decode = 2 * DECODE_PAIRS_PER_DIMENSION * memory.order * memory.size_in * decoded
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

    register_builders()
    return int(MAX_COMPARTMENTS)


# nengo_loihi's builder learns of the networks here where nengo_loihi is already
# imported; otherwise the helpers above, or LoihiWiring, register them later.
register_builders()


__all__ = [
    "LOIHI_INPUT_RANGE",
    "LOIHI_INTERCEPTS",
    "LOIHI_MAX_RATES",
    "LOIHI_POOL_SIZE",
    "LoihiWiring",
    "ON_CHIP_NEURON_TYPES",
    "TARGETS",
    "build_on_loihi",
    "input_peak",
    "register_builders",
    "check_fits",
    "check_on_chip_neuron_type",
    "cores_needed",
    "chip_memory",
    "loihi_memory",
    "loihi_model",
    "hardware_available",
    "max_neurons_per_core",
    "set_off_chip",
    "thesis_memory",
]
