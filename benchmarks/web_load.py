"""The web compiler shared by a team: many users compiling at once, and a queue of runs.

Run: .venv/bin/python benchmarks/web_load.py [--users 50] [--seconds 60] [--think 10]
                                             [--runs 20]

A real `toreador-compile serve --allow-run` on 127.0.0.1 (bubblewrap sandbox; the machine's
cores as compile processes and run slots), bounded in time and count:

1. ``--users`` users for ``--seconds``: each compiles a 200-line program
   (benchmarks/programs/log_report.py), waits for the answer, looks at it for ``--think``
   seconds (uniformly 0.5x to 1.5x), and compiles again. Twice: with a constant changed on
   every request (every answer a new compile), then all with the same program (the server
   remembers its last answers). Goal: no error, p95 latency under 500 ms on 2 cores.
2. ``--runs`` runs queued at once (the same program, small); every one must finish with the
   generated program printing what the reference prints. Printed: the longest wait, the
   highest place in the queue seen, the total time.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time

import httpx
from common import ROOT, latency_summary, run_together

sys.path.insert(0, str(ROOT))

from tests.web_server import web_compiler_process

PROGRAM = (ROOT / "benchmarks" / "programs" / "log_report.py").read_text()
GOAL_P95 = 0.5


def variant(number: int) -> str:
    """The program with one constant changed: a new compile, not a repeat of an answer."""
    return PROGRAM.replace("LINES_PER_DAY = 400", f"LINES_PER_DAY = {400 + number}")


def compiles(url: str, users: int, seconds: float, think: float, same: bool) -> bool:
    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(10**9))
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def user(seed: int) -> None:
        chooser = random.Random(seed)
        with httpx.Client(base_url=url, timeout=60) as client:
            time.sleep(chooser.uniform(0, think))  # users do not all arrive at once
            while time.monotonic() < stop:
                with lock:
                    number = next(counter)
                source = PROGRAM if same else variant(number)
                body = {"source": source, "filename": "log_report.py"}
                started = time.perf_counter()
                try:
                    answer = client.post("/api/compile", json=body)
                    took = time.perf_counter() - started
                    good = answer.status_code == 200 and answer.json()["ok"]
                    problem = "" if good else f"HTTP {answer.status_code}: {answer.text[:200]}"
                except httpx.HTTPError as error:
                    took, problem = time.perf_counter() - started, repr(error)
                with lock:
                    latencies.append(took)
                    if problem:
                        errors.append(problem)
                time.sleep(chooser.uniform(0.5 * think, 1.5 * think))

    elapsed = run_together(user, users)
    latency, p95 = latency_summary(latencies)
    print(
        f"{users} users compiling {'the same' if same else 'a new'} "
        f"{len(PROGRAM.splitlines())}-line program for {seconds:.0f} s "
        f"(think {think:.0f} s): {len(latencies)} compiles in {elapsed:.1f} s "
        f"({len(latencies) / elapsed:.1f}/s); latency {latency} (goal p95 < "
        f"{GOAL_P95 * 1000:.0f} ms) {'ok' if p95 < GOAL_P95 else 'OVER'}; errors: {len(errors)}"
    )
    for error in errors[:5]:
        print(f"  {error}")
    return p95 < GOAL_P95 and not errors


def queued_runs(url: str, runs: int) -> bool:
    body = {"source": PROGRAM, "filename": "log_report.py", "args": "3"}
    began = time.perf_counter()
    with httpx.Client(base_url=url, timeout=60) as client:
        keys = []
        for _ in range(runs):
            answer = client.post("/api/runs", json=body)
            if answer.status_code != 202:
                print(f"a run was refused: HTTP {answer.status_code} {answer.text[:200]}")
                return False
            keys.append(answer.json()["id"])
        highest, results = 0, {}
        deadline = time.monotonic() + 60 * runs
        while len(results) < runs and time.monotonic() < deadline:
            for key in keys:
                if key in results:
                    continue
                status = client.get(f"/api/runs/{key}").json()
                if status["state"] == "queued":
                    highest = max(highest, status["position"])
                elif status["state"] == "done":
                    results[key] = (status["result"], time.perf_counter() - began)
            time.sleep(0.2)
    equal = [r for r, _ in results.values() if r.get("ok") and r["equal"]]
    print(
        f"{runs} runs queued at once: {len(results)} finished, {len(equal)} equal to their "
        f"reference, in {time.perf_counter() - began:.1f} s; highest place seen {highest}, "
        f"the last one waited {max((t for _, t in results.values()), default=0):.1f} s"
    )
    return len(equal) == runs


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=10)
    parser.add_argument("--runs", type=int, default=20)
    options = parser.parse_args()
    with web_compiler_process("--allow-run", "--run-seconds", "20") as (url, _):
        info = httpx.get(f"{url}/api/info", timeout=30).json()
        print(f"server: {info['sandbox']}; {info['run_slots']} run slots")
        good = compiles(url, options.users, options.seconds, options.think, same=False)
        good = compiles(url, options.users, options.seconds, options.think, same=True) and good
        good = queued_runs(url, options.runs) and good
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
