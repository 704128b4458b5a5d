"""The GitHub Action (action.yml): its `run:` steps, read from action.yml with a YAML parser
and run here as a runner would (no runner is available), on a git repository whose pull
request adds findings to a header that already had some."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[1]
try:
    import yaml
except ImportError:  # (a test dependency: pyproject.toml's `test` extra)
    yaml = None

BASE = """#include <stdint.h>
struct kept { uint32_t a; uint64_t b; };
struct removed { uint8_t c; uint32_t d; };
"""
PR = """#include <stdint.h>
/* the pull request: a comment block moves every line,
 * struct removed goes, struct added comes */
struct kept { uint32_t a; uint64_t b; };
struct added { uint16_t e; uint64_t f; };
"""
NEW_HEADER = "#include <stdint.h>\nstruct fresh { uint8_t g; uint32_t h; };\n"


def action() -> dict[str, Any]:
    if yaml is None:
        skip_or_fail("PyYAML missing: it reads action.yml (pip install abiscope[test])")
    doc: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
    return doc


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})


def expand(value: str, inputs: dict[str, str], steps: dict[str, dict[str, str]]) -> str:
    """The `${{ ... }}` expressions action.yml uses: inputs, step outputs, the github
    context's base_ref (the pull request's target branch: main here)."""

    def one(m: re.Match[str]) -> str:
        expr = m.group(1).strip()
        if expr == "inputs.upload-sarif == 'true'":
            return str(inputs["upload-sarif"] == "true").lower()
        if expr.startswith("inputs."):
            return expand(inputs[expr[len("inputs."):]], inputs, steps)
        if expr == "github.base_ref":
            return "main"
        got = re.fullmatch(r"steps\.(\w+)\.outputs\.([\w-]+)", expr)
        if got:
            return steps[got.group(1)][got.group(2)]
        raise AssertionError(f"an expression the test does not know: {expr}")

    return re.sub(r"\$\{\{(.*?)\}\}", one, value)


def run_action(repo: Path, tmp: Path, given: dict[str, str]) -> dict[str, Any]:
    """Every step of action.yml in order: `run:` steps executed with bash as the runner
    would (env from the step, GITHUB_ACTION_PATH this checkout), `uses:` steps recorded."""
    spec = action()
    inputs = {k: str(v.get("default", "")) for k, v in spec["inputs"].items()}
    inputs.update(given)
    runner = tmp / "runner"
    runner.mkdir(exist_ok=True)
    fake_bin = tmp / "bin"
    fake_bin.mkdir(exist_ok=True)
    pip_log = tmp / "pip.log"
    # no PyPI here: the install step's pip is recorded, not run (python -m pip -> log)
    (fake_bin / "python").write_text(
        "#!/bin/sh\nif [ \"$1 $2\" = \"-m pip\" ]; then echo \"$@\" >> " + str(pip_log)
        + "; exit 0; fi\nexec " + sys.executable + " \"$@\"\n")
    (fake_bin / "python").chmod(0o755)
    out: dict[str, Any] = {"uses": [], "codes": {}, "stdout": {}}
    steps: dict[str, dict[str, str]] = {}
    for i, step in enumerate(spec["runs"]["steps"]):
        if "uses" in step:
            out["uses"].append((step["uses"], {k: expand(str(v), inputs, steps)
                                               for k, v in step.get("with", {}).items()},
                                expand(str(step.get("if", "true")), inputs, steps)))
            continue
        assert step["shell"] == "bash"
        gh_output = tmp / f"output-{i}"
        gh_output.write_text("")
        env = {**os.environ, "GITHUB_ACTION_PATH": str(ROOT), "RUNNER_TEMP": str(runner),
               "GITHUB_OUTPUT": str(gh_output), "PATH": f"{fake_bin}:{os.environ['PATH']}",
               "PYTHONPATH": str(ROOT / "src"),
               **{k: expand(str(v), inputs, steps) for k, v in step.get("env", {}).items()}}
        r = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=repo, env=env,
                           capture_output=True, text=True, timeout=600)
        name = step.get("id") or step["name"]
        out["codes"][name] = r.returncode
        out["stdout"][name] = r.stdout + r.stderr
        steps[name] = dict(line.split("=", 1) for line in gh_output.read_text().splitlines()
                           if "=" in line)
    out["pip"] = pip_log.read_text() if pip_log.exists() else ""
    return out


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        skip_or_fail("git missing")
    repo = tmp_path / "repo"
    (repo / "include").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "include" / "abi.h").write_text(BASE)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    git(repo, "checkout", "-qb", "pr")
    (repo / "include" / "abi.h").write_text(PR)
    (repo / "include" / "fresh.h").write_text(NEW_HEADER)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "pr")
    return repo


def test_action_steps_fail_only_on_new_findings(repo: Path, tmp_path: Path) -> None:
    got = run_action(repo, tmp_path, {
        "headers": "include/abi.h\ninclude/fresh.h\n",  # (a YAML block: one a line)
        "args": "--target i386,x86_64"})
    codes, logs = got["codes"], got["stdout"]
    assert codes["install abiscope"] == 0
    assert f"-m pip install {ROOT}" in got["pip"]
    assert codes["abiscope baseline (the target branch)"] == 0, logs
    assert codes["sarif"] == 0, logs["sarif"]
    annotate = "abiscope check (annotations of new findings, the job's status)"
    assert codes[annotate] == 1, logs[annotate]  # new warnings
    # the SARIF: kept's findings unchanged, added's and fresh.h's new, removed's absent
    doc = json.loads((repo / "abiscope.sarif").read_text())
    by_state: dict[str, set[str]] = {}
    for res in doc["runs"][0]["results"]:
        by_state.setdefault(res["baselineState"], set()).add(res["properties"]["record"])
    assert by_state == {"unchanged": {"struct kept"}, "new": {"struct added", "struct fresh"},
                        "absent": {"struct removed"}}
    # the copy uploaded to code scanning has no absent result
    uses = {u: (w, cond) for u, w, cond in got["uses"]}
    assert "actions/setup-python@v5" in uses
    upload, cond = uses["github/codeql-action/upload-sarif@v3"]
    assert cond == "true"
    uploaded = json.loads(Path(upload["sarif_file"]).read_text())
    assert {r["baselineState"] for r in uploaded["runs"][0]["results"]} == {"new", "unchanged"}
    # the annotations: the new findings only, and the count of the others
    lines = logs[annotate].splitlines()
    records = {line.split("::")[-1].split(":")[0] for line in lines if line.startswith("::w")}
    assert records == {"struct added", "struct fresh"}
    assert any("unchanged (not shown" in line for line in lines)
    assert not (tmp_path / "runner" / "abiscope-base").exists()  # worktree removed


def test_action_without_new_findings_passes(repo: Path, tmp_path: Path) -> None:
    """The pull request's header has only the base's findings (moved lines): exit 0, though
    they are warnings; and with no baseline ref every finding counts."""
    (repo / "include" / "abi.h").write_text("\n\n" + BASE)
    git(repo, "commit", "-qam", "only moved")
    got = run_action(repo, tmp_path, {"headers": "include/abi.h",
                                      "args": "--target i386,x86_64"})
    annotate = "abiscope check (annotations of new findings, the job's status)"
    assert got["codes"][annotate] == 0, got["stdout"]
    alone = run_action(repo, tmp_path, {"headers": "include/abi.h",
                                        "args": "--target i386,x86_64", "baseline-ref": ""})
    assert alone["codes"][annotate] == 1
    assert "every finding counts" in alone["stdout"]["abiscope baseline (the target branch)"]


def test_action_on_a_header_the_pull_request_adds(repo: Path, tmp_path: Path) -> None:
    """No header exists on the base: an empty baseline, every finding new."""
    got = run_action(repo, tmp_path, {"headers": "include/fresh.h",
                                      "args": "--target i386,x86_64"})
    baseline_step = "abiscope baseline (the target branch)"
    assert got["codes"][baseline_step] == 0
    assert "none of the headers exists on main" in got["stdout"][baseline_step]
    doc = json.loads((repo / "abiscope.sarif").read_text())
    assert {r["baselineState"] for r in doc["runs"][0]["results"]} == {"new"}
    assert got["codes"]["abiscope check (annotations of new findings, the job's status)"] == 1
