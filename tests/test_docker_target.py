"""The docker target on a real Docker engine (tests/docker_engine.py): the examples in worker
containers, failures, streaming through the Redis queue, two levels with one container per
outer item, an edge worker group, Ctrl-C, and no container or volume left behind."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from toreador.compiler.deploy_model import DeployModel, load_model

from .conftest import _free_port, docker_leftovers
from .helpers import EXAMPLES, compile_into, run_cli, run_script
from .test_end_to_end import CASES, reference

PATTERNS = ["auto", "mapreduce", "producer-consumer", "bag-of-tasks"]
# every region in the containers, however small (these tests are of the containers);
# where a region runs is tested with placement = "auto" (test_placement.py)
TEST_MODEL = (
    '[docker]\nbase_image = "toreador-base:test"\nredis_image = "toreador-base:test"\n'
    'placement = "workers"\n'
)


def docker_model(tmp_path: Path, extra: str = "", top: str = "") -> DeployModel:
    path = tmp_path / "deploy.toml"
    path.write_text(top + TEST_MODEL + extra)
    return load_model(path)


def compile_docker(
    source: Path, tmp_path: Path, pattern: str = "auto", extra: str = "", top: str = ""
) -> Path:
    model = docker_model(tmp_path, extra, top)
    return compile_into(source, tmp_path / "out", pattern, "docker", model)


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_examples_print_what_the_reference_prints(
    name: str, pattern: str, docker_engine: dict[str, str], tmp_path: Path
) -> None:
    expected = reference(name)
    out = compile_docker(EXAMPLES / name, tmp_path, pattern)
    got = run_script(out / "Main.py", *CASES[name], env=docker_engine)
    assert got.stdout == expected.stdout
    assert got.returncode == expected.returncode, got.stderr[-3000:]
    if name == "failing_kernel.py":
        assert "ZeroDivisionError" in got.stderr
        assert "failed on item 5: 0" in got.stderr
    assert docker_leftovers() == []


def test_a_failing_task_names_its_datum_and_function(
    write_program, docker_engine: dict[str, str], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    program = write_program(
        "from toreador import bag_of_task\n"
        "def ok(x):\n    return x\n"
        "def bad(x):\n    raise ValueError(f'no {x}')\n"
        "print(bag_of_task(['a', 'b', 'c'], [ok, bad, ok]))\n"
    )
    got = run_script(compile_docker(program, tmp_path) / "Main.py", env=docker_engine)
    assert got.returncode == 1
    assert "ValueError: no b" in got.stderr
    assert "failed on item 1: 'b' (task 1, bad)" in got.stderr
    assert docker_leftovers() == []


# Kernels that end their worker container (os._exit: a signal to a container's first process
# from inside is ignored) only in the containers started first, "-worker-0" and "-worker-1":
# the containers that replace them live. Never in the sequential reference (no container).
DIES_IN_FIRST_CONTAINERS = """\
import os
from toreador import data_parallel_region

def work(x):
    worker = os.environ.get("TOREADOR_WORKER", "")
    if x in (3, 40) and worker.rsplit("-", 1)[-1] in ALWAYS:
        os._exit(9)
    print(f"item {x}")
    return x * x

print(sum(data_parallel_region(list(range(60)), work)))
"""


@pytest.mark.parametrize("pattern", ["mapreduce", "producer-consumer", "bag-of-tasks"])
def test_a_dying_worker_container_gives_its_batch_back_to_a_new_one(
    write_program, docker_engine: dict[str, str], tmp_path: Path, pattern: str
) -> None:  # type: ignore[no-untyped-def]
    program = write_program(DIES_IN_FIRST_CONTAINERS.replace("ALWAYS", '("0", "1")'))
    expected = run_script(program)
    got = run_script(compile_docker(program, tmp_path, pattern) / "Main.py", env=docker_engine)
    assert got.returncode == 0, got.stderr[-3000:]
    assert got.stdout.splitlines() == expected.stdout.splitlines()
    assert "exit code 9); running them again, attempt 2 of 4" in got.stderr
    assert docker_leftovers() == []


@pytest.mark.parametrize("pattern", ["mapreduce", "producer-consumer"])
def test_a_batch_that_kills_every_container_gives_up_after_max_attempts(
    write_program, docker_engine: dict[str, str], tmp_path: Path, pattern: str
) -> None:  # type: ignore[no-untyped-def]
    program = write_program(DIES_IN_FIRST_CONTAINERS.replace(" in ALWAYS", ""))
    out = compile_docker(program, tmp_path, pattern, top="max_attempts = 2\n")
    got = run_script(out / "Main.py", env=docker_engine)
    assert got.returncode == 1
    message = got.stderr.strip().splitlines()[-1]
    assert "WorkerLostError" in message and "lost their worker 2 time(s)" in message
    assert message.count("exit code 9") == 2 and "max_attempts = 2" in message
    assert got.stdout == "" or "item 0" in got.stdout.splitlines()[0]
    assert docker_leftovers() == []


def test_an_item_that_cannot_travel_is_named(
    write_program, docker_engine: dict[str, str], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    program = write_program(
        "import threading\nfrom toreador import data_parallel_region\n"
        "def name(x):\n    return type(x).__name__\n"
        "print(data_parallel_region([1, 2, threading.Lock()], name))\n"
    )
    got = run_script(compile_docker(program, tmp_path) / "Main.py", env=docker_engine)
    assert got.returncode == 1
    assert "item 2 (<unlocked _thread.lock" in got.stderr
    assert "cannot be sent to a worker container" in got.stderr
    assert docker_leftovers() == []


def test_consumers_run_while_the_producer_still_produces(
    write_program, docker_engine: dict[str, str], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Consumers (containers) stamp when they ran, the producer (Main.py) when it made each
    item: the first item is consumed before the last is made, and none before its own."""
    program = write_program(
        "import sys, time\nfrom toreador import producer_consumer\n"
        "made = []\n"
        "def numbers(n):\n"
        "    for i in range(n):\n"
        "        time.sleep(0.002)\n        made.append(time.time())\n        yield i\n"
        "def consume(i):\n    return time.time()\n"
        "seen = producer_consumer(numbers(int(sys.argv[1])), consume)\n"
        "print(len(seen), seen[0] < made[-1], all(s >= m for s, m in zip(seen, made)))\n"
    )
    assert run_script(program, "1500").stdout == "1500 True True\n"
    got = run_script(compile_docker(program, tmp_path) / "Main.py", "1500", env=docker_engine)
    assert got.returncode == 0, got.stderr[-3000:]
    assert got.stdout == "1500 True True\n"
    assert docker_leftovers() == []


def test_a_failing_producer_still_runs_earlier_items(
    write_program, docker_engine: dict[str, str], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    program = write_program(
        "from toreador import producer_consumer\n"
        "def items():\n    for i in range(5):\n        print('making', i)\n        yield i\n"
        "    raise RuntimeError('producer broke')\n"
        "def show(i):\n    print('got', i)\n    return i\n"
        "producer_consumer(items(), show)\n"
    )
    expected = run_script(program)
    got = run_script(compile_docker(program, tmp_path) / "Main.py", env=docker_engine)
    assert got.stdout == expected.stdout
    assert got.returncode == expected.returncode == 1
    assert "RuntimeError: producer broke" in got.stderr
    assert docker_leftovers() == []


@pytest.mark.parametrize("pattern", ["mapreduce", "producer-consumer", "bag-of-tasks"])
def test_the_failing_items_position_is_exact(
    write_program, docker_engine: dict[str, str], tmp_path: Path, pattern: str
) -> None:  # type: ignore[no-untyped-def]
    program = write_program(
        "from toreador import data_parallel_region\n"
        "def check(x):\n    if x == 992:\n        raise ValueError(x)\n    return x\n"
        "data_parallel_region(list(range(1001)), check)\n"
    )
    got = run_script(compile_docker(program, tmp_path, pattern) / "Main.py", env=docker_engine)
    assert got.returncode == 1
    assert "failed on item 992: 992" in got.stderr
    assert docker_leftovers() == []


@pytest.mark.parametrize("pattern", ["mapreduce", "producer-consumer"])
def test_a_caught_failure_leaves_the_workers_ready_for_the_next_region(
    write_program, docker_engine: dict[str, str], tmp_path: Path, pattern: str
) -> None:  # type: ignore[no-untyped-def]
    """The batches a failed region left in the queue or the volume are dropped, not run into
    the next region's results."""
    program = write_program(
        "import time\nfrom toreador import data_parallel_region\n"
        "def fragile(x):\n    if x == 3:\n        raise ValueError(x)\n"
        "    time.sleep(0.01)\n    return x\n"
        "def double(x):\n    return 2 * x\n"
        "for attempt in range(2):\n"
        "    try:\n        data_parallel_region(list(range(400)), fragile)\n"
        "    except ValueError as error:\n        print('caught', error)\n"
        "    print(data_parallel_region(list(range(30)), double))\n"
    )
    expected = run_script(program)
    got = run_script(compile_docker(program, tmp_path, pattern) / "Main.py", env=docker_engine)
    assert got.returncode == expected.returncode == 0, got.stderr[-3000:]
    assert got.stdout == expected.stdout
    assert docker_leftovers() == []


@pytest.mark.parametrize("per_item", [True, False], ids=["container-per-item", "worker-pool"])
def test_one_container_per_outer_item_with_its_inner_level(
    write_program, docker_engine: dict[str, str], tmp_path: Path, per_item: bool
) -> None:  # type: ignore[no-untyped-def]
    """The two-level deployment: each outer item runs in a container of its own (its host
    name is the container's), and the inner region uses that container's 2 CPUs; with
    container_per_outer_item = false the two pool workers take the outer items."""
    program = write_program(
        "import os, socket, time\nfrom toreador import data_parallel_region\n"
        "def inner(x):\n    time.sleep(0.05)\n    return os.getpid()\n"
        "def outer(group):\n"
        "    return socket.gethostname(), len(set(data_parallel_region(range(12), inner)))\n"
        "found = data_parallel_region(range(4), outer)\n"
        "print(found)\n"
    )
    extra = "" if per_item else "container_per_outer_item = false\n"
    out = compile_docker(program, tmp_path, extra=extra, top="cores_per_worker = 2\n")
    got = run_script(out / "Main.py", env=docker_engine)
    assert got.returncode == 0, got.stderr[-3000:]
    found = eval(got.stdout)  # a list of (host name, distinct inner processes)
    hosts = {host for host, _ in found}
    assert socket.gethostname() not in hosts
    assert len(hosts) == 4 if per_item else 1 <= len(hosts) <= 2
    assert [processes for _, processes in found] == [2, 2, 2, 2]
    assert docker_leftovers() == []


def test_an_outer_items_container_that_dies_is_started_again(
    write_program, docker_engine: dict[str, str], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A container per outer item: the first one started ends itself; its item goes to a new
    container, whose inner region runs as before."""
    program = write_program(
        "import os\nfrom toreador import data_parallel_region\n"
        "def inner(x):\n    return x * x\n"
        "def outer(group):\n"
        "    if os.environ.get('TOREADOR_WORKER', '').endswith('-item-0'):\n"
        "        os._exit(9)\n"
        "    return sum(data_parallel_region(range(group * 10, group * 10 + 10), inner))\n"
        "print(data_parallel_region(range(3), outer))\n"
    )
    expected = run_script(program)
    out = compile_docker(program, tmp_path, top="cores_per_worker = 2\n")
    got = run_script(out / "Main.py", env=docker_engine)
    assert got.returncode == 0, got.stderr[-3000:]
    assert got.stdout == expected.stdout
    assert "-item-0: exit code 9); running them again, attempt 2 of 4" in got.stderr
    assert docker_leftovers() == []


def test_an_edge_worker_group_runs_on_the_models_docker_host(
    docker_engine: dict[str, str], redis_url: str, tmp_path: Path
) -> None:
    """docker_host sends the workers to another engine (here: the test engine, while
    DOCKER_HOST names none), their batches through the model's Redis."""
    name = "replicated.py"
    extra = f'docker_host = "{docker_engine["DOCKER_HOST"]}"\nredis_url = "{redis_url}"\n'
    out = compile_docker(EXAMPLES / name, tmp_path, "mapreduce", extra=extra)
    env = dict(docker_engine, DOCKER_HOST="unix:///nonexistent/docker.sock")
    got = run_script(out / "Main.py", *CASES[name], env=env)
    assert got.returncode == 0, got.stderr[-3000:]
    assert got.stdout == reference(name).stdout
    assert docker_leftovers() == []


def test_ctrl_c_removes_everything_it_created(
    write_program, docker_engine: dict[str, str], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    program = write_program(
        "import time\nfrom toreador import producer_consumer\n"
        "def slow(x):\n    time.sleep(60)\n    return x\n"
        "print(producer_consumer(iter(range(4)), slow))\n"
    )
    out = compile_docker(program, tmp_path)
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        process = subprocess.Popen(
            [sys.executable, str(out / "Main.py")],
            env=docker_engine,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 120
            while len(docker_leftovers()) < 3 and time.monotonic() < deadline:
                time.sleep(0.2)  # Redis and two workers: the run is under way
            assert len(docker_leftovers()) >= 3
            process.send_signal(signal_number)
            _, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:  # never leave it to the next test
                process.kill()
                process.communicate()
        assert process.returncode != 0
        assert "Traceback" not in stderr or "KeyboardInterrupt" in stderr
        assert docker_leftovers() == []


def test_main_feeds_an_operators_worker_group(
    docker_engine: dict[str, str], tmp_path: Path
) -> None:
    """docker-compose.yml's worker group, started here with the SDK as compose would (its
    environment, host networking): Main.py with TOREADOR_DOCKER_WORKERS=external feeds it
    through Redis and starts no container of its own."""
    import docker

    name = "lambdas.py"
    out = compile_docker(EXAMPLES / name, tmp_path, "bag-of-tasks")
    first = run_script(out / "Main.py", *CASES[name], env=docker_engine)  # builds the image
    assert first.returncode == 0, first.stderr[-3000:]
    compose = (out / "docker-compose.yml").read_text()
    queue = "toreador-lambdas"
    assert f"TOREADOR_QUEUE: {queue}" in compose and "TOREADOR_TRANSPORT: queue" in compose
    client = docker.DockerClient(base_url=docker_engine["DOCKER_HOST"])
    image = client.images.list(filters={"label": "toreador.program=toreador-lambdas"})[0]
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    group = [
        client.containers.run(
            "toreador-base:test",
            ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", ""],
            detach=True,
            network_mode="host",
        )
    ]
    try:
        environment = {
            "TOREADOR_TRANSPORT": "queue",
            "TOREADOR_REDIS_URL": url,
            "TOREADOR_QUEUE": queue,
            "TOREADOR_CPUS": "1",
        }
        for _ in range(2):
            group.append(
                client.containers.run(
                    image.id, detach=True, network_mode="host", environment=environment
                )
            )
        env = dict(docker_engine, TOREADOR_DOCKER_WORKERS="external", TOREADOR_REDIS_URL=url)
        got = run_script(out / "Main.py", *CASES[name], env=env)
        assert got.returncode == 0, got.stderr[-3000:]
        assert got.stdout == reference(name).stdout
        assert len(client.containers.list(all=True, sparse=True)) == 3  # the group only
    finally:
        for container in group:
            container.remove(force=True)
        client.close()
    assert docker_leftovers() == []


def test_an_unreachable_engine_is_said_plainly(tmp_path: Path) -> None:
    out = compile_docker(EXAMPLES / "aliases.py", tmp_path)
    env = dict(os.environ, DOCKER_HOST="unix:///nonexistent/docker.sock")
    got = run_script(out / "Main.py", *CASES["aliases.py"], env=env)
    assert got.returncode == 1
    assert "cannot reach the Docker engine at unix:///nonexistent/docker.sock" in got.stderr
    assert "Traceback" not in got.stderr


def test_without_the_docker_sdk_the_program_says_what_is_missing(tmp_path: Path) -> None:
    """With the SDK unimportable (a None entry in sys.modules makes `import docker` fail as
    if it were not installed): one clear line, exit 1, no traceback."""
    out = compile_docker(EXAMPLES / "aliases.py", tmp_path)
    runner = (
        "import runpy, sys; sys.modules['docker'] = None; "
        f"sys.path.insert(0, {str(out)!r}); sys.argv = [{str(out / 'Main.py')!r}]; "
        "runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    got = subprocess.run(
        [sys.executable, "-c", runner], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert got.returncode == 1
    assert "the docker target needs the Docker SDK" in got.stderr
    assert "Traceback" not in got.stderr


def test_network_none_with_a_queue_is_refused_at_compile_time(tmp_path: Path) -> None:
    (tmp_path / "deploy.toml").write_text("[docker]\nnetwork_mode = 'none'\n")
    got = run_cli(
        str(EXAMPLES / "generator_producer.py"),
        "--target",
        "docker",
        "--model",
        str(tmp_path / "deploy.toml"),
        "-o",
        str(tmp_path / "out"),
    )
    assert got.returncode == 2
    assert "network_mode = 'none' leaves the consumer containers" in got.stderr
    assert "Traceback" not in got.stderr


def test_the_generated_deployment_files(tmp_path: Path) -> None:
    out = compile_docker(ROOT_FLAGSHIP, tmp_path, top="cores_per_worker = 2\n")
    dockerfile = (out / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=toreador-base:test\nFROM ${BASE_IMAGE}" in dockerfile
    assert 'CMD ["python3", "docker_worker.py"]' in dockerfile
    requirements = (out / "requirements.txt").read_text()
    assert "pandas==" in requirements and "redis==" in requirements
    shipped = {path.name for path in (out / "packages" / "mtbf_example").glob("*.py")}
    # the kernels' modules, and those Main.py imports (an item's class: a gateway source,
    # whose fetch calls the service client), followed through their imports; not the rest
    assert {"analysis.py", "sources.py", "dataset.py", "service.py"} <= shipped
    assert not {"cli.py", "chart.py", "generate.py", "pipeline.py"} & shipped
    assert "httpx==" in requirements  # the service client, in the containers too
    compose = (out / "docker-compose.yml").read_text()
    assert "network_mode: host" in compose and "cpus: 2" in compose
    if shutil.which("docker-compose"):
        checked = subprocess.run(
            ["docker-compose", "-f", str(out / "docker-compose.yml"), "config"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode == 0, checked.stderr


ROOT_FLAGSHIP = EXAMPLES.parent / "mtbf_example" / "mtbf.py"


def test_a_worker_killed_at_its_memory_limit_says_so(
    write_program, docker_engine: dict[str, str], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    program = write_program(
        "from toreador import data_parallel_region\n"
        "def hog(x):\n    block = bytearray(400 * 1024 * 1024)\n    return len(block) + x\n"
        "print(data_parallel_region([1, 2], hog))\n"
    )
    out = compile_docker(program, tmp_path, top='max_attempts = 2\nmemory_per_worker = "64m"\n')
    got = run_script(out / "Main.py", env=docker_engine)
    assert got.returncode == 1
    message = got.stderr.strip().splitlines()[-1]  # each attempt's cause names the setting
    assert "WorkerLostError" in message and "lost their worker 2 time(s)" in message
    assert message.count("killed at its memory limit, 64m: raise memory_per_worker") == 2
    assert docker_leftovers() == []


@pytest.mark.parametrize("mount", [True, False])
def test_kernels_open_files_by_the_paths_main_py_sees(
    write_program, docker_engine: dict[str, str], tmp_path: Path, mount: bool
) -> None:  # type: ignore[no-untyped-def]
    # a path relative to the working directory, and a folder named on the command line
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    work.mkdir()
    elsewhere.mkdir()
    (work / "notes.txt").write_text("one\ntwo\n")
    (elsewhere / "more.txt").write_text("three\nfour\nfive\n")
    program = write_program(
        "import os, sys\nfrom toreador import data_parallel_region\n"
        "def lines(path):\n    with open(path) as handle:\n        return len(handle.readlines())\n"
        "paths = ['notes.txt', os.path.join(sys.argv[1], 'more.txt')]\n"
        "print(data_parallel_region(paths, lines))\n"
    )
    extra = "" if mount else "mount_host_paths = false\n"
    out = compile_docker(program, tmp_path, extra=extra)
    got = subprocess.run(
        [sys.executable, str(out / "Main.py"), str(elsewhere)],
        cwd=work, env=docker_engine, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if mount:
        assert got.returncode == 0, got.stderr[-3000:]
        assert got.stdout == "[2, 3]\n"
    else:
        assert got.returncode == 1
        assert "FileNotFoundError" in got.stderr and "notes.txt" in got.stderr
    assert docker_leftovers() == []


def test_a_file_the_containers_cannot_see_is_named_with_the_fix(
    write_program, docker_engine: dict[str, str], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # a hard-coded path under /tmp: the containers' own /tmp is not this machine's
    program = write_program(
        "import os\nfrom toreador import data_parallel_region\n"
        "def size(path):\n    with open(path) as handle:\n        return len(handle.read())\n"
        "log = f'/tmp/toreador-batch-{os.getpid()}.log'\n"
        "with open(log, 'w') as handle:\n    handle.write('batch 1\\n')\n"
        "try:\n    print(data_parallel_region([log], size))\nfinally:\n    os.unlink(log)\n"
    )
    assert run_script(program).stdout == "[8]\n"
    out = compile_docker(program, tmp_path)
    got = subprocess.run(
        [sys.executable, str(out / "Main.py")],
        cwd=tmp_path, env=docker_engine, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert got.returncode == 1
    assert got.stderr.strip().splitlines()[-1].startswith("FileNotFoundError:")
    assert "/tmp/toreador-batch-" in got.stderr
    assert "exists where Main.py runs but not where the kernel ran" in got.stderr
    assert docker_leftovers() == []


def test_the_host_paths_given_to_containers(tmp_path: Path) -> None:
    from toreador.runtime import docker_containers as runtime

    work, data = tmp_path / "work", tmp_path / "data"
    (work / "inner").mkdir(parents=True)
    data.mkdir()
    (data / "homes.parquet").write_text("")
    arguments = [
        "--start",  # a flag alone
        f"--json={data / 'homes.parquet'}",  # a path after '='
        str(work / "inner"),  # inside the working directory: covered by it
        str(tmp_path / "missing.txt"),  # does not exist: nothing to mount
        "/",
        "/tmp",
        "-v",
    ]
    assert runtime.host_paths(str(work), arguments) == [str(data), str(work)]
    assert runtime.host_paths("/", []) == []  # never the container's own folders


def test_what_kernels_write_to_stderr_reaches_the_users_stderr(
    write_program, docker_engine: dict[str, str], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    program = write_program(
        "import sys\nfrom toreador import data_parallel_region\n"
        "def k(x):\n    print('warning about', x, file=sys.stderr)\n    return x\n"
        "print(data_parallel_region([1, 2, 3], k))\n"
    )
    got = run_script(compile_docker(program, tmp_path) / "Main.py", env=docker_engine)
    assert (got.stdout, got.returncode) == ("[1, 2, 3]\n", 0), got.stderr[-3000:]
    for x in (1, 2, 3):
        assert f"warning about {x}" in got.stderr
    assert docker_leftovers() == []
