"""Run ``nengo_lmu.tasks.spiking_digits`` (as ``nengo-lmu train spiking_digits``).

Kept so that ``python models/spiking_digits.py --help`` works from a checkout.
"""

import sys

from nengo_lmu.tasks.spiking_digits import main

if __name__ == "__main__":
    result = main(sys.argv[1:])
    sys.exit(result if isinstance(result, int) else 0)
