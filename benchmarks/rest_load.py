"""The REST data service under the flagship's load: concurrent workers, each fetching its own
gateway (its sensors, then each sensor's readings for the period, page by page).

Run: .venv/bin/python benchmarks/rest_load.py [--homes 20] [--days 30] [--clients 8]
                                              [--requests 2000] [--seconds 60] [--data FOLDER]

On 127.0.0.1 only, bounded by a number of requests and a time. Prints the throughput
(requests/s and readings/s), the latency (median, p95, slowest) and the errors (the goal:
none), then the time to fetch one gateway's whole period as a worker does.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from common import ENV, ROOT, latency_summary, run_together

sys.path.insert(0, str(ROOT))

from tests.mtbf.helpers import serving

PYTHON = sys.executable


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--homes", type=int, default=20)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--data", type=Path)
    options = parser.parse_args()
    data = options.data or Path(tempfile.mkdtemp(prefix="toreador-rest-")) / "homes"
    if not data.exists():
        subprocess.run(
            [
                PYTHON,
                "-m",
                "mtbf_example",
                "generate",
                str(data),
                "--homes",
                str(options.homes),
                "--days",
                str(options.days),
            ],
            check=True,
            env=ENV,
        )
    with serving(data) as url:  # the tests' helper: on 127.0.0.1, until the block ends
        gateways = httpx.get(f"{url}/api/gateways").json()["gateways"]
        from mtbf_example.analysis import Bounds, Period, parse_moment
        from mtbf_example.service import fetch_gateway, iso_minutes

        span = httpx.get(f"{url}/api/gateways/{gateways[0]}/sensors").json()
        period = Period(parse_moment(span["first"], "first"), parse_moment(span["last"], "last"))
        days = iso_minutes(np.arange(period.start, period.end + 1, 1440))  # each day's start
        latencies: list[float] = []
        readings = [0]
        errors: list[str] = []
        lock = threading.Lock()
        deadline = time.monotonic() + options.seconds
        budget = [options.requests]

        def client(number: int) -> None:
            rng = random.Random(number)
            with httpx.Client(base_url=url, timeout=60) as session:
                while time.monotonic() < deadline:
                    with lock:
                        if budget[0] <= 0:
                            return
                        budget[0] -= 5
                    gateway = rng.choice(gateways)
                    start = days[rng.randrange(len(days))]
                    paths = [(f"/api/gateways/{gateway}/sensors", None)] + [
                        (f"/api/sensors/{gateway}:{m}/readings", {"start": start, "limit": "1440"})
                        for m in ("pcons", "pbatt", "pdc", "soc")
                    ]
                    for path, params in paths:
                        began = time.perf_counter()
                        try:
                            response = session.get(path, params=params)
                            response.raise_for_status()
                            count = len(response.json().get("readings", []))
                        except (httpx.HTTPError, ValueError) as error:
                            with lock:
                                errors.append(f"{path}: {error}")
                            continue
                        with lock:
                            latencies.append(time.perf_counter() - began)
                            readings[0] += count

        elapsed = run_together(client, options.clients)
        latency, _ = latency_summary(latencies)
        print(
            f"{options.clients} concurrent clients, {len(latencies)} requests in {elapsed:.1f} s: "
            f"{len(latencies) / elapsed:.0f} requests/s, {readings[0] / elapsed:,.0f} readings/s; "
            f"latency {latency}; errors: {len(errors)}"
        )
        for error in errors[:5]:
            print(f"  {error}")
        began = time.perf_counter()
        columns = fetch_gateway(url, gateways[0], Bounds(period.start, period.end))
        seconds = time.perf_counter() - began
        print(
            f"one gateway's whole period as a worker fetches it ({len(columns['minute']):,} "
            f"minutes x 4 sensors, pages of 50,000): {seconds:.2f} s"
        )
        return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
