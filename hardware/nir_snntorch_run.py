"""Simulate an exported LMU memory (.nir) with snnTorch, a second independent reader.

Runs in the Python that has snnTorch (``bash hardware/setup_nir_reader.sh`` installs
it in ``.venv-nir`` beside Norse)::

    .venv-nir/bin/python hardware/nir_snntorch_run.py memory.nir input.npy out.npz

``input.npy`` is ``(n_steps, size_in)``, one row per 0.1 ms: snnTorch's NIR import
(``snntorch.import_nir.import_from_nir``) discretizes every neuron at a fixed
``dt = 1e-4`` s. ``out.npz`` gets ``output`` ``(n_steps, size_out)``, the graph's
readout each step (unfiltered, like ``LMUMemory.output``), and the versions used.

snnTorch's importer maps a CubaLIF node to ``snn.Synaptic`` (forward Euler, reset to
zero) with its own conventions; the graph is rewritten here into an equivalent one
that meets them before import (measured, nir 1.0.8, nirtorch 2.6, snntorch 1.0.0):

- the importer requires ``r = tau_mem / dt`` (its neurons add the synaptic current
  to the membrane without a gain): ``r`` becomes ``tau_mem / dt`` and every weight
  into the neurons (``enc``, its bias, ``rec``) is divided by the same factor,
  which leaves NIR's continuous-time equations unchanged;
- snnTorch's spikes are 0/1 per step, where NIR's spike is a unit-area Dirac delta:
  the weights that read spikes (``dec``, ``readout``) are scaled by 1 / dt;
- the recurrence stays the file's 3-cycle ``neurons -> dec -> rec -> neurons``,
  which nirtorch evaluates from the previous step's values (a one-step delay, as in
  Nengo). snnTorch's own recurrent path (a 2-cycle of the neurons and one Linear,
  made into ``snn.RSynaptic``) was tried with ``rec @ dec`` as that Linear: nirtorch
  2.6 recurses into the subgraph snnTorch builds for it and returns an empty module.
"""

import argparse
import logging

import numpy as np

SNNTORCH_DT = 1e-4  # seconds: fixed in snntorch/import_nir.py


def snntorch_graph(graph, dt=SNNTORCH_DT):
    """The equivalent 2-cycle graph that snnTorch's importer reads (see above)."""
    import nir  # pylint: disable=import-outside-toplevel

    nodes = graph.nodes
    neurons = nodes["neurons"]
    if not isinstance(neurons, nir.CubaLIF):
        raise ValueError(
            f"expected a CubaLIF 'neurons' node; got {type(neurons).__name__} "
            "(export with nengo_lmu.nir.to_nir(..., synapse_node='cuba'))"
        )
    tau_mem = np.asarray(neurons.tau_mem, dtype=np.float64)
    n = tau_mem.size
    r = np.broadcast_to(np.asarray(neurons.r, dtype=np.float64), (n,))
    gain = r * dt / tau_mem  # old r / new r, per neuron
    enc = nodes["enc"]
    f32 = np.float32

    def weight(name, scale):
        return (np.asarray(nodes[name].weight, np.float64) * scale).astype(f32)

    new_nodes = dict(nodes)
    new_nodes.update(
        enc=nir.Affine(
            weight=weight("enc", gain[:, None]),
            bias=(np.asarray(enc.bias, np.float64) * gain).astype(f32),
        ),
        neurons=nir.CubaLIF(
            tau_syn=np.asarray(neurons.tau_syn, dtype=f32),
            tau_mem=tau_mem.astype(f32),
            r=(tau_mem / dt).astype(f32),
            v_leak=np.asarray(neurons.v_leak, dtype=f32),
            v_threshold=np.asarray(neurons.v_threshold, dtype=f32),
            v_reset=np.zeros(n, dtype=f32),
            w_in=np.broadcast_to(np.asarray(neurons.w_in, f32), (n,)).copy(),
        ),
        dec=nir.Linear(weight=weight("dec", 1 / dt)),
        rec=nir.Linear(weight=weight("rec", gain[:, None])),
        readout=nir.Linear(weight=weight("readout", 1 / dt)),
    )
    edges = [tuple(edge) for edge in graph.edges]
    return nir.NIRGraph(nodes=new_nodes, edges=edges, metadata=dict(graph.metadata))


def simulate(graph, inputs):
    """Run ``graph`` on ``inputs`` (one row per 0.1 ms) with snnTorch."""
    # pylint: disable=import-outside-toplevel
    import contextlib
    import io

    import snntorch
    import snntorch.utils
    import torch
    from snntorch.import_nir import import_from_nir

    logging.disable(logging.WARNING)
    with contextlib.redirect_stdout(io.StringIO()):  # the importer prints notes
        model = import_from_nir(snntorch_graph(graph))
    neurons = [m for m in model.modules() if isinstance(m, snntorch.Synaptic)]
    if len(neurons) != 1:
        raise RuntimeError(f"expected one snntorch.Synaptic layer in {model}")
    snntorch.utils.reset(model)
    x = torch.tensor(np.asarray(inputs, dtype=np.float32))
    state, outputs = None, []
    with torch.no_grad():
        for k in range(x.shape[0]):
            y, state = model(x[k : k + 1], state)
            outputs.append(y[0].numpy())
    return np.array(outputs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("graph", help=".nir file written by nengo_lmu.nir.write")
    parser.add_argument("inputs", help=".npy array (n_steps, size_in), dt 0.1 ms")
    parser.add_argument("out", help=".npz file to write")
    args = parser.parse_args()
    import nir  # pylint: disable=import-outside-toplevel
    import snntorch  # pylint: disable=import-outside-toplevel
    import torch  # pylint: disable=import-outside-toplevel

    graph = nir.read(args.graph)
    inputs = np.load(args.inputs, allow_pickle=False)
    output = simulate(graph, inputs)
    np.savez(
        args.out,
        output=output,
        versions=np.array(
            [
                f"nir {nir.__version__}",
                f"snntorch {snntorch.__version__}",
                f"torch {torch.__version__}",
            ]
        ),
    )


if __name__ == "__main__":
    main()
