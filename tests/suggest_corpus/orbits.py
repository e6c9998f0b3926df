"""A small n-body style simulation: the steps depend on each other, the final energies do not."""

import math


def step(bodies, dt):
    return [(x + vx * dt, y + vy * dt, vx - x * dt, vy - y * dt) for x, y, vx, vy in bodies]


def energy(body):
    x, y, vx, vy = body
    return 0.5 * (vx * vx + vy * vy) + 0.5 * (x * x + y * y)


def simulate(seed, steps):
    bodies = [(math.cos(seed + i), math.sin(seed + i), 0.1 * i, -0.1 * i) for i in range(5)]
    for _ in range(steps):  # expect: sequential
        bodies = step(bodies, 0.01)
    return round(sum(energy(b) for b in bodies), 6)


results = []
for seed in range(8):  # expect: parallel
    results.append(simulate(seed, 200))
print(results)
history = []
value = 1.0
for k in range(6):  # expect: sequential
    value = value * 0.5 + k
    history.append(value)
print(history)
