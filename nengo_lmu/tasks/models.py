"""The tasks' classifier: an LMUCell with a linear readout, built in Nengo."""

import nengo
import numpy as np


def build_classifier(
    n_steps,
    units,
    order,
    theta,
    n_classes=10,
    parallel=True,
    hidden_activation="tanh",
    seed=0,
    hidden_to_hidden=True,
    recurrent_initializer="glorot_uniform",
):
    """An LMUCell with a linear readout of the last step's hidden state.

    Returns ``(network, input_node, output_probe)``; in the parallel form the
    input takes a whole sequence per simulator step.
    """
    from nengo_lmu.dl import LMUCell, glorot_uniform  # pylint: disable=C0415

    with nengo.Network(seed=seed) as net:
        if parallel:
            inp = nengo.Node(np.zeros(n_steps))
            cell = LMUCell(
                units,
                order,
                theta,
                1,
                input_to_hidden=True,
                parallel=True,
                n_steps=n_steps,
                hidden_activation=hidden_activation,
                hidden_to_hidden=hidden_to_hidden,
                recurrent_initializer=recurrent_initializer,
                return_sequences=False,
                seed=seed,
            )
            last = cell.output
        else:
            inp = nengo.Node(np.zeros(1))
            cell = LMUCell(
                units,
                order,
                theta,
                1,
                input_to_hidden=True,
                parallel=False,
                hidden_activation=hidden_activation,
                hidden_to_hidden=hidden_to_hidden,
                recurrent_initializer=recurrent_initializer,
                seed=seed,
            )
            last = cell.output
        nengo.Connection(inp, cell.input, synapse=None)
        out = nengo.Node(size_in=n_classes)
        net.readout = nengo.Connection(
            last,
            out,
            synapse=None,
            transform=glorot_uniform(
                (n_classes, units), np.random.RandomState(seed + 1)
            ),
        )
        probe = nengo.Probe(out)
    net.cell = cell
    return net, inp, probe
