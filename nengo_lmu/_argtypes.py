"""argparse types shared by the ``nengo-lmu`` command and the training tasks.

Each error names the value and what is allowed (argparse adds the option's name).
The command line (`nengo_lmu.cli`) and the tasks (`nengo_lmu.tasks`) both import
from here, so that no task imports the command line.
"""

import argparse


def int_at_least(low):
    """An argparse type: an integer >= ``low``."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be an integer >= {low}; got {text!r}"
            ) from None
        if value < low:
            raise argparse.ArgumentTypeError(
                f"must be an integer >= {low}; got {value}"
            )
        return value

    return parse


def positive_int(text):
    """An argparse type: an integer >= 1."""
    try:
        value = int(float(text))
        if value != float(text) or value < 1:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a positive integer; got {text!r}"
        ) from None
    return value


def positive_float(text):
    """An argparse type: a finite number > 0."""
    try:
        value = float(text)
        if not value > 0 or value == float("inf"):
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a finite number > 0; got {text!r}"
        ) from None
    return value


def int_list(text):
    """An argparse type: a comma-separated list of positive integers."""
    items = [t for t in text.replace(" ", "").split(",") if t]
    if not items:
        raise argparse.ArgumentTypeError("must be a comma-separated list of integers")
    return [positive_int(t) for t in items]


def name_list(choices):
    """An argparse type: a comma-separated list of names from ``choices``."""

    def parse(text):
        items = [t for t in text.replace(" ", "").split(",") if t]
        bad = [t for t in items if t not in choices]
        if bad or not items:
            raise argparse.ArgumentTypeError(
                f"unknown {bad[0] if bad else 'empty list'!r}; choose from "
                f"{', '.join(choices)} (comma-separated)"
            )
        return items

    return parse
