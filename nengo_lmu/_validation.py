"""Validation helpers shared by every layer; they raise nengo's ValidationError."""

import numbers

import numpy as np
from nengo.exceptions import ValidationError
from nengo.params import IntParam, NumberParam


class FiniteNumberParam(NumberParam):
    """A NumberParam that also rejects NaN and infinity."""

    def coerce(self, instance, num):
        if (
            isinstance(num, numbers.Real)
            and not isinstance(num, bool)
            and not np.isfinite(num)
        ):
            raise ValidationError(
                f"Must be a finite number; got {num!r}", attr=self.name, obj=instance
            )
        return super().coerce(instance, num)


class StrictIntParam(IntParam):
    """An IntParam that rejects bools and floats (``order=2.5`` or ``order=True``)."""

    def coerce(self, instance, num):
        if isinstance(num, bool) or not isinstance(num, numbers.Integral):
            raise ValidationError(
                f"Must be an integer; got {num!r}", attr=self.name, obj=instance
            )
        return super().coerce(instance, int(num))


def check_order(order, obj=None, attr="order"):
    """Return ``order`` as an int or raise ValidationError (must be an integer >= 1)."""
    if isinstance(order, bool) or not isinstance(order, numbers.Integral):
        raise ValidationError(
            f"Must be an integer >= 1; got {order!r}", attr=attr, obj=obj
        )
    if order < 1:
        raise ValidationError(
            f"Must be an integer >= 1; got {order!r}", attr=attr, obj=obj
        )
    return int(order)


def check_positive(value, attr, obj=None):
    """Return ``value`` as a float or raise ValidationError (must be finite and > 0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValidationError(
            f"Must be a finite number > 0; got {value!r}", attr=attr, obj=obj
        )
    if not np.isfinite(value) or value <= 0:
        raise ValidationError(
            f"Must be a finite number > 0; got {value!r}", attr=attr, obj=obj
        )
    return float(value)


def check_choice(value, choices, attr, obj=None):
    """Return ``value`` or raise ValidationError listing the allowed ``choices``."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValidationError(
            f"Unknown value {value!r}; must be one of {allowed}", attr=attr, obj=obj
        )
    return value
