"""How a network's neurons are connected: one option object, `Wiring`.

A layout (`nengo_lmu.networks.layouts`) decides how many ensembles hold a state
and what they decode; a wiring decides how they are connected to each other and
to the input, for the simulator that will run them:

- ``recurrent``: the recurrence through the decoded state, or as
  neuron-to-neuron weights;
- ``pool_size``: the most neurons per state in one pool (independent copies
  beyond it);
- ``connection_synapse`` and ``input_synapse``: the synapses placed on the
  recurrent and input connections, where the hardware applies the mapped one
  itself;
- ``input_peak`` and ``input_range``: input connections split so that each
  carries values within a range.

`Wiring` is Nengo's (the default of every network here). A backend that needs
other choices subclasses it and overrides `Wiring.resolve` and
`Wiring.check_build` (`nengo_lmu.loihi.LoihiWiring` for nengo_loihi); nothing
here imports a backend.
"""

import copy

from nengo.exceptions import ValidationError

from nengo_lmu._validation import check_choice, check_order

RECURRENT = ("decoded", "weights")


class Wiring:
    """How the neurons under a state are connected (Nengo's simulators).

    Parameters
    ----------
    recurrent : {"decoded", "weights"}
        ``"decoded"``: the recurrence through the decoded state. ``"weights"``:
        neuron-to-neuron recurrent weights (``LstsqL2(weights=True)``): one
        connection (``layout="ensemble"``), or one per nonzero ``A_H[i, j]`` from
        pool ``j`` to pool ``i`` (``"per-dimension"``); not for
        ``"subpopulations"``.
    pool_size : int, optional
        ``layout="per-dimension"`` with ``recurrent="weights"`` only: the most
        neurons per state in one pool. More neurons form independent copies of the
        state (each ``d`` pools of at most ``pool_size`` neurons, with its own
        input connections and recurrent weights within the copy), whose decoded
        states are averaged: each neuron's fan-in, and so its weights' size, does
        not change with ``n_neurons``. None: one pool per state.
    connection_synapse : "synapse", nengo.synapses.Synapse or None
        The synapse on the recurrent and input connections, if not the network's
        ``synapse`` (which the transforms are made for): None where the hardware
        applies ``synapse`` after its own decode stage, as nengo_loihi does with
        its ``decode_tau``.

    Attributes
    ----------
    target : str
        The simulator the wiring is for (``"nengo"``: Nengo's reference simulator,
        NengoDL and any other that runs plain Nengo networks).
    input_synapse : "connection", nengo.synapses.Synapse or None
        The synapse on the input connections, if not ``connection_synapse``.
    input_peak : float or None
        The largest ``|u|`` expected (set by `resolve` where the input
        connections are split; None: one input connection per ensemble).
    input_range : float or None
        The values one input connection may carry (with ``input_peak``).
    """

    target = "nengo"
    input_synapse = "connection"
    input_peak = None
    input_range = None

    def __init__(
        self, recurrent="decoded", pool_size=None, connection_synapse="synapse"
    ):
        self.recurrent = check_choice(recurrent, self._recurrent_choices(), "recurrent")
        self.pool_size = self._check_pool_size(pool_size)
        self.connection_synapse = connection_synapse

    def _recurrent_choices(self):
        return RECURRENT

    def _check_pool_size(self, pool_size):
        if pool_size is None:
            return None
        return check_order(pool_size, attr="pool_size")

    def __repr__(self):
        return (
            f"{type(self).__name__}(recurrent={self.recurrent!r}, "
            f"pool_size={self.pool_size!r}, "
            f"connection_synapse={self.connection_synapse!r})"
        )

    def replace(self, **changes):
        """A copy of this wiring with ``changes`` (attribute values) applied."""
        wiring = copy.copy(self)
        for name, value in changes.items():
            setattr(wiring, name, value)
        return wiring

    def ensemble_defaults(self):
        """Ensemble settings this wiring gives a network's config unless the
        network is given them (none for Nengo)."""
        return {}

    def resolve(self, network, layout):
        """The layout and the concrete wiring for ``network``, checked.

        Called by the network's ``__init__`` with the layout it was given
        (``"auto"`` or a name; a backend may choose for ``"auto"``), after its
        ``synapse``, ``dt`` and ``input_process`` are set. Returns ``(layout,
        wiring)``: the wiring a copy whose ``connection_synapse`` is a synapse
        (or None), never ``"synapse"``.
        """
        synapse = network.synapse
        wiring = self.replace(
            connection_synapse=(
                synapse
                if self.connection_synapse == "synapse"
                else self.connection_synapse
            )
        )
        return layout, wiring

    def check_layout(self, network, layout, check_pool=True):
        """Raise a ValidationError where this wiring cannot wire ``layout`` (a
        name, not ``"auto"``); ``check_pool``: whether ``pool_size`` must go with
        the per-dimension layout and neuron-to-neuron weights."""
        if self.recurrent == "weights" and layout == "subpopulations":
            raise ValidationError(
                "recurrent='weights' needs layout 'ensemble' or 'per-dimension'; "
                "got 'subpopulations'",
                attr="recurrent",
                obj=network,
            )
        if (
            check_pool
            and self.pool_size is not None
            and (layout != "per-dimension" or self.recurrent != "weights")
        ):
            raise ValidationError(
                f"pool_size={self.pool_size} needs layout='per-dimension' and "
                f"recurrent='weights'; got layout={layout!r}, "
                f"recurrent={self.recurrent!r}",
                attr="pool_size",
                obj=network,
            )

    def check_build(self, model, network):
        """Raise a BuildError where Nengo's builder (``model``) should not build
        ``network`` wired this way (never, for Nengo's wiring)."""


def build_for_nengo(build):
    """Nengo's builder for a network of this package (``build``), after its
    wiring's `Wiring.check_build`: a network wired for another simulator (such as
    nengo_loihi, whose input connections carry no synapse because the chip
    filters them) would run other dynamics on Nengo's."""

    def build_checked(model, network, progress=None):
        wiring = getattr(network, "wiring", None)
        if wiring is not None:
            wiring.check_build(model, network)
        return build(model, network, progress=progress)

    return build_checked
