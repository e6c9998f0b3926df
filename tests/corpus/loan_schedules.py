"""Loan schedules in exact decimal arithmetic: the kind of script that sets up its process at
the top (precision, recursion limit, warning filters, an environment default) and then maps a
function over its cases with a pool."""

import os
import sys
import warnings
from decimal import ROUND_HALF_UP, Decimal, getcontext

from toreador import data_parallel_region

getcontext().prec = 40
getcontext().rounding = ROUND_HALF_UP
sys.setrecursionlimit(6_000)
warnings.filterwarnings("error", category=DeprecationWarning)
os.environ.setdefault("LOAN_CURRENCY", "EUR")
MONTHS = int(os.environ.get("LOAN_MONTHS", "12"))


def balance(principal, rate, months):
    """The balance after ``months`` payments, recursively (one frame a month)."""
    if months == 0:
        return principal
    return balance(principal * (1 + rate) - Decimal(100), rate, months - 1)


def schedule(case):
    principal, yearly = case
    rate = Decimal(yearly) / 1200
    left = balance(Decimal(principal), rate, 4_000)
    try:
        warnings.warn("old rate table", DeprecationWarning, stacklevel=2)
        strict = "warnings ignored"
    except DeprecationWarning:
        strict = "warnings are errors"
    currency = os.environ["LOAN_CURRENCY"]
    scale = os.environ.get("LOAN_SCALE", "1")
    return (
        f"{principal} at {yearly}%: rate {rate} left {left:.6E} {currency} x{scale} "
        f"({strict}, {MONTHS} months)"
    )


if __name__ == "__main__":
    cases = [(100_000, "3.5"), (250_000, "4.25"), (80_000, "2.9"), (40_000, "7")]
    for line in data_parallel_region(cases, schedule):
        print(line)
