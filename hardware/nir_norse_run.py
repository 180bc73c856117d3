"""Simulate an exported LMU memory (.nir) with Norse, an independent NIR reader.

Runs in the Python that has Norse (see hardware/README.md: ``.venv-nir``)::

    .venv-nir/bin/python hardware/nir_norse_run.py memory.nir input.npy out.npz \
        --dt 0.001

``input.npy`` is ``(n_steps, size_in)``; ``out.npz`` gets ``output``
``(n_steps, size_out)``, the graph's readout each step (unfiltered, like
``LMUMemory.output``), and the versions used.

Norse's conventions, and what this script does about them (measured, nir 1.0.8,
nirtorch 2.6, norse 1.1.0):

- Norse steps with forward Euler (``--substeps`` steps per ``dt``) and its spikes
  are 0/1 per step, where
  NIR's spike is a Dirac delta of unit area (Nengo's spikes have height 1/dt): the
  Linear nodes that read spikes (``dec``, ``readout``) are scaled by 1/dt here.
- nirtorch 2.6 may leave an Affine node's bias unset: it is checked and restored.
- The recurrent edge is evaluated from the previous step's value (a one-step
  delay, as in Nengo).
"""

import argparse
import logging
import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def simulate(graph, inputs, dt, substeps=1):
    """Run ``graph`` on ``inputs`` (one row per ``dt``), ``substeps`` Euler steps of
    ``dt / substeps`` each per row (input held, output averaged over the row)."""
    import norse.torch
    import torch

    scaled = dict(graph.nodes)
    for src, dst in graph.edges:
        if src == "neurons" and hasattr(scaled[dst], "weight"):
            node = scaled[dst]
            scaled[dst] = type(node)(weight=np.asarray(node.weight) / (dt / substeps))
    graph = type(graph)(nodes=scaled, edges=graph.edges, metadata=graph.metadata)
    logging.disable(logging.WARNING)
    model = norse.torch.from_nir(graph, dt=dt / substeps)
    # nirtorch 2.6 can leave the Affine bias random: restore it from the graph
    enc_bias = np.asarray(graph.nodes["enc"].bias, dtype=np.float32)
    for node in model.execution_order:
        if node.name == "enc" and hasattr(node.elem, "bias"):
            with torch.no_grad():
                node.elem.bias.copy_(torch.from_numpy(enc_bias))
    x = torch.tensor(np.asarray(inputs, dtype=np.float32))
    state, outputs = None, []
    with torch.no_grad():
        for k in range(x.shape[0]):
            total = 0.0
            for _ in range(substeps):
                y, state = model(x[k : k + 1], state)
                total = total + y[0].numpy()
            outputs.append(total / substeps)
    return np.array(outputs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("graph", help=".nir file written by nengo_lmu.nir.write")
    parser.add_argument("inputs", help=".npy array (n_steps, size_in)")
    parser.add_argument("out", help=".npz file to write")
    parser.add_argument("--dt", type=float, default=0.001)
    parser.add_argument(
        "--substeps",
        type=int,
        default=1,
        help="Euler steps per dt (Norse's reset-to-zero loses the overshoot past "
        "threshold each spike; smaller steps approach NIR's continuous semantics)",
    )
    args = parser.parse_args()
    import nir
    import norse
    import torch

    graph = nir.read(args.graph)
    inputs = np.load(args.inputs, allow_pickle=False)
    output = simulate(graph, inputs, args.dt, substeps=args.substeps)
    np.savez(
        args.out,
        output=output,
        versions=np.array(
            [
                f"nir {nir.__version__}" if hasattr(nir, "__version__") else "nir",
                f"norse {norse.__version__}",
                f"torch {torch.__version__}",
            ]
        ),
    )


if __name__ == "__main__":
    main()
