"""The hidden units of an LMU cell: one definition of each activation.

The cell (`nengo_lmu.dl.cell`), its TensorFlow form (`nengo_lmu.dl.parallel`),
the numpy rate network (`nengo_lmu.tasks.inference`) and the spiking conversion
(`nengo_lmu.tasks.spiking`) all take them from here.
"""

import nengo

HIDDEN_ACTIVATIONS = ("tanh", "relu", "lif")

# LIF hidden units' amplitude: about [0, 1] at 63 Hz
LIF_AMPLITUDE = 1.0 / 63.0


def hidden_neuron_type(activation):
    """The Nengo neuron type (rate neurons) of the hidden units of a
    `nengo_lmu.dl.LMUCell` with this ``hidden_activation``."""
    if activation == "tanh":
        return nengo.Tanh(tau_ref=1.0)  # output tanh(J)
    if activation == "relu":
        return nengo.RectifiedLinear()
    if activation == "lif":
        return nengo.LIFRate(amplitude=LIF_AMPLITUDE)
    raise ValueError(
        f"hidden_activation must be one of {HIDDEN_ACTIVATIONS}; got {activation!r}"
    )
