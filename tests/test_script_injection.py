"""No value of a deployment model becomes a shell command: the model refuses what no path,
name or address holds (at its line), and the generated scripts quote every value anyway,
which is checked by running them with values the model would refuse."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path

import pytest

from toreador.compiler import compile_source, write_output
from toreador.compiler.deploy_model import DeployModel
from toreador.compiler.source import read_source

from .helpers import EXAMPLES, run_cli

HOSTILE = {
    "hadoop_home": "/x/h$(touch {marker}-home)",
    "input": "in; touch {marker}-input;",
    "output": "out`touch {marker}-output`",
    "python": "python3 $(touch {marker}-python)",
    "master": "local[2]$(touch {marker}-master)",
}


@pytest.mark.parametrize(
    ("section", "key", "value", "shown"),
    [
        ("hadoop", "hadoop_home", "/x/h$(touch /tmp/INJ)", "'$'"),
        ("hadoop", "input", "in; touch /tmp/INJ2;", "';'"),
        ("hadoop", "python", "python3`id`", "'`'"),
        ("spark", "master", "local[*] && id", "'&'"),
        ("docker", "base_image", "python:3.11\\nRUN id", "'\\n'"),
        ("docker", "volume", "v'x", '"\'"'),
    ],
)
def test_the_model_refuses_shell_syntax_at_its_line(
    tmp_path: Path, section: str, key: str, value: str, shown: str
) -> None:
    model = tmp_path / "deploy.toml"
    model.write_text(f'workers = 2\n\n[{section}]\n{key} = "{value}"\n')
    done = run_cli(
        str(EXAMPLES / "replicated.py"), "--target", "hadoop", "-o", str(tmp_path / "out"),
        "--model", str(model),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"deploy.toml:4:1: error: [{section}] '{key}' cannot hold {shown}" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def _compiled(target: str, model: DeployModel, out: Path) -> Path:
    source = read_source(EXAMPLES / "replicated.py")
    write_output(compile_source(source, "mapreduce", target, model), out)
    return out


def _hostile(marker: Path) -> DeployModel:
    """The model's checks bypassed: values it would refuse, as if they had got through."""
    values = {key: value.format(marker=marker) for key, value in HOSTILE.items()}
    base = DeployModel()
    hadoop = dataclasses.replace(
        base.hadoop,
        hadoop_home=values["hadoop_home"],
        input=values["input"],
        output=values["output"],
        python=values["python"],
    )
    spark = dataclasses.replace(base.spark, master=values["master"], python=values["python"])
    return dataclasses.replace(base, hadoop=hadoop, spark=spark)


def test_run_hadoop_sh_passes_each_value_as_one_word(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    out = _compiled("hadoop", _hostile(marker), tmp_path / "out")
    job = tmp_path / "job"
    (job / "input").mkdir(parents=True)
    # the script's `hadoop` commands, printed one argument a line instead of run
    printer = tmp_path / "print-arguments"
    printer.write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    printer.chmod(0o755)
    env = {"PATH": os.environ["PATH"], "HADOOP": str(printer), "STREAMING_JAR": "s.jar"}
    done = subprocess.run(
        ["bash", str(out / "run_hadoop.sh"), str(job)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    words = done.stdout.splitlines()
    assert HOSTILE["input"].format(marker=marker) in words
    assert HOSTILE["output"].format(marker=marker) in words
    assert f"{HOSTILE['python'].format(marker=marker)} Mapper.py" in words
    assert list(tmp_path.glob("ran*")) == []
    # the model's hadoop_home, as the script's default when HADOOP is not set
    default = subprocess.run(
        ["bash", str(out / "run_hadoop.sh"), str(job)],
        capture_output=True, text=True, env={"PATH": os.environ["PATH"]}, timeout=60,
        check=False,
    )  # fmt: skip
    assert default.returncode != 0
    assert "/x/h$(touch" in default.stderr  # tried as a file name, never run
    assert list(tmp_path.glob("ran*")) == []


def test_run_spark_sh_passes_each_value_as_one_word(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    out = _compiled("spark", _hostile(marker), tmp_path / "out")
    printer = tmp_path / "print-arguments"
    printer.write_text('#!/bin/sh\nprintf "%s\\n" "$@"\necho "python=$PYSPARK_PYTHON"\n')
    printer.chmod(0o755)
    env = {"PATH": os.environ["PATH"], "SPARK_SUBMIT": str(printer)}
    done = subprocess.run(
        ["bash", str(out / "run_spark.sh")],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    words = done.stdout.splitlines()
    assert words[words.index("--master") + 1] == HOSTILE["master"].format(marker=marker)
    assert f"python={HOSTILE['python'].format(marker=marker)}" in words
    assert list(tmp_path.glob("ran*")) == []


def test_a_control_character_in_the_program_name_is_refused(tmp_path: Path) -> None:
    """It would end a comment in the generated files and start a line in run_hadoop.sh."""
    hostile = tmp_path / "w\ntouch ran\n.py"
    hostile.write_text((EXAMPLES / "replicated.py").read_text())
    done = run_cli(str(hostile), "--target", "hadoop", "-o", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "error: the program's file name 'w\\ntouch ran\\n.py' holds a control" in done.stderr
    assert "[TR005]" in done.stderr and not (tmp_path / "out").exists()
