"""`planlod validate`: exit codes, the readable report, and one-line errors for bad input.

Most cases call the command's `main` in-process (the same code the console script runs); the exit-code
and no-traceback cases also run the real `planlod` console script as a child process.
"""

import shutil
import subprocess
import sys

import pytest
from planlod.cli import main
from shape_cases import INVALID, PROJECT, invalid_fixture, valid_fixture

PLANLOD = shutil.which("planlod")


def run(*args: str) -> subprocess.CompletedProcess:
    command = [PLANLOD] if PLANLOD else [sys.executable, "-m", "planlod.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=300, cwd=PROJECT)


def report_blocks(stdout: str) -> list[dict[str, str]]:
    """The report's result blocks as dicts: {"severity", "shape", "focus", "path", "ja", "en", ...}."""
    blocks = []
    for chunk in stdout.split("\n\n")[1:]:
        lines = chunk.strip().splitlines()
        severity, shape = lines[0].split(": ", 1)
        block = {"severity": severity, "shape": shape}
        for line in lines[1:]:
            key, value = line.strip().split(":", 1)
            block[key] = value.strip()
        blocks.append(block)
    return blocks


def test_the_project_data_validates_by_default():
    completed = run("validate")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.startswith("Conforms")
    assert completed.stderr == ""


def test_the_plan_file_validates(capsys):
    assert main(["validate", str(PROJECT / "data" / "plan.ttl")]) == 0
    assert capsys.readouterr().out.startswith("Conforms")


@pytest.mark.parametrize("name", sorted(INVALID))
def test_each_invalid_fixture_fails_naming_its_shape(capsys, name):
    assert main(["validate", str(invalid_fixture(name))]) == 1
    out = capsys.readouterr().out
    assert out.startswith("Does not conform")
    blocks = report_blocks(out)
    assert {block["shape"] for block in blocks} == {f"plansh:{shape}" for shape in INVALID[name]}
    for block in blocks:
        assert block["severity"] == "Violation"
        assert block["focus"] and block["ja"] and block["en"]
        assert str(invalid_fixture(name)) in block["focus"]  # the file that describes the focus node


def test_a_warning_does_not_fail(capsys):
    assert main(["validate", str(valid_fixture("edition-without-licence"))]) == 0
    blocks = report_blocks(capsys.readouterr().out)
    assert [(b["severity"], b["shape"], b["path"]) for b in blocks] == [
        ("Warning", "plansh:PlanEditionShape-license", "dcterms:license")]


def test_files_and_directories_are_validated_together(capsys, tmp_path):
    shutil.copy(valid_fixture("minimal-plan"), tmp_path / "a.ttl")
    shutil.copy(invalid_fixture("narrower-missing").parent.parent / "valid" / "partial-edition.ttl",
                tmp_path / "b.ttl")
    assert main(["validate", str(tmp_path)]) == 0
    assert main(["validate", str(tmp_path), str(invalid_fixture("page-zero"))]) == 1
    assert {b["shape"] for b in report_blocks(capsys.readouterr().out)} == {"plansh:PageShape-page"}


def one_line_error(completed: subprocess.CompletedProcess) -> str:
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert completed.stdout == ""
    assert "Traceback" not in completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    return lines[0]


def test_a_missing_file_is_one_line(tmp_path):
    line = one_line_error(run("validate", str(tmp_path / "nowhere.ttl")))
    assert "nowhere.ttl" in line and "No such file" in line


def test_a_turtle_syntax_error_is_one_line(tmp_path):
    broken = tmp_path / "broken.ttl"
    broken.write_text("@prefix plan: <https://w3id.org/planlod/ontology#> .\n<a> plan:order \n",
                      encoding="utf-8")
    line = one_line_error(run("validate", str(broken)))
    assert "broken.ttl" in line and "Turtle syntax error" in line


def test_a_file_that_names_no_edition_is_one_line(tmp_path):
    lonely = tmp_path / "lonely.ttl"
    lonely.write_text('<https://w3id.org/planlod/id/x> <http://www.w3.org/2000/01/rdf-schema#label> "x" .\n',
                      encoding="utf-8")
    line = one_line_error(run("validate", str(lonely)))
    assert "lonely.ttl" in line and "plan:PlanEdition" in line


@pytest.mark.parametrize("args", [["validate", "--bogus"], ["validate", "--base"], ["valdate"]],
                         ids=["unknown-option", "missing-value", "unknown-command"])
def test_bad_usage_is_one_line(args):
    line = one_line_error(run(*args))
    assert line.startswith("planlod") and ": error: " in line and line.endswith("--help)")
