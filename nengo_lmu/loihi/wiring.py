"""The wiring of a network for nengo_loihi: `LoihiWiring`, and the chip's limits.

``LMUMemory(..., wiring=LoihiWiring())`` (or any `nengo_lmu.networks.LinearNetwork`)
is built for ``nengo_loihi.Simulator`` directly: neuron-to-neuron recurrent
weights, the input filtered once (on chip) and split so that each host-to-chip
connection carries values within +-1, Loihi's rates and intercepts. Nothing here
imports nengo_loihi.
"""

import nengo
import numpy as np
from nengo.exceptions import BuildError, ValidationError

from nengo_lmu._validation import check_choice
from nengo_lmu.loihi.builder import ON_CHIP_NEURON_TYPES, register_builders
from nengo_lmu.networks.wiring import Wiring
from nengo_lmu.systems import run_process

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


class LoihiWiring(Wiring):
    """A network wired for ``nengo_loihi.Simulator`` (emulator or chip).

    - ``layout``: ``"auto"`` is ``"per-dimension"`` (one pool per state, as in the
      thesis); ``"subpopulations"`` is refused (its build-time solver and fused
      step are Nengo's).
    - ``recurrent``: ``"weights"`` by default. A decoded recurrence on chip
      passes through decode neurons: one block per connection, whose weights
      (``|transform| * decoders / dt``) are too small for any weight exponent
      when a transform entry is small (a BuildError from nengo_loihi), and
      whose spikes reach the ensemble nearly unfiltered.
    - ``pool_size``: ``"auto"`` is `LOIHI_POOL_SIZE` (128, the thesis' pools)
      for the per-dimension layout, None (one ensemble) otherwise.
    - The input connections carry no synapse (nengo_loihi applies a host-to-chip
      connection's synapse on the host, and the chip filters by the ensemble's
      ``synapse`` anyway) and are split so that each carries values within
      `LOIHI_INPUT_RANGE` for the network's ``input_process`` (nengo_loihi's
      input neurons saturate beyond it).
    - The neuron type must be LIF or SpikingRectifiedLinear
      (`check_on_chip_neuron_type`), the synapse a `nengo.Lowpass` (the only
      synapse chip-to-chip connections take).
    - ``max_rates`` and ``intercepts``: `LOIHI_MAX_RATES` and `LOIHI_INTERCEPTS`
      where the network is not given them (over the config: Nengo's 200-400 Hz
      overflow Loihi's spike counts at dt = 1 ms).

    Nengo's simulators refuse such a network (its input would not be filtered).

    Parameters
    ----------
    recurrent : {"weights", "decoded"}
    pool_size : "auto", int or None
    connection_synapse : "synapse", nengo.synapses.Synapse or None
        See `nengo_lmu.networks.wiring.Wiring`.
    """

    target = "loihi"
    input_synapse = None
    input_range = LOIHI_INPUT_RANGE

    def __init__(
        self, recurrent="weights", pool_size="auto", connection_synapse="synapse"
    ):
        super().__init__(recurrent, pool_size, connection_synapse)

    def _check_pool_size(self, pool_size):
        if isinstance(pool_size, str):
            return check_choice(pool_size, ("auto",), "pool_size")
        return super()._check_pool_size(pool_size)

    def ensemble_defaults(self):
        return {"max_rates": LOIHI_MAX_RATES, "intercepts": LOIHI_INTERCEPTS}

    def resolve(self, network, layout):
        if layout == "subpopulations":
            raise ValidationError(
                "LoihiWiring needs layout 'per-dimension' or 'ensemble': the "
                "sub-population layout's solver and fused step are Nengo's",
                attr="layout",
                obj=network,
            )
        layout = "per-dimension" if layout == "auto" else layout
        check_on_chip_neuron_type(network.neuron_type, obj=network)
        if type(network.synapse) is not nengo.Lowpass:
            raise ValidationError(
                f"LoihiWiring needs a nengo.Lowpass synapse (chip-to-chip "
                f"connections take no other); got {network.synapse!r}",
                attr="synapse",
                obj=network,
            )
        layout, wiring = super().resolve(network, layout)
        pool_size = self.pool_size
        if pool_size == "auto":
            pool_size = LOIHI_POOL_SIZE if layout == "per-dimension" else None
        process = network.input_process
        duration = max(10.0, getattr(process, "period", 0) or 0)
        peak = input_peak(process, network.dt, duration)
        register_builders()
        return layout, wiring.replace(
            pool_size=pool_size, input_peak=peak, _chosen_pool=self.pool_size == "auto"
        )

    def check_layout(self, network, layout):
        # the pool size chosen for "auto" fits any recurrence (decoded copies too)
        if getattr(self, "_chosen_pool", False):
            return super().check_layout(network, layout, check_pool=False)
        return super().check_layout(network, layout)

    def check_build(self, model, network):
        raise BuildError(
            f"{network} is wired for nengo_loihi (LoihiWiring): its input "
            f"connections carry no synapse, because the chip filters them; "
            f"construct it without wiring (Nengo's Wiring, the default) for "
            f"{type(model).__module__.split('.')[0]}'s simulator"
        )
