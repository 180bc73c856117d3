"""Run ``nengo_lmu.tasks.capacity`` (the same as ``nengo-lmu train capacity``).

Kept so that ``python models/capacity.py --help`` works from a checkout.
"""

import sys

from nengo_lmu.tasks.capacity import main

if __name__ == "__main__":
    result = main(sys.argv[1:])
    sys.exit(result if isinstance(result, int) else 0)
