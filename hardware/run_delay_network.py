"""The thesis' delay network on Loihi: hardware when nxsdk is importable, else the
emulator; the same as ``nengo-lmu loihi`` (all its options apply).

Usage::

    python hardware/run_delay_network.py --trials 25
    python hardware/run_delay_network.py --trials 5 --variants standard,chip,weights
"""

import sys

from nengo_lmu.cli import main

if __name__ == "__main__":
    sys.exit(main(["loihi"] + sys.argv[1:]))
