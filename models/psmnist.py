"""Run ``nengo_lmu.tasks.psmnist`` (the same as ``nengo-lmu train psmnist``).

Kept so that ``python models/psmnist.py --help`` works from a checkout.
"""

import sys

from nengo_lmu.tasks.psmnist import main

if __name__ == "__main__":
    result = main(sys.argv[1:])
    sys.exit(result if isinstance(result, int) else 0)
