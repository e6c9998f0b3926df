"""The deployment model: defaults, every section's schema, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from toreador.compiler.deploy_model import DeployModel, load_model
from toreador.compiler.diagnostics import ModelError


def load(text: str, tmp_path: Path) -> DeployModel:
    path = tmp_path / "deploy.toml"
    path.write_text(text)
    return load_model(path)


def test_defaults_without_a_file() -> None:
    model = load_model(None)
    assert model.local_workers() == 0
    assert model.docker.network_mode == ""


def test_every_section_loads(tmp_path: Path) -> None:
    model = load(
        "workers = 4\ncores_per_worker = 1\nmemory_per_worker = '2g'\n"
        "[local]\nworkers = 2\n"
        "[spark]\nmaster = 'spark://127.0.0.1:7077'\nexecutors = 2\nexecutor_memory = '512m'\n"
        "[hadoop]\nstreaming_jar = '/opt/h.jar'\nreducers = 3\npython = 'python3'\n"
        "placement = 'workers'\n"
        "[docker]\nbase_image = 'toreador-base:test'\nreplicas = 3\nnetwork_mode = 'host'\n",
        tmp_path,
    )
    assert (model.workers, model.local_workers()) == (4, 2)
    assert model.spark.master == "spark://127.0.0.1:7077"
    assert (model.hadoop.reducers, model.docker.replicas) == (3, 3)
    assert (model.local.placement, model.hadoop.placement) == ("auto", "workers")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "workers = 'two'\n", "deploy.toml:1:1: error: 'workers' must be an integer", id="type"
        ),
        pytest.param(
            "[local]\nworkers = -1\n",
            "deploy.toml:2:1: error: [local] 'workers' must be 0 or more",
            id="negative",
        ),
        pytest.param(
            "[docker]\nnetwork_mode = 'bridge'\n",
            "deploy.toml:2:1: error: [docker] 'network_mode' must be none or host",
            id="bridge-refused",
        ),
        pytest.param(
            "[docker]\ncontainer_per_outer_item = 1\n",
            "deploy.toml:2:1: error: [docker] 'container_per_outer_item' must be true or false",
            id="boolean",
        ),
        pytest.param(
            "[sprak]\nmaster = 'x'\n",
            "deploy.toml:1:1: error: unknown section [sprak] (did you mean '[spark]'?)",
            id="section-typo",
        ),
        pytest.param(
            "memory_per_worker = 'lots'\n",
            "deploy.toml:1:1: error: 'memory_per_worker' must look like 512m or 2g",
            id="memory",
        ),
        pytest.param("workers = \n", "deploy.toml:1:11: error: invalid TOML", id="toml"),
        pytest.param(
            "[hadoop]\nplacement = 'jobs'\n",
            "deploy.toml:2:1: error: [hadoop] 'placement' must be auto or workers",
            id="placement",
        ),
        pytest.param(
            "[hadoop]\nreducers = 0\n",
            "deploy.toml:2:1: error: [hadoop] 'reducers' must be at least 1",
            id="zero-reducers",
        ),
    ],
)
def test_invalid_models(text: str, expected: str, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError) as raised:
        load_model(Path("deploy.toml") if (tmp_path / "deploy.toml").write_text(text) else None)
    assert raised.value.diagnostics[0].render().startswith(expected)
