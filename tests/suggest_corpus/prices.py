"""Price a list of options with a closed formula, then a running total."""

import math

RATE = 0.03


def norm_cdf(x):
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def call_price(option, rate):
    spot, strike, years, vol = option
    d1 = (math.log(spot / strike) + (rate + vol * vol / 2) * years) / (vol * math.sqrt(years))
    d2 = d1 - vol * math.sqrt(years)
    return spot * norm_cdf(d1) - strike * math.exp(-rate * years) * norm_cdf(d2)


OPTIONS = [(100 + i, 95 + (i * 3) % 11, 0.5 + i / 10, 0.2 + (i % 5) / 50) for i in range(20)]
prices = list(map(lambda option: round(call_price(option, RATE), 4), OPTIONS))  # expect: parallel
print(prices[:4])
running = []
total = 0.0
for price in prices:  # expect: sequential
    total += price
    running.append(round(total, 2))
print(running[-1])
doubled = [p * 2 for p in prices if p > 10]  # expect: sequential
print(len(doubled))
