"""nengo_loihi's build warnings: the harmless ones silenced, the weight rounding
summarized once.

Every ``nengo_loihi.Simulator`` built for an LMU memory prints, without this,
warnings that do not change the result and one that the user should know about:

- "NengoLoihi does not support initial values for 'voltage' being non-zero":
  Nengo draws LIF voltages uniformly at start; the chip (and so the emulator)
  starts every voltage at zero. It is how the hardware runs, the same in every
  run, and measured as part of it: silenced.
- "invalid value encountered in cast" (a RuntimeWarning from
  nengo_loihi/emulator/interface.py): the emulator fills its integer decay
  arrays with NaN before it sets them (``np.full(n, np.nan, dtype=int32)``);
  every value is overwritten before use: silenced.
- "Lost N extra bits in weight rounding": Loihi's weights have 8 bits and one
  shared exponent per block, and a block whose weights span more than that range
  loses precision in its smallest weights. This does change the result, so it is
  kept, but as one summary: the most bits lost in any block and how many blocks
  lost any (`rounding_summary`), warned once per process by `quiet_build` and
  printed once by ``nengo-lmu loihi``.
"""

import contextlib
import re
import warnings

_ROUNDING = re.compile(r"Lost (\d+) extra bits in weight rounding")
_SILENCED = (
    (UserWarning, re.compile(r"NengoLoihi does not support initial values")),
    (RuntimeWarning, re.compile(r"invalid value encountered in cast")),
)
_lost = {"blocks": 0, "max_bits": 0, "warned": False}


def rounding_summary():
    """``(blocks, max_bits)``: weight blocks that lost precision to Loihi's 8-bit
    rounding in this process's builds so far, and the most bits any one lost."""
    return _lost["blocks"], _lost["max_bits"]


def describe_rounding():
    """One sentence on the weight rounding so far, or ``None`` if nothing was lost."""
    blocks, bits = rounding_summary()
    if blocks == 0:
        return None
    return (
        f"nengo_loihi rounded {blocks} weight block(s) to Loihi's 8-bit weights "
        f"with a shared exponent, losing up to {bits} extra bits of their "
        "smallest weights (counted over this run's builds; reported once)"
    )


def _silenced(item):
    return any(
        issubclass(item.category, category) and pattern.search(str(item.message))
        for category, pattern in _SILENCED
    )


@contextlib.contextmanager
def quiet_build(report=True):
    """Build (and run) ``nengo_loihi.Simulator`` inside this context: the
    harmless warnings above are dropped, the weight-rounding ones counted, and
    every other warning passes through unchanged.

    Parameters
    ----------
    report : bool
        Warn once per process (the first time weights lose bits) with
        `describe_rounding`; ``False`` leaves reporting to the caller.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for item in caught:
        match = _ROUNDING.search(str(item.message))
        if match:
            _lost["blocks"] += 1
            _lost["max_bits"] = max(_lost["max_bits"], int(match.group(1)))
        elif not _silenced(item):
            warnings.warn_explicit(
                item.message, item.category, item.filename, item.lineno
            )
    if report and _lost["blocks"] and not _lost["warned"]:
        _lost["warned"] = True
        warnings.warn(describe_rounding(), UserWarning, stacklevel=3)
