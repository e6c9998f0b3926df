"""The deployment model: a small TOML file with what the deployment scripts need.

Every target has a section; only ``[local]`` is used by the local target, but the schema is
checked for all of them so that a typo fails at compile time, with its line, not on a cluster.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, ModelError


@dataclass(frozen=True)
class LocalSettings:
    workers: int = 0  # 0: the machine's cores
    # "auto": a region runs in workers only when they win (else in the main process);
    # "workers": always in workers, however little work a region holds
    placement: str = "auto"


@dataclass(frozen=True)
class SparkSettings:
    master: str = "local[*]"
    executors: int = 2
    executor_cores: int = 1
    executor_memory: str = "1g"
    driver_memory: str = "1g"
    task_cpus: int = 1  # CPUs per Spark task: a nested region runs on that many processes
    python: str = ""  # the executors' interpreter; "": the one that runs Main.py


@dataclass(frozen=True)
class HadoopSettings:
    hadoop_home: str = ""
    streaming_jar: str = ""
    input: str = "toreador-input"
    output: str = "toreador-output"
    reducers: int = 2
    python: str = "python3"
    # "auto": without a Hadoop installation, a region whose work cannot pay for the local
    # streaming runner's processes runs in Main.py; "workers": always as a streaming job.
    # With an installation every region is a job: the cluster is what the user asked for.
    placement: str = "auto"


@dataclass(frozen=True)
class DockerSettings:
    base_image: str = "python:3.11-slim"  # FROM of the generated Dockerfile
    replicas: int = 2  # worker containers (outer regions: containers running at once)
    network_mode: str = ""  # "": none, or host when the Redis queue is used
    volume: str = "toreador-data"  # the shared volume's name prefix
    docker_host: str = ""  # the worker group's engine ("": DOCKER_HOST, else the local one)
    redis_url: str = ""  # an existing Redis; "": Main.py starts one in a container
    redis_image: str = "redis:7-alpine"
    queue_bound: int = 8  # batches waiting in the queue at most (the producer waits)
    # an outer region (its kernel holds nested regions) gets one container per item, as in
    # the original study; false: its items go to the long-lived worker containers instead
    container_per_outer_item: bool = True
    # with an engine on this machine: Main.py's working directory and the existing paths its
    # command line names are mounted read-only at the same paths, so kernels open files as
    # the sequential program does; false: containers see only the image
    mount_host_paths: bool = True
    # "auto": a region of the long-lived worker group whose work cannot pay for the
    # containers runs in Main.py (an engine on this machine only); "workers": always in
    # containers. An outer region's one container per item is not affected.
    placement: str = "auto"


@dataclass(frozen=True)
class DeployModel:
    """Workers and resources, then one section per target."""

    workers: int = 0
    cores_per_worker: int = 1
    memory_per_worker: str = "1g"
    # how many times a batch (a task) may lose its worker before the run gives up, on every
    # target: Hadoop's mapreduce.map.maxattempts and Spark's spark.task.maxFailures are 4
    max_attempts: int = 4
    local: LocalSettings = field(default_factory=LocalSettings)
    spark: SparkSettings = field(default_factory=SparkSettings)
    hadoop: HadoopSettings = field(default_factory=HadoopSettings)
    docker: DockerSettings = field(default_factory=DockerSettings)

    def local_workers(self) -> int:
        return self.local.workers or self.workers


SECTIONS: dict[str, type] = {
    "local": LocalSettings,
    "spark": SparkSettings,
    "hadoop": HadoopSettings,
    "docker": DockerSettings,
}
MEMORY = re.compile(r"^[1-9][0-9]*[kmgt]?$", re.IGNORECASE)
# what no path, host, image or URL in a model holds: control characters and shell syntax
# (the generated scripts quote every value too; this names the mistake at its line)
NOT_IN_A_VALUE = re.compile(r"[\x00-\x1f\x7f$`;|&<>\\\"']")
NETWORK_MODES = ("", "none", "host")
PLACEMENTS = ("auto", "workers")
AT_LEAST_ONE = (
    "max_attempts",
    "replicas",
    "reducers",
    "executors",
    "executor_cores",
    "task_cpus",
    "queue_bound",
)


def load_model(path: Path | None, shown: str | None = None) -> DeployModel:
    """Load and validate a model file (named ``shown`` in diagnostics, else by its path);
    None gives the defaults for this machine."""
    if path is None:
        return DeployModel()
    shown = shown or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ModelError(
            [Diagnostic(shown, 1, 1, "error", f"cannot read model: {error}")]
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        where = re.search(r"\(at line (\d+), column (\d+)\)", str(error))
        line, column = (int(where[1]), int(where[2])) if where else (1, 1)
        message = str(error).split(" (at ")[0]
        lines = text.splitlines()
        source_line = lines[line - 1] if 0 < line <= len(lines) else ""
        raise ModelError(
            [Diagnostic(shown, line, column, "error", f"invalid TOML: {message}", source_line)]
        ) from None
    return _Validator(shown, text).model(data)


class _Validator:
    def __init__(self, shown: str, text: str) -> None:
        self.shown, self.lines = shown, text.splitlines()
        self.errors: list[Diagnostic] = []

    def _locate(self, key: str, section: str | None) -> tuple[int, int, str]:
        in_section = section is None
        for number, line in enumerate(self.lines, start=1):
            stripped = line.strip()
            if stripped.startswith("["):
                in_section = stripped.strip("[] ") == section if section else False
                if section is not None and stripped.strip("[] ") == key:
                    return number, line.index("[") + 1, line
                continue
            if in_section and re.match(rf"\s*{re.escape(key)}\s*=", line):
                return number, line.index(key) + 1, line
        return 1, 1, ""

    def fail(self, message: str, key: str, section: str | None) -> None:
        line, column, text = self._locate(key, section)
        self.errors.append(Diagnostic(self.shown, line, column, "error", message, text))

    def values(self, kind: type, data: dict[str, Any], section: str | None) -> dict[str, Any]:
        known = {f.name: f for f in fields(kind)}
        result: dict[str, Any] = {}
        where = f"[{section}] " if section else ""
        for key, value in data.items():
            if key in SECTIONS and section is None:
                continue
            if key not in known:
                close = difflib.get_close_matches(key, list(known) + list(SECTIONS), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.fail(
                    f"{where}unknown key '{key}'{hint}; known: {', '.join(known)}", key, section
                )
                continue
            expected = type(known[key].default)
            if expected is bool and not isinstance(value, bool):
                self.fail(f"{where}'{key}' must be true or false, not {value!r}", key, section)
            elif expected is int and (isinstance(value, bool) or not isinstance(value, int)):
                self.fail(f"{where}'{key}' must be an integer, not {value!r}", key, section)
            elif expected is int and value < 0:
                self.fail(f"{where}'{key}' must be 0 or more, not {value}", key, section)
            elif expected is str and not isinstance(value, str):
                self.fail(f"{where}'{key}' must be a string, not {value!r}", key, section)
            elif expected is str and (bad := NOT_IN_A_VALUE.search(value)):
                self.fail(
                    f"{where}'{key}' cannot hold {bad[0]!r}: a path, name or address holds "
                    "no control characters, quotes or shell syntax",
                    key,
                    section,
                )
            elif "memory" in key and not MEMORY.match(str(value)):
                self.fail(f"{where}'{key}' must look like 512m or 2g, not {value!r}", key, section)
            elif key == "network_mode" and value not in NETWORK_MODES:
                self.fail(
                    f"{where}'network_mode' must be none or host "
                    "(the default bridge reaches a private network)",
                    key,
                    section,
                )
            elif key == "placement" and value not in PLACEMENTS:
                self.fail(
                    f"{where}'placement' must be auto or workers, not {value!r}", key, section
                )
            elif key in AT_LEAST_ONE and value == 0:
                self.fail(f"{where}'{key}' must be at least 1", key, section)
            else:
                result[key] = value
        return result

    def model(self, data: dict[str, Any]) -> DeployModel:
        top = self.values(
            DeployModel, {k: v for k, v in data.items() if not isinstance(v, dict)}, None
        )
        sections: dict[str, Any] = {}
        for name, value in data.items():
            if not isinstance(value, dict):
                continue
            if name not in SECTIONS:
                close = difflib.get_close_matches(name, list(SECTIONS), n=1)
                hint = f" (did you mean '[{close[0]}]'?)" if close else ""
                self.fail(
                    f"unknown section [{name}]{hint}; known: {', '.join(SECTIONS)}", name, name
                )
                continue
            sections[name] = SECTIONS[name](**self.values(SECTIONS[name], value, name))
        if self.errors:
            raise ModelError(self.errors)
        return DeployModel(**top, **sections)
