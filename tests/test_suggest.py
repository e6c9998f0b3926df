"""`toreador-compile suggest` on a corpus of un-annotated programs written here in the style
of ordinary scripts (tests/suggest_corpus/). Each candidate line is marked
``# expect: parallel`` or ``# expect: sequential``: no marked sequential line may be
suggested (no false "parallel"), at least 80% of the marked parallel ones must be; every
suggested program compiles without a diagnostic and prints what the original prints, run
as it is (its primitives sequential) and compiled for local."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import run_as_user, run_cli

CORPUS = Path(__file__).parent / "suggest_corpus"
PROGRAMS = sorted(CORPUS.glob("*.py"))
EXPECT = re.compile(r"#\s*expect:\s*(parallel|sequential)")


def expectations(program: Path) -> dict[int, str]:
    return {
        number: found[1]
        for number, line in enumerate(program.read_text().splitlines(), 1)
        if (found := EXPECT.search(line))
    }


def suggested(program: Path, out: Path) -> dict[int, dict[str, object]]:
    done = run_cli("suggest", str(program), "--json", "--write", str(out))
    assert done.returncode == 0, done.stderr
    return {entry["line"]: entry for entry in json.loads(done.stdout)}


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_no_false_parallel_and_the_same_output(program: Path, tmp_path: Path) -> None:
    annotated = tmp_path / program.name
    verdicts = suggested(program, annotated)
    for line, expected in expectations(program).items():
        assert line in verdicts, f"{program.name}:{line} was not examined"
        if expected == "sequential":
            assert verdicts[line]["verdict"] == "sequential", verdicts[line]
            assert verdicts[line]["reason"]
    reference = subprocess.run(
        [sys.executable, str(program)], capture_output=True, text=True, check=True
    )
    as_is = subprocess.run(
        [sys.executable, str(annotated)], capture_output=True, text=True, check=True
    )
    assert as_is.stdout == reference.stdout
    out = tmp_path / "out"
    compiled = run_cli(str(annotated), "--target", "local", "-o", str(out))
    assert compiled.returncode == 0 and "warning" not in compiled.stderr, compiled.stderr
    ran = run_as_user(out / "Main.py")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == reference.stdout


def test_most_parallel_loops_are_found(tmp_path: Path) -> None:
    wanted = found = 0
    missed = []
    for program in PROGRAMS:
        verdicts = suggested(program, tmp_path / program.name)
        for line, expected in expectations(program).items():
            if expected == "parallel":
                wanted += 1
                if verdicts[line]["verdict"] == "parallel":
                    found += 1
                else:
                    missed.append(f"{program.name}:{line}: {verdicts[line]['reason']}")
    assert wanted and found / wanted >= 0.8, missed


def test_the_default_output_is_a_diff_and_nothing_when_nothing_qualifies(
    tmp_path: Path,
) -> None:
    done = run_cli("suggest", str(CORPUS / "grid_blur.py"))
    assert done.returncode == 0
    assert done.stdout.startswith("--- grid_blur.py\n+++ grid_blur.py\n")
    assert "+from toreador import data_parallel_region\n" in done.stdout
    assert "+blurred = data_parallel_region(range(len(grid)), blur_row, grid)\n" in done.stdout
    plain = tmp_path / "plain.py"
    plain.write_text("total = 0\nfor x in range(3):\n    total += x\nprint(total)\n")
    nothing = run_cli("suggest", str(plain))
    assert nothing.returncode == 0 and nothing.stdout == ""
    assert "nothing in" in nothing.stderr and len(nothing.stderr.splitlines()) == 1


def test_a_program_that_does_not_parse_is_a_located_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("for x in :\n    pass\n")
    done = run_cli("suggest", str(broken))
    assert done.returncode == 2 and done.stderr.startswith(f"{broken}:1:")
    assert "Traceback" not in done.stderr


def test_a_loop_body_of_several_steps_becomes_a_function_of_the_item() -> None:
    """The per-gateway loop of an MTBF-style report: its body made a kernel, the
    enclosing function's local passed as a replicated argument, the inner loop not split."""
    done = run_cli("suggest", str(CORPUS / "gateway_report.py"))
    assert done.returncode == 0, done.stderr
    assert "+def report_item(name, span):\n" in done.stdout
    assert "+    return (name, mtbf(failed, span), sum(gaps))\n" in done.stdout
    assert "+    report = data_parallel_region(names, report_item, span)\n" in done.stdout
    verdicts = suggested(CORPUS / "gateway_report.py", Path(os.devnull))
    inner = next(v for v in verdicts.values() if v["line"] == 24)
    assert inner["verdict"] == "sequential"  # too little work, and inside the outer one


def test_verify_runs_the_original_and_the_suggestion_compiled(tmp_path: Path) -> None:
    program = tmp_path / "scaled.py"
    program.write_text(
        "import sys\n\n\ndef scale(x, factor):\n    return x * factor\n\n\n"
        "factor = int(sys.argv[1])\nout = []\nfor x in range(8):\n"
        "    out.append(scale(x, factor))\nprint(sys.argv[0].rsplit('/', 1)[-1], out)\n"
    )
    done = run_cli("suggest", str(program), "--verify", "--", "3")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("--- scaled.py\n")
    assert done.stderr.strip().endswith("toreador: verify: equal")


def test_the_plain_mtbf_program_gets_both_levels_and_prints_the_same(tmp_path: Path) -> None:
    """mtbf_example/mtbf_plain.py (the flagship without primitives): the loop over the
    gateways becomes the outer data_parallel_region, the loop over a gateway's day chunks
    the inner producer_consumer, as mtbf.py is annotated by hand; the suggestion, compiled
    for local, prints the plain program's report."""
    from mtbf_example.generate import generate

    plain = Path(__file__).parent.parent / "mtbf_example" / "mtbf_plain.py"
    lines = plain.read_text().splitlines()
    outer = 1 + next(n for n, line in enumerate(lines) if "for source in sources:" in line)
    inner = 1 + next(n for n, line in enumerate(lines) if "for chunk in day_chunks" in line)
    verdicts = suggested(plain, tmp_path / "annotated.py")
    assert verdicts[outer]["primitive"] == "data_parallel_region"
    assert verdicts[inner]["primitive"] == "producer_consumer"
    data = tmp_path / "homes"
    list(generate(data, 3, 2, seed=11))
    done = run_cli("suggest", str(plain), "--verify", "--", str(data))
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().endswith("toreador: verify: equal")


def test_profile_takes_back_the_regions_too_small_to_pay(tmp_path: Path) -> None:
    """One run measures each suggested region: the heavy one stays, the light one (tens of
    microseconds of work in all) is made sequential again with its measured figures."""
    program = tmp_path / "mixed.py"
    program.write_text(
        "import random\nimport sys\n\n\ndef estimate(seed, samples):\n"
        "    generator = random.Random(seed)\n    inside = 0\n"
        "    for _ in range(samples):\n        x, y = generator.random(), generator.random()\n"
        "        inside += x * x + y * y <= 1\n    return 4 * inside / samples\n\n\n"
        "def label(n):\n    return f'n{n}'\n\n\n"
        "samples = int(sys.argv[1])\n"
        "estimates = [estimate(seed, samples) for seed in range(6)]\n"
        "labels = [label(n) for n in range(5)]\n"
        "print(round(sum(estimates) / 6, 3), labels)\n"
    )
    plain = run_cli("suggest", str(program), "--json")
    comprehensions = [v for v in json.loads(plain.stdout) if v["kind"] == "comprehension"]
    assert [v["verdict"] for v in comprehensions] == ["parallel", "parallel"]
    done = run_cli("suggest", str(program), "--json", "--profile", "--", "300000")
    assert done.returncode == 0, done.stderr
    heavy, light = [v for v in json.loads(done.stdout) if v["kind"] == "comprehension"]
    assert heavy["verdict"] == "parallel" and "measured: 1 call, 6 items" in heavy["reason"]
    assert light["verdict"] == "sequential"
    assert light["reason"].startswith("too small to pay for workers (measured: 1 call, 5 items")
    diff = run_cli("suggest", str(program), "--profile", "--", "300000").stdout
    assert "+estimates = data_parallel_region(range(6), estimate, samples)\n" in diff
    assert "+labels" not in diff


def test_profile_says_when_the_program_fails(tmp_path: Path) -> None:
    program = tmp_path / "needs_argument.py"
    program.write_text(
        "import sys\n\n\ndef f(x):\n    return str(x) * 2\n\n\n"
        "count = int(sys.argv[1])\nprint([f(x) for x in range(count)])\n"
    )
    done = run_cli("suggest", str(program), "--profile")
    assert done.returncode == 2
    assert "the profiled run exited with status 1" in done.stderr and "IndexError" in done.stderr
