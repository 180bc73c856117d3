"""Linear time-invariant systems in state space, analog or digital.

`LinearSystem` holds one realization ``(A, B, C, D)`` of a system, either analog
(continuous time, ``dt=None``)::

    dx/dt = A x + B u,        y = C x + D u

or digital (discrete time, step ``dt``)::

    x[k + 1] = A x[k] + B u[k],        y[k] = C x[k] + D u[k]

It is the package's only state-space object: every other layer, and the LMU's
own functions (`nengo_lmu.systems.legendre`), take their discretizations,
responses, Gramians, simulations and changes of basis from it. Its methods are
written in three modules, one idea each:

- `nengo_lmu.systems.statespace`: construction (state space, transfer function,
  zeros/poles/gain, `nengo.LinearFilter`), transfer function, zeros and poles,
  discretization, change of basis (`LinearSystem.transform`);
- `nengo_lmu.systems.responses`: impulse and frequency responses, simulation on
  an array (`LinearSystem.filter`, with the package's one time convention) and
  comparison by transfer function;
- `nengo_lmu.systems.balancing`: Gramians, Hankel singular values, balanced
  realization and truncation;

and this module assembles them and simulates a system in a `nengo.Node`
(`LinearSystemProcess`).

References
----------
.. [1] Voelker. "Dynamical systems in spiking neuromorphic hardware." PhD thesis,
   University of Waterloo, 2019.
.. [2] Antoulas. "Approximation of Large-Scale Dynamical Systems." SIAM, 2005.
"""

import inspect

import nengo
import numpy as np
from nengo.exceptions import ValidationError
from nengo.params import Parameter

from nengo_lmu.systems.balancing import _Balancing
from nengo_lmu.systems.responses import _Responses
from nengo_lmu.systems.statespace import _same_dt, _StateSpace


class LinearSystem(_Responses, _Balancing, _StateSpace):
    """A linear time-invariant system in state space, analog or digital.

    Analog (``dt=None``): ``dx/dt = A x + B u``, ``y = C x + D u``. Digital
    (``dt > 0``): ``x[k + 1] = A x[k] + B u[k]``, ``y[k] = C x[k] + D u[k]``.

    Parameters
    ----------
    sys : tuple, nengo.LinearFilter or LinearSystem
        ``(A, B, C, D)`` (state space; ``A`` (n, n), ``B`` (n, k), ``C`` (p, n),
        ``D`` (p, k)), ``(num, den)`` (single-input single-output transfer
        function, coefficients in descending powers of ``s`` or ``z``), a
        `nengo.LinearFilter` (see `from_synapse`) or another `LinearSystem`.
        Zeros, poles and gain go through `from_zpk`: a 3-tuple is not accepted
        here.
    dt : float, optional
        Time step of a digital system, in seconds; ``None`` (the default) for an
        analog one.

    Attributes
    ----------
    A, B, C, D : ndarray
        The realization (read-only copies).
    dt : float or None
        Time step (``None`` when analog).

    Notes
    -----
    A transfer function ``H = num / den`` is realized in controllable canonical
    form (see `from_tf`). The same transfer function has infinitely many
    realizations ``(T A T^-1, T B, C T^-1, D)``; `transform`, `balanced` and
    `balanced_truncation` give others, and `transfer_equal` compares systems by
    transfer function, whatever their realizations.

    Examples
    --------
    A lowpass filter ``1 / (0.1 s + 1)``, analog:

    >>> sys = LinearSystem(([1], [0.1, 1]))
    >>> sys
    LinearSystem(order=1, size_in=1, size_out=1, dt=None)
    >>> sys.A, sys.B, sys.C, sys.D
    (array([[-10.]]), array([[1.]]), array([[10.]]), array([[0.]]))
    >>> sys.is_stable
    True
    """

    # -- simulation in Nengo ------------------------------------------------------

    def process(self, **kwargs):
        """This system as a `nengo.Process`, to simulate it in a `nengo.Node`.

        Parameters
        ----------
        **kwargs
            Passed to `LinearSystemProcess` (``seed``, ...).

        Returns
        -------
        LinearSystemProcess

        Examples
        --------
        >>> sys = LinearSystem(([1], [0.1, 1]))
        >>> node = nengo.Node(sys.process(), add_to_container=False)
        >>> node.size_in, node.size_out
        (1, 1)
        """
        return LinearSystemProcess(self, **kwargs)


class LinearSystemParam(Parameter):
    """A parameter holding a `LinearSystem` (anything `LinearSystem` accepts is
    converted)."""

    def coerce(self, instance, value):
        value = super().coerce(instance, value)
        if isinstance(value, LinearSystem):
            return value
        try:
            return LinearSystem(value)
        except ValidationError as e:
            # Name this parameter; keep the matrix or coefficient at fault.
            msg = e.args[0] if e.attr == "sys" else f"{e.attr}: {e.args[0]}"
            raise ValidationError(msg, attr=self.name, obj=instance) from e


class LinearSystemProcess(nengo.Process):
    """A `LinearSystem` simulated exactly in a `nengo.Node`.

    ``nengo.Node(LinearSystemProcess(sys))`` (or ``nengo.Node(sys.process())``)
    has ``size_in = sys.size_in`` and ``size_out = sys.size_out`` by default.

    Parameters
    ----------
    system : LinearSystem
        The system (or anything `LinearSystem` accepts). An analog system is
        discretized with a zero-order hold at the simulator's ``dt``; a digital
        one must have the simulator's ``dt``.
    **kwargs
        Passed to `nengo.Process` (``seed``, ...). ``default_dt`` is the system's
        ``dt`` when digital.

    Notes
    -----
    Starting from ``x = 0``, step ``k`` with input ``u[k]`` outputs
    ``y[k] = C x[k] + D u[k]`` and then updates ``x[k + 1] = A x[k] + B u[k]``
    (as `LinearSystem.filter` and `scipy.signal.dlsim`). An input that is not
    finite raises a ValidationError at the step it arrives.

    Examples
    --------
    >>> sys = LinearSystem(([1], [0.1, 1]))
    >>> with nengo.Network() as net:
    ...     u = nengo.Node(1.0)
    ...     y = nengo.Node(LinearSystemProcess(sys))
    ...     _ = nengo.Connection(u, y, synapse=None)
    ...     probe = nengo.Probe(y)
    >>> with nengo.Simulator(net, progress_bar=False) as sim:
    ...     sim.run_steps(100)
    >>> bool(np.allclose(sim.data[probe][:, 0], sys.filter(np.ones(100), dt=sim.dt)))
    True
    """

    system = LinearSystemParam("system", readonly=True)

    def __init__(self, system, **kwargs):
        self.system = system
        if not self.system.analog:
            kwargs.setdefault("default_dt", self.system.dt)
        super().__init__(
            default_size_in=self.system.size_in,
            default_size_out=self.system.size_out,
            **kwargs,
        )

    def make_state(self, shape_in, shape_out, dt, dtype=None):
        """The system's state, zero (the system starts from rest)."""
        dtype = np.float64 if dtype is None else dtype
        return {"X": np.zeros(self.system.order, dtype=dtype)}

    def make_step(self, shape_in, shape_out, dt, rng, state):
        """The step function: the system's update at the simulator's ``dt``."""
        system = self.system
        if shape_in != (system.size_in,):
            raise ValidationError(
                f"Must be the system's size_in ({system.size_in}); got input shape "
                f"{shape_in} (give the Node size_in={system.size_in})",
                attr="size_in",
                obj=self,
            )
        if shape_out != (system.size_out,):
            raise ValidationError(
                f"Must be the system's size_out ({system.size_out}); got output "
                f"shape {shape_out} (give the Node size_out={system.size_out})",
                attr="size_out",
                obj=self,
            )
        if system.analog:
            system = system.discretize(dt)
        elif not _same_dt(dt, system.dt):
            raise ValidationError(
                f"Must equal the digital system's dt ({system.dt!r}); got the "
                f"simulator's dt={dt!r} (build the simulator with that dt, or "
                "give an analog system, which is discretized at any dt)",
                attr="dt",
                obj=self,
            )
        return self._step_function(system, state["X"])

    def _step_function(self, system, X, channels=1):
        """The step of the digital ``system`` (at the simulator's dt) on the
        state ``X``, in the convention of `LinearSystem.filter`.

        ``channels`` independent copies of the system (`LegendreMemory`'s input
        dimensions) run side by side: copy ``j`` has inputs
        ``u[j * size_in:(j + 1) * size_in]``, state
        ``X[j * order:(j + 1) * order]`` and outputs
        ``y[j * size_out:(j + 1) * size_out]``.
        """
        A, B, C, D = system.ss
        # One row per copy (a view of the state), updated as X A^T + U B^T: each
        # copy's state, input and output are contiguous.
        X = X.reshape(channels, system.order)
        AT, BT, CT, DT = A.T, B.T, C.T, D.T
        n_in = system.size_in
        # A system whose output is its updated state (C = A, D = B: the LMU
        # memory after each step) computes that update once.
        output_is_update = np.array_equal(C, A) and np.array_equal(D, B)

        def step_linear_system(t, u):
            if not np.all(np.isfinite(u)):
                raise ValidationError(
                    f"Input at t={t:.6g} is not finite: {u!r}",
                    attr="input",
                    obj=self,
                )
            U = u.reshape(channels, n_in)
            y = None if output_is_update else X @ CT + U @ DT
            X[...] = X @ AT + U @ BT
            return (X if output_is_update else y).ravel()

        return step_linear_system


def _mixin_doctests():
    """The methods of `LinearSystem` written in the other modules, by name, for
    this module's doctests (`doctest` finds a class's own methods only, and their
    examples need this module's `LinearSystem`)."""
    tests = {}
    for mixin in (_StateSpace, _Responses, _Balancing):
        for name, member in vars(mixin).items():
            function = getattr(member, "fget", None) or getattr(
                member, "__func__", member
            )
            if inspect.isfunction(function) and ">>>" in (function.__doc__ or ""):
                tests[f"LinearSystem.{name}"] = function
    return tests


__test__ = _mixin_doctests()
