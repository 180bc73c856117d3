"""Drawing input signals from `nengo.Process` objects outside a simulator."""

import numpy as np


def run_process(process, n_steps, dt, rng, d=None):
    """``n_steps`` of ``process``, drawn from ``rng`` even if the process is seeded.

    `nengo.Process.run_steps` draws a seeded process (``WhiteSignal(...,
    seed=3)``) from its own seed whatever ``rng`` it is given, so independent
    trials of it would all be the same signal; this runs the process's step
    function with ``rng`` itself.

    Returns
    -------
    (n_steps, d) ndarray
        ``d`` defaults to the process's ``default_size_out``.
    """
    shape_out = (process.default_size_out if d is None else d,)
    state = process.make_state((0,), shape_out, dt)
    step = process.make_step((0,), shape_out, dt, rng, state)
    return np.array([step(i * dt) for i in range(n_steps)]).reshape(n_steps, -1)
