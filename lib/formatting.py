"""How the book writes numbers in prose and tables: one function per meaning.

    count(1234.4)                    -> "1,234"           an amount (rounded, thousands separators)
    share(3, 40)                     -> "8 %"             a part of a whole, in whole per cent
    percent(0.1234)                  -> "12.3 %"          a fraction (0-1) written in per cent
    interval(iv)                     -> "0.4 [0.1, 0.8]"  an estimate and its interval (lib.metrics.Interval)
    interval(iv, sign=True, unit=" points") -> "+0.4 points [+0.1, +0.8]"
    mean_std([0.8, 0.9], 100, 1)     -> "85.0 ± 7.1"     the spread over seeds

Nothing here displays anything (that is :mod:`lib.page`); every function returns a string.
"""

from __future__ import annotations

import numpy as np


def count(x) -> str:
    """An amount with thousands separators, rounded to a whole number: ``count(1234.4)`` -> ``"1,234"``."""
    return f"{int(round(x)):,}"


def share(part, whole, digits: int = 0) -> str:
    """``part`` of ``whole`` in per cent: ``share(3, 40)`` -> ``"8 %"``; ``"—"`` when ``whole`` is 0."""
    return f"{100 * part / whole:.{digits}f} %" if whole else "—"


def percent(fraction, digits: int = 1) -> str:
    """A fraction (0-1) in per cent: ``percent(0.1234)`` -> ``"12.3 %"``."""
    return f"{100 * fraction:.{digits}f} %"


def interval(iv, digits: int = 1, scale: float = 1.0, sign: bool = False, unit: str = "") -> str:
    """An estimate and its interval, ``"estimate{unit} [low, high]"``.

    ``iv`` has ``estimate``, ``low`` and ``high`` (a :class:`lib.metrics.Interval`); each is multiplied
    by ``scale`` and written with ``digits`` decimals, with an explicit ``+`` when ``sign`` (for
    differences).  E.g. ``interval(iv, 2, scale=100)`` -> ``"12.30 [10.10, 14.20]"``,
    ``interval(iv, unit=" %")`` -> ``"12.3 % [10.1, 14.2]"``.
    """
    f = f"{{:{'+' if sign else ''}.{digits}f}}"
    est, low, high = (f.format(v * scale) for v in (iv.estimate, iv.low, iv.high))
    return f"{est}{unit} [{low}, {high}]"


def mean_std(values, scale: float = 1.0, digits: int = 2) -> str:
    """Mean ± sample standard deviation over seeds of ``values`` × ``scale``; one value says "(1 seed)"."""
    v = np.asarray(list(values), dtype=float) * scale
    if len(v) == 0:
        return "—"
    if len(v) == 1:
        return f"{v[0]:.{digits}f} (1 seed)"
    return f"{v.mean():.{digits}f} ± {v.std(ddof=1):.{digits}f}"
