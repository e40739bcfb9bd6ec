"""PRJ: the project's commands and public surface."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.spec("PRJ-1")
def test_ci_runs_the_readme_check_command() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)\n```", readme, re.DOTALL)
    check = [b for b in blocks if "pytest" in b]
    assert len(check) == 1, "the README has exactly one check command"
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert check[0].strip() in [line.strip() for line in ci_lines]
    for tool in ("ruff check", "ruff format --check", "mypy", "pytest"):
        assert tool in check[0]


@pytest.mark.spec("PRJ-2")
def test_tvm_names_are_exposed() -> None:
    import minitvm as tvm
    from minitvm import relay

    for name in ("IRModule", "nd", "cpu", "device", "transform", "ir", "tir", "error"):
        assert hasattr(tvm, name), name
    for name in ("var", "const", "Function", "Call", "Let", "If", "Tuple", "TupleGetItem"):
        assert hasattr(relay, name), name
    assert tvm.nd.array([1, 2]).numpy().tolist() == [1, 2]
    assert tvm.transform.PassContext.current().opt_level == 2


@pytest.mark.spec("PRJ-3", "ZOO-9")
def test_demo_runs_and_checks_every_pass(capsys: pytest.CaptureFixture[str]) -> None:
    from minitvm.cli import main

    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    titles = (
        "conv2d + bias_add + relu",
        "shared sub-expressions",
        "unused function",
        "small CNN",
        "transformer block",
    )
    for title in titles:
        assert title in out
    for name in ("InferType", "ToANormalForm", "DeadCodeElimination", "RemoveUnusedFunctions"):
        assert f"--- after {name}" in out
    assert "RESULTS DIFFER" not in out
    assert out.count("same results") == 15
    networks = out.split("small CNN")[1]
    for op in ("nn.conv2d", "nn.batch_norm", "nn.max_pool2d", "nn.dense", "nn.softmax"):
        assert op in networks.split("transformer block")[0]
    for op in ("nn.layer_norm", "nn.batch_matmul", "nn.matmul", "erf("):
        assert op in networks.split("transformer block")[1]
    module_demo = out.split("module with an unused function")[1].split("small CNN")[0]
    before, after = module_demo.split("--- after RemoveUnusedFunctions")
    assert "def @unused" in before
    assert "def @unused" not in after


@pytest.mark.spec("PRJ-4")
def test_tests_run_under_the_well_formedness_instrument() -> None:
    from minitvm.ir.transform import PassContext
    from minitvm.relay.transform import WellFormedInstrument

    assert any(isinstance(i, WellFormedInstrument) for i in PassContext.current().instruments)


@pytest.mark.spec("PRJ-5")
def test_hypothesis_profiles() -> None:
    from hypothesis import settings

    ci, deep, explore = (settings.get_profile(n) for n in ("ci", "deep", "explore"))
    assert (ci.derandomize, ci.max_examples) == (True, 40)
    assert (deep.derandomize, deep.max_examples) == (False, 2000)
    assert (explore.derandomize, explore.max_examples) == (False, 40)
    assert ci.deadline is None
    assert deep.deadline is None
    assert explore.deadline is None


@pytest.mark.spec("CUDA-7")
def test_the_check_command_installs_the_ptx_toolkit() -> None:
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert any(dep.startswith("numba-cuda[cu12]") for dep in extras["ptx"])
    assert "ptx" in extras["dev"][0]
    readme = (ROOT / "README.md").read_text()
    assert "'.[dev]'" in readme  # the check command installs dev, so the PTX tier runs
