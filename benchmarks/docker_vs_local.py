"""The MTBF flagship on the docker target against the local target: time to first result and
total, in one run.

Run: .venv/bin/python benchmarks/docker_vs_local.py [--homes 16] [--days 30] [--repeat 3]
Uses the engine DOCKER_HOST names when it answers; otherwise starts one as the tests do
(tests/docker_engine.py: no bridge, no iptables, state in /tmp, stopped by pid) with the local
base image ``toreador-base:test``. Time to first result: from the start of Main.py to the
first result of the outer region (one gateway's analysis) reaching the main program, as the
engines record it with TOREADOR_TIMINGS; total: the whole run. The docker runs are timed
warm (image built and cached by a first, cold run, also reported), with one container per
gateway (the default, as the original study deployed it) and with the gateways sent to the
two long-lived worker containers (container_per_outer_item = false). The data set is
partitioned by gateway: a gateway's container reads its own folder (mounted read-only), the
readings never travel from Main.py. Every run's stdout must
equal the sequential reference's. Each side reports the median and the slowest of its runs.
"""

from __future__ import annotations

import argparse
import functools
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import ROOT, Samples

sys.path.insert(0, str(ROOT))

from mtbf_example.generate import generate
from tests import docker_engine as engines
from toreador.compiler import compile_source, write_output
from toreador.compiler.deploy_model import load_model
from toreador.compiler.source import read_source

FLAGSHIP = ROOT / "mtbf_example" / "mtbf.py"
OUTER = "mtbf.py:" + str(  # the outer region's label: its line in the flagship
    1
    + next(
        number
        for number, line in enumerate(FLAGSHIP.read_text().splitlines())
        if "= data_parallel_region(" in line
    )
)


def compile_flagship(target: str, folder: Path, model: Path, name: str = "") -> Path:
    compiled = compile_source(read_source(FLAGSHIP), "auto", target, load_model(model))
    write_output(compiled, folder / (name or target))
    return folder / (name or target) / "Main.py"


def timed(script: Path, data: Path, env: dict[str, str], folder: Path) -> tuple[float, float, str]:
    """(time to first result, total, stdout) of one run."""
    timings = folder / f"timings-{time.time_ns()}.txt"
    started = time.time()
    done = subprocess.run(
        [sys.executable, str(script), str(data)],
        capture_output=True,
        text=True,
        env=dict(env, TOREADOR_TIMINGS=str(timings), TOREADOR_PROGRESS="0"),
        check=False,
    )
    total = time.time() - started
    if done.returncode != 0:
        raise SystemExit(f"{script} failed:\n{done.stderr[-3000:]}")
    first = min(
        float(line.split()[0])
        for line in timings.read_text().splitlines()
        if line.split()[1] == "first-result" and line.endswith(OUTER)
    )
    return first - started, total, done.stdout


def container_floor(
    folder: Path, count: int, repeat: int, docker_host: str | None
) -> dict[str, Samples]:
    """What ``count`` one-item containers cost with no work in them, started, run and
    removed as the docker side does (its image, limits and no network): each
    running an empty Python, and each importing what a worker imports (the runtime and the
    program's shared module); two at a time (the replicas) and four (with the containers
    started ahead). The docker side cannot beat this on this machine."""
    import docker

    client = docker.DockerClient(base_url=docker_host) if docker_host else docker.from_env()
    shared = next(folder.glob("*_shared.py")).stem
    # the flagship's images (built by the runs above; the two differ only in settings)
    image = next(
        tag
        for found in client.images.list(filters={"label": "toreador.program"})
        for tag in found.tags
        if not tag.startswith(engines.BASE_IMAGE.split(":")[0])
    )
    commands = {
        "running python -c pass": ["python3", "-c", "pass"],
        f"importing {shared} and the runtime": [
            "python3", "-c", f"import {shared}, toreador_runtime.docker_run"
        ],
    }  # fmt: skip

    def one_container(command: list[str], _: int) -> None:
        container = client.containers.run(
            image, command, detach=True, network_mode="none",
            nano_cpus=1_000_000_000, mem_limit="1g",
        )  # fmt: skip
        container.wait()
        container.remove(force=True)

    floors: dict[str, Samples] = {}
    for at_once in (2, 4):
        for what, command in commands.items():
            samples = Samples()
            for _ in range(repeat):
                started = time.perf_counter()
                with ThreadPoolExecutor(at_once) as running:
                    list(running.map(functools.partial(one_container, command), range(count)))
                samples.add(time.perf_counter() - started)
            floors[f"{what}, {at_once} at a time"] = samples
    return floors


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--homes", type=int, default=16)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="toreador-docker-bench-"))
    data = folder / "homes"  # partitioned: each gateway's container reads its own folder
    list(generate(data, options.homes, options.days, seed=2026))
    print(f"data: {options.homes} homes x {options.days} days; {os.cpu_count()} cores")

    env = dict(os.environ)
    engine = None
    settings = ""
    try:
        import docker

        docker.from_env().ping()
        print(f"engine: {os.environ.get('DOCKER_HOST', 'default')}")
    except Exception:
        engine = engines.start_engine()
        engines.build_base_image(engine)
        env["DOCKER_HOST"] = engine.url
        settings = 'base_image = "toreador-base:test"\nredis_image = "toreador-base:test"\n'

        print(f"engine: started for this run ({engine.url}), base image {engines.BASE_IMAGE}")
    try:
        reference = subprocess.run(
            [sys.executable, str(FLAGSHIP), str(data)], capture_output=True, text=True, check=True
        ).stdout
        per_item, pooled = folder / "per-item.toml", folder / "pool.toml"
        per_item.write_text(f"[docker]\n{settings}")
        pooled.write_text(f"[docker]\n{settings}container_per_outer_item = false\n")
        scripts = {
            "local": compile_flagship("local", folder, per_item),
            "docker": compile_flagship("docker", folder, per_item),
            "docker-pool": compile_flagship("docker", folder, pooled, "docker-pool"),
        }
        cold_first, cold_total, out = timed(scripts["docker"], data, env, folder)
        assert out == reference, "docker output differs from the sequential reference"
        # the pooled variant's folder differs (its settings): its own image, built untimed
        _, _, out = timed(scripts["docker-pool"], data, env, folder)
        assert out == reference, "docker-pool output differs from the sequential reference"
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in scripts}
        for _ in range(options.repeat):  # alternating, so drift hits all alike
            for name, script in scripts.items():
                first, total, out = timed(script, data, env, folder)
                assert out == reference, f"{name} output differs from the sequential reference"
                results[name].append((first, total))
        first = {name: Samples([r[0] for r in runs]) for name, runs in results.items()}
        total = {name: Samples([r[1] for r in runs]) for name, runs in results.items()}
        print(f"docker cold (image build included): first result {cold_first:.2f} s, "
              f"total {cold_total:.2f} s")  # fmt: skip
        for name in scripts:
            print(f"{name:11s} {options.repeat} runs: first result {first[name]}; "
                  f"total {total[name]}")  # fmt: skip
        for name in ("docker", "docker-pool"):
            print(
                f"{name} / local, medians: first result "
                f"{first[name].median / first['local'].median:.2f}x, "
                f"total {total[name].median / total['local'].median:.2f}x"
            )
        floors = container_floor(
            scripts["docker"].parent, options.homes, options.repeat, env.get("DOCKER_HOST")
        )
        for what, samples in floors.items():
            print(
                f"floor, {options.homes} one-item containers {what}: {samples} "
                f"({samples.median / total['local'].median:.2f}x the local run)"
            )
    finally:
        if engine is not None:
            leftovers = engines.leftovers(engine)
            engines.stop_engine(engine)
            print(f"left on the engine: {leftovers or 'nothing'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
