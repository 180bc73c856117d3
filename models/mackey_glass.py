"""Run ``nengo_lmu.tasks.mackey_glass`` (the same as ``nengo-lmu train mackey_glass``).

Kept so that ``python models/mackey_glass.py --help`` works from a checkout.
"""

import sys

from nengo_lmu.tasks.mackey_glass import main

if __name__ == "__main__":
    result = main(sys.argv[1:])
    sys.exit(result if isinstance(result, int) else 0)
