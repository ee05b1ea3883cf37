"""Targeted mutation check: break a critical line on purpose and see that a test fails.

Each mutant is a file, exact snippets of it with their replacements (a snippet must occur
exactly once), and the test node ids that should kill it. The repository (tracked files and
untracked ones git does not ignore) is copied once into a temporary folder; each mutant is
applied there, its tests run with pytest, and the file is put back. The working tree is never
touched. A mutant is "killed" when pytest reports failing tests (exit 1), "survived" when they
pass, "not applied" when a snippet is no longer in the file (the code moved: update the
snippet), "error" for any other exit (collection error, timeout).

Prints one JSON object: every mutant with its result and seconds, and the counts.

    STUDIO_WEIGHTS_DIR=/path/to/weights python scripts/mutations.py [--only NAME ...] [--baseline]

``--baseline`` first runs all listed tests on the unchanged copy (they must pass, else a
"killed" would mean nothing); ``--only`` picks mutants by name.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TEST_TIMEOUT_S = 900
HOSTILE = "tests/core/test_hostile_inputs.py"
RESUME = "tests/core/train/test_resume.py"
PREDICTOR = "tests/core/predict/test_predictor.py"
MEMORY = "tests/core/train/test_memory.py"


@dataclass(frozen=True)
class Mutant:
    """One deliberate bug: ``edits`` are (exact original snippet, replacement) pairs."""

    name: str
    file: str
    edits: tuple[tuple[str, str], ...]
    tests: tuple[str, ...]


MUTANTS = (
    Mutant(
        "resume: the last checkpoint's weights are never loaded",
        "core/train/resume.py",
        (("        target.load_weights(weights)\n", "        pass\n"),),
        (f"{RESUME}::test_resume_loads_the_last_checkpoint_and_keeps_the_best_so_far",),
    ),
    Mutant(
        "resume: the best weights so far are not restored",
        "core/train/resume.py",
        (("            target.load_weights(best)\n", ""),),
        (f"{RESUME}::test_resume_loads_the_last_checkpoint_and_keeps_the_best_so_far",),
    ),
    Mutant(
        "resume: a damaged checkpoint is not explained",
        "core/train/resume.py",
        (("except (OSError, ValueError) as error:", "except KeyError as error:"),),
        (RESUME + "::test_a_damaged_checkpoint_fails_the_resume_with_a_plain_sentence",),
    ),
    Mutant(
        "zip: the archive-wide check runs after extraction",
        "core/data/zipsafe.py",
        (
            ("    _check_archive(files, limits)\n", ""),
            ("    return skipped\n\n\n", "    _check_archive(files, limits)\n    return skipped\n"),
        ),
        (
            f"{HOSTILE}::test_zip_of_1900_entries_of_a_million_zeros_is_refused_before_writing",
            f"{HOSTILE}::test_zip_over_the_total_size_is_refused_naming_the_limit",
        ),
    ),
    Mutant(
        "zip: no archive-wide compression ratio check",
        "core/data/zipsafe.py",
        (("if total > limits.ratio_floor_bytes and ratio > limits.max_ratio:", "if False:"),),
        (f"{HOSTILE}::test_zip_of_1900_entries_of_a_million_zeros_is_refused_before_writing",),
    ),
    Mutant(
        "zip: '..' entries are not refused",
        "core/data/zipsafe.py",
        (('    if ".." in parts:\n', "    if False:\n"),),
        (
            "tests/core/data/test_zipsafe_properties.py::"
            "test_an_entry_with_dot_dot_or_an_absolute_path_always_refuses_the_archive",
        ),
    ),
    Mutant(
        "tokens: an owner token's signature is not checked",
        "core/store/tokens.py",
        (("    return hmac.compare_digest(mac, _mac(settings, random_part))", "    return True"),),
        ("tests/core/store/test_tokens.py::test_signed_tokens_verify_only_with_this_servers_key",),
    ),
    Mutant(
        "access: a read-only store deletes runs",
        "core/store/access.py",
        (('        raise _refusal("deleting a run")', "        super().delete(run_id)"),),
        (
            "tests/core/store/test_access.py::"
            "test_a_viewer_lists_loads_and_reads_but_every_write_is_refused",
        ),
    ),
    Mutant(
        "disk cap: a queued run is removed",
        "core/store/trim.py",
        (("store.delete(run_id)  # refuses a queued", "shutil.rmtree(store.path(run_id))  #"),),
        ("tests/core/store/test_trim.py::test_a_queued_run_is_never_removed_by_the_disk_cap",),
    ),
    Mutant(
        "disk cap: new work is never refused",
        "core/store/disk.py",
        (("if trim.total_bytes + max(needed_bytes, 0) > trim.cap_bytes:", "if False:"),),
        (f"{HOSTILE}::test_disk_cap_of_1_mb_keeps_other_workspaces_and_the_just_finished_run",),
    ),
    Mutant(
        "parity: a differing export is not reported",
        "core/export/parity.py",
        (("        if diff > FLOAT_PARITY_GOAL\n", "        if diff > 1.0\n"),),
        ("tests/core/export/test_parity_warning.py::test_an_export_that_differs_is_reported_as_a_warning",),
    ),
    Mutant(
        "parity: the CLI exits 0 on a parity failure",
        "core/cli/evaluate.py",
        (('    return 1 if any("differs" in w', '    return 0 if any("differs" in w'),),
        ("tests/core/export/test_parity_warning.py::test_the_cli_exits_1_on_a_parity_failure",),
    ),
    Mutant(
        "Grad-CAM: the class to explain is ignored (the top class is explained)",
        "core/evaluate/gradcam.py",
        (
            (
                "    plan = _cached_plan(model)\n",
                "    plan = _cached_plan(model)\n    class_index = int(np.argmax("
                "np.asarray(model(np.asarray(image, np.float32)[None], training=False))[0]))\n",
            ),
        ),
        ("tests/core/evaluate/test_gradcam_peak.py::test_the_class_to_explain_decides_the_map",),
    ),
    Mutant(
        "calibration: the temperature is not applied to predictions",
        "core/predict/predictor.py",
        (("apply_temperature(raw, self.temperature)", "(raw)"),),
        (f"{PREDICTOR}::test_calibration_and_class_thresholds_decide_the_not_sure_verdict",),
    ),
    Mutant(
        "calibration: a class's own threshold is ignored",
        "core/predict/predictor.py",
        (("max(threshold, float(", "max(threshold, 0 * float("),),
        (f"{PREDICTOR}::test_calibration_and_class_thresholds_decide_the_not_sure_verdict",),
    ),
    Mutant(
        "calibration: a class threshold counts for every answer",
        "core/predict/predictor.py",
        (
            (
                "float(self.class_thresholds.get(class_name, 0.0))",
                "max(self.class_thresholds.values(), default=0.0)",
            ),
        ),
        (f"{PREDICTOR}::test_calibration_and_class_thresholds_decide_the_not_sure_verdict",),
    ),
    Mutant(
        "memory guard: a run that cannot fit is not refused",
        "core/train/memory.py",
        (("raise _does_not_fit_error(estimate, left, budget_mb, source)\n", "break\n"),),
        (f"{MEMORY}::test_run_that_cannot_fit_is_refused_with_the_reason",),
    ),
    Mutant(
        "memory guard: the batch size is never lowered",
        "core/train/memory.py",
        (("        if estimate.total_mb <= left:\n", "        if True:\n"),),
        (
            f"{MEMORY}::test_batch_size_is_lowered_with_an_explanation",
            f"{MEMORY}::test_run_that_cannot_fit_is_refused_with_the_reason",
        ),
    ),
)  # fmt: skip


def copy_repository(target: Path) -> None:
    """Copies the files git knows or would add (no runs/, caches or virtual environments)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = REPO_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def run_tests(root: Path, tests: tuple[str, ...]) -> tuple[int, float, str]:
    """Runs ``tests`` in ``root``: (pytest exit code or -1 on timeout, seconds, last lines)."""
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-n", "0"]
    command += ["--durations=0", "-o", "addopts=", "--timeout", str(TEST_TIMEOUT_S), *tests]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    start = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=root, env=env, capture_output=True, text=True, timeout=2 * TEST_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        return -1, time.monotonic() - start, "timed out"
    tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-3:])
    return done.returncode, time.monotonic() - start, tail


def try_mutant(root: Path, mutant: Mutant) -> dict[str, object]:
    """Applies ``mutant`` in the copy at ``root``, runs its tests, restores the file."""
    path = root / mutant.file
    original = path.read_text(encoding="utf-8")
    text = original
    for snippet, replacement in mutant.edits:
        if text.count(snippet) != 1:
            return {"name": mutant.name, "result": "not applied", "missing": snippet.strip()}
        text = text.replace(snippet, replacement)
    path.write_text(text, encoding="utf-8")
    try:
        code, seconds, tail = run_tests(root, mutant.tests)
    finally:
        path.write_text(original, encoding="utf-8")
    result = {0: "survived", 1: "killed"}.get(code, "error")
    row: dict[str, object] = {"name": mutant.name, "result": result, "seconds": round(seconds)}
    row["tests"] = list(mutant.tests)
    if result != "killed":
        row["output"] = tail
    return row


def main(argv: list[str] | None = None) -> int:
    """Runs the chosen mutants; exit 1 when one survived or could not be applied."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="mutant names (substring match)")
    parser.add_argument("--baseline", action="store_true", help="run the tests unmutated first")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.only or any(o in m.name for o in args.only)]
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="mutations-") as folder:
        root = Path(folder)
        copy_repository(root)
        if args.baseline:
            tests = tuple(dict.fromkeys(test for m in chosen for test in m.tests))
            code, seconds, tail = run_tests(root, tests)
            report["baseline"] = {"passed": code == 0, "seconds": round(seconds), "output": tail}
        rows = [try_mutant(root, mutant) for mutant in chosen]
    report["mutants"] = rows
    for result in ("killed", "survived", "not applied", "error"):
        report[result] = sum(row["result"] == result for row in rows)
    print(json.dumps(report, indent=2))
    return 0 if report["killed"] == len(rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
