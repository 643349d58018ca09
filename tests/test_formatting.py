"""lib.formatting: one function per meaning, each with the exact text the chapters print."""

import numpy as np
import pytest

from lib import formatting as F
from lib.metrics import Interval


def test_count_rounds_and_separates_thousands():
    assert F.count(1234.4) == "1,234" and F.count(1234.6) == "1,235"
    assert F.count(np.int64(1_000_000)) == "1,000,000" and F.count(7) == "7" and F.count(-2500) == "-2,500"


def test_share_is_a_part_of_a_whole_in_whole_per_cent():
    assert F.share(3, 40) == "8 %" and F.share(1, 3) == "33 %" and F.share(40, 40) == "100 %"
    assert F.share(5, 0) == "—"  # nothing to share
    assert F.share(1, 3, digits=1) == "33.3 %"


def test_percent_writes_a_fraction_in_per_cent():
    assert F.percent(0.1234) == "12.3 %" and F.percent(0.1234, 0) == "12 %" and F.percent(1) == "100.0 %"
    assert F.percent(np.float32(0.5), 2) == "50.00 %"


def test_interval_writes_estimate_and_bounds():
    iv = Interval(0.123, 0.101, 0.142, 10)
    assert F.interval(iv) == "0.1 [0.1, 0.1]"
    assert F.interval(iv, 2, scale=100) == "12.30 [10.10, 14.20]"
    assert F.interval(Interval(12.3, 10.1, 14.2, 10), unit=" %") == "12.3 % [10.1, 14.2]"
    diff = Interval(0.4, -0.1, 0.8, 10)
    assert F.interval(diff, sign=True) == "+0.4 [-0.1, +0.8]"
    assert F.interval(diff, sign=True, unit=" points") == "+0.4 points [-0.1, +0.8]"


def test_mean_std_over_seeds():
    assert F.mean_std([0.8, 0.9], 100, 1) == "85.0 ± 7.1"
    assert F.mean_std([0.8], 100, 1) == "80.0 (1 seed)"
    assert F.mean_std([]) == "—"
    assert F.mean_std(np.array([1.0, 2.0, 3.0])) == "2.00 ± 1.00"


@pytest.mark.parametrize("name", ["count", "share", "percent", "interval", "mean_std"])
def test_every_function_returns_text(name):
    args = {
        "count": (3,),
        "share": (1, 2),
        "percent": (0.5,),
        "interval": (Interval(1.0, 0.0, 2.0, 3),),
        "mean_std": ([1.0, 2.0],),
    }[name]
    assert isinstance(getattr(F, name)(*args), str)
