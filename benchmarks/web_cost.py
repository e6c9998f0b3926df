"""The web compiler's own cost under hostile load: what a run's results keep in memory, what
a huge differing output costs to report, and how long a small compile waits behind big ones.

Run: .venv/bin/python benchmarks/web_cost.py [--runs 160]

A real `toreador-compile serve --allow-run` on 127.0.0.1 (bubblewrap when it can be used,
else --unsafe-no-sandbox), its process measured with psutil:

1. ``--runs`` runs, each printing 250 KB of random text on both sides (the output cap is
   256 KB): the server's resident memory before, after, and after the results expire from
   the cap. Issue 28 saw +460 MB after 160 runs, not given back.
2. One run whose two sides print 85 KB of different lines: the server's CPU seconds spent
   on it (its report's diff was quadratic: 33 s).
3. Four compiles of 470 KB programs sent at once, then a 4-line one: the small one's wait
   (it was 20 s).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

import httpx
import psutil
from common import ROOT

sys.path.insert(0, str(ROOT))

from tests.web_server import web_compiler_process
from toreador.compiler.web.sandbox import find_sandbox

BIG_OUTPUT = (
    "import random, string\nimport toreador\nrandom.seed({seed})\n"
    "for _ in range(2500):\n"
    "    print(''.join(random.choices(string.ascii_letters, k=99)))\n"
)
DIFFERENT = (
    "import random, sys\nimport toreador\nrandom.seed(len(sys.argv[0]))\n"
    "for _ in range(8500):\n    print(random.randrange(10**9))\n"
)


def wait_for(url: str, key: str) -> dict[str, object]:
    while True:
        status = httpx.get(f"{url}/api/runs/{key}", timeout=60).json()
        if status["state"] == "done":
            result: dict[str, object] = status["result"]
            return result
        time.sleep(0.2)


def big_program(size: int) -> str:
    parts = ["from toreador import data_parallel_region\n"]
    number = 0
    while sum(map(len, parts)) < size:
        parts.append(f"\n\ndef f{number}(x):\n    return [x * {number} + 1, 'text {number}']\n")
        number += 1
    parts.append("\nprint(data_parallel_region(list(range(10)), f1))\n")
    return "".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=160)
    options = parser.parse_args()
    sandbox, _ = find_sandbox()
    mode = ("--allow-run",) if sandbox else ("--allow-run", "--unsafe-no-sandbox")
    print(f"sandbox: {'bubblewrap' if sandbox else 'none (--unsafe-no-sandbox)'}")
    with web_compiler_process(*mode, "--run-seconds", "20") as (url, process):
        server = psutil.Process(process.pid)
        httpx.post(f"{url}/api/compile", json={"source": "print(1)\n"}, timeout=120)
        before = server.memory_info().rss
        started = time.monotonic()
        keys = []
        for number in range(options.runs):
            source = BIG_OUTPUT.format(seed=number)
            answer = httpx.post(f"{url}/api/runs", json={"source": source}, timeout=60)
            keys.append(answer.json()["id"])
            if len(keys) % 40 == 0:  # the queue holds 100: send in waves
                wait_for(url, keys[-1])
        for key in keys[-5:]:
            wait_for(url, key)
        after = server.memory_info().rss
        kept = sum(
            httpx.get(f"{url}/api/runs/{key}", timeout=60).status_code == 200 for key in keys
        )
        print(
            f"1. {options.runs} runs of 250 KB output a side in {time.monotonic() - started:.0f}"
            f" s: server resident memory {before / 2**20:.0f} MB before, "
            f"{after / 2**20:.0f} MB after (+{(after - before) / 2**20:.0f} MB); "
            f"{kept} results still kept"
        )

        cpu = server.cpu_times()
        answer = httpx.post(f"{url}/api/runs", json={"source": DIFFERENT}, timeout=60)
        result = wait_for(url, answer.json()["id"])
        spent = sum(server.cpu_times()[:2]) - sum(cpu[:2])
        report = str(result.get("report", ""))
        print(
            f"2. outputs of 85 KB that differ: {spent:.2f} s of server CPU for the run and "
            f"its report ({report.splitlines()[0][:70] if report else 'no report'}...)"
        )

        big = big_program(470_000)
        answers: list[float] = []

        def compile_big(number: int) -> None:
            source = big.replace("'text ", f"'text{number} ")
            begun = time.monotonic()
            httpx.post(f"{url}/api/compile", json={"source": source}, timeout=300)
            answers.append(time.monotonic() - begun)

        threads = [threading.Thread(target=compile_big, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        begun = time.monotonic()
        small = httpx.post(
            f"{url}/api/compile", json={"source": "import toreador\nprint(2)\n"}, timeout=300
        )
        waited = time.monotonic() - begun
        for thread in threads:
            thread.join()
        print(
            f"3. a 4-line compile behind four 470 KB ones: answered in {waited:.2f} s "
            f"(status {small.status_code}); the big ones took "
            f"{', '.join(f'{s:.1f}' for s in sorted(answers))} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
