"""`gitops-action update` end to end: the real console script on copies of golden trees.

Each tests/golden/update/<case>/ holds `input/` (the tree before), `expected/`
(the tree after, byte for byte) and `args.txt` (one `--set` value a line).
Files whose expected bytes equal their input bytes must not be rewritten at
all: the test back-dates every file and checks mtime and inode afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "update"
CASES = sorted(path.name for path in GOLDEN.iterdir() if (path / "args.txt").is_file())
CLI = Path(sys.executable).with_name("gitops-action")
OLD_NS = 1_000_000_000 * 1_000_000_000  # 2001-09-09: any rewrite moves mtime off it


def _tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def _stamps(root: Path) -> dict[str, tuple[int, int]]:
    return {
        file: ((root / file).stat().st_mtime_ns, (root / file).stat().st_ino)
        for file in _tree(root)
    }


def _backdate(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(OLD_NS, OLD_NS))


def _copy_case(case: str, tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(GOLDEN / case / "input", tree)
    _backdate(tree)
    return tree


def _sets(case: str) -> list[str]:
    lines = (GOLDEN / case / "args.txt").read_text().splitlines()
    return [arg for line in lines if line.strip() for arg in ("--set", line.strip())]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), "update", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def test_the_cli_is_installed_next_to_the_interpreter() -> None:
    assert CLI.is_file(), f"{CLI} missing: is the package installed in this venv?"


def test_every_case_has_input_and_expected_trees() -> None:
    assert len(CASES) >= 11
    for case in CASES:
        assert _tree(GOLDEN / case / "input"), case
        assert set(_tree(GOLDEN / case / "input")) == set(_tree(GOLDEN / case / "expected")), case
        assert _tree(GOLDEN / case / "input") != _tree(GOLDEN / case / "expected"), case


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, tmp_path: Path) -> None:
    tree = _copy_case(case, tmp_path)
    before_stamps = _stamps(tree)
    before = _tree(tree)
    expected = _tree(GOLDEN / case / "expected")

    done = run(tree, *_sets(case))

    assert done.returncode == 0, done.stderr
    after = _tree(tree)
    for file, data in expected.items():
        assert after[file] == data, f"{case}/{file} differs from expected"
    assert set(after) == set(expected), "no file may be added or removed (temp files included)"
    changed = sorted(file for file in expected if expected[file] != before[file])
    assert done.stdout.splitlines() == changed
    assert len(done.stderr.splitlines()) == 1, done.stderr
    after_stamps = _stamps(tree)
    for file in set(expected) - set(changed):
        assert after_stamps[file] == before_stamps[file], f"{case}/{file} was rewritten"


@pytest.mark.parametrize("case", CASES)
def test_second_run_changes_nothing(case: str, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(GOLDEN / case / "expected", tree)
    _backdate(tree)
    before = _stamps(tree)

    done = run(tree, *_sets(case))

    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "nothing to change" in done.stderr
    assert _stamps(tree) == before


def test_dry_run_prints_a_diff_that_git_applies_and_writes_nothing(tmp_path: Path) -> None:
    tree = _copy_case("crlf", tmp_path)
    shutil.copytree(GOLDEN / "tag-name-pair" / "input", tree, dirs_exist_ok=True)
    _backdate(tree)
    sets = [*_sets("crlf"), *_sets("tag-name-pair")]
    before, stamps = _tree(tree), _stamps(tree)

    done = subprocess.run(
        [str(CLI), "update", str(tree), *sets, "--dry-run"], capture_output=True, check=False
    )  # bytes: text mode would turn the CRLF file's diff lines into LF

    assert done.returncode == 0, done.stderr
    assert _tree(tree) == before
    assert _stamps(tree) == stamps
    assert b"would update 5 markers in 2 files" in done.stderr
    diff = done.stdout.decode("utf-8")
    assert '+        image: chripp/app:v1.1.0 # {"$imagepolicy": "flux-system:app"}\r\n' in diff
    assert diff.startswith("--- a/apps/podinfo/release.yaml\n+++ b/apps/podinfo/release.yaml\n")
    assert "--- a/deployment.yaml\n+++ b/deployment.yaml\n" in diff
    assert (
        '-      repository: stefanprodan/podinfo # {"$imagepolicy": "apps:podinfo:name"}\n'
        '-      tag: 6.5.0 # {"$imagepolicy": "apps:podinfo:tag"}\n'
        '+      repository: ghcr.io/stefanprodan/podinfo # {"$imagepolicy": "apps:podinfo:name"}\n'
        '+      tag: 6.7.1 # {"$imagepolicy": "apps:podinfo:tag"}\n'
    ) in diff
    # The diff is exactly what the real update would do: git applies it to the
    # copy and the result is the expected trees (CRLF lines included).
    patch = tmp_path / "update.patch"
    patch.write_bytes(done.stdout)
    subprocess.run(["git", "apply", "--whitespace=nowarn", str(patch)], cwd=tree, check=True)
    expected = {
        **_tree(GOLDEN / "crlf" / "expected"),
        **_tree(GOLDEN / "tag-name-pair" / "expected"),
    }
    assert _tree(tree) == expected


def test_dry_run_with_nothing_to_change_prints_no_diff(tmp_path: Path) -> None:
    tree = _copy_case("flux-tutorial", tmp_path)
    done = run(tree, "--set", "flux-system:app=chripp/app:v1.0.0", "--dry-run")
    assert (done.returncode, done.stdout) == (0, "")
    assert "nothing to change (1 marked file scanned)" in done.stderr


def test_json_output_is_the_change_list(tmp_path: Path) -> None:
    tree = _copy_case("tag-name-pair", tmp_path)

    done = run(tree, *_sets("tag-name-pair"), "--output", "json")

    assert done.returncode == 0, done.stderr
    changes = json.loads(done.stdout)
    assert [(c["line"], c["field"], c["old"], c["new"]) for c in changes] == [
        (17, "name", "stefanprodan/podinfo", "ghcr.io/stefanprodan/podinfo"),
        (18, "tag", "6.5.0", "6.7.1"),
        (23, "tag", "7.2.4", "7.4.2"),
    ]
    first = changes[0]
    assert first["file"] == "apps/podinfo/release.yaml"
    assert first["policy"] == "apps:podinfo"
    assert first["image"] == "ghcr.io/stefanprodan/podinfo:6.7.1"
    assert first["object"] == {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "namespace": "apps",
        "name": "podinfo",
    }
    assert _tree(tree) == _tree(GOLDEN / "tag-name-pair" / "expected")


def test_json_dry_run_lists_changes_and_writes_nothing(tmp_path: Path) -> None:
    tree = _copy_case("flux-tutorial", tmp_path)
    before = _tree(tree)
    done = run(tree, *_sets("flux-tutorial"), "--output", "json", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert [change["new"] for change in json.loads(done.stdout)] == ["chripp/app:v1.1.0"]
    assert _tree(tree) == before


def test_json_output_with_nothing_to_change_is_an_empty_list(tmp_path: Path) -> None:
    tree = _copy_case("flux-tutorial", tmp_path)
    done = run(tree, "--set", "other:policy=chripp/app:v9.0.0", "--output", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def _assert_refused(
    tree: Path, before: dict[str, bytes], done: subprocess.CompletedProcess[str]
) -> str:
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert _tree(tree) == before
    return lines[0]


def test_strict_invalid_yaml_anywhere_changes_no_file(tmp_path: Path) -> None:
    tree = _copy_case("flux-tutorial", tmp_path)
    (tree / "zz-broken").mkdir()
    (tree / "zz-broken" / "app.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n"
        '    - image: chripp/app:v1.0.0 # {"$imagepolicy": "flux-system:app"}\n'
        "      name: app: broken\n"
        "      ports: []\n"
    )
    _backdate(tree)
    before, stamps = _tree(tree), _stamps(tree)

    message = _assert_refused(tree, before, run(tree, *_sets("flux-tutorial"), "--strict"))

    assert message.startswith("gitops-action: error: zz-broken/app.yaml:6: invalid YAML")
    assert _stamps(tree) == stamps


def test_strict_malformed_marker_json_changes_no_file(tmp_path: Path) -> None:
    tree = _copy_case("flux-tutorial", tmp_path)
    (tree / "aa-first.yaml").write_text(
        "kind: Pod\nspec:\n  containers:\n"
        "    - name: app\n"
        '      image: chripp/app:v1.0.0 # {"$imagepolicy": "flux-system:app"\n'
    )
    before = _tree(tree)

    message = _assert_refused(tree, before, run(tree, *_sets("flux-tutorial"), "--strict"))

    assert message.startswith("gitops-action: error: aa-first.yaml:5: marker is not valid JSON")


@pytest.mark.parametrize(
    ("marker", "reason"),
    [
        ('{"$imagepolicy": "app"}', "namespace is required"),
        ('{"$imagepolicy": "flux-system:app:size"}', "is not ns:name[:tag|:name|:digest]"),
        ('{"$imagepolicy": 7}', 'no string "$imagepolicy" value'),
        ('["$imagepolicy"]', "not a JSON object"),
    ],
)
def test_strict_malformed_markers_are_refused_with_file_and_line(
    tmp_path: Path, marker: str, reason: str
) -> None:
    tree = _copy_case("flux-tutorial", tmp_path)
    (tree / "cluster" / "bad.yaml").write_text(f"a: 1\nimage: x:v1 # {marker}\n")
    before = _tree(tree)

    message = _assert_refused(tree, before, run(tree, *_sets("flux-tutorial"), "--strict"))

    assert message.startswith("gitops-action: error: cluster/bad.yaml:2: ")
    assert reason in message


@pytest.mark.parametrize(
    ("marker", "reason"),
    [
        ('{"$imagepolicy": "app"}', "namespace is required"),
        ('{"$imagepolicy": "see the policy"', "not valid JSON"),
        ('{"$imagepolicy": 7}', 'no string "$imagepolicy" value'),
    ],
)
def test_comments_that_are_not_markers_are_warned_and_the_rest_updated(
    tmp_path: Path, marker: str, reason: str
) -> None:
    """As Flux: a comment that is not setter JSON, or has no namespace, is not a marker."""
    tree = _copy_case("flux-tutorial", tmp_path)
    (tree / "cluster" / "bad.yaml").write_text(f"a: 1\nimage: x:v1 # {marker}\n")
    prose = tree / "cluster" / "prose.yaml"
    prose.write_text("# The $imagepolicy marker below is set by the robot.\nimage: x:v1\n")
    expected = {**_tree(tree), **_tree(GOLDEN / "flux-tutorial" / "expected")}

    done = run(tree, *_sets("flux-tutorial"))

    assert done.returncode == 0, done.stderr
    assert _tree(tree) == expected
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, done.stderr
    assert warnings[0].startswith("update: warning: cluster/bad.yaml:2: ")
    assert reason in warnings[0] and warnings[0].endswith("(not a marker: skipped)")


def test_a_marked_file_that_is_not_yaml_is_skipped_and_named_the_rest_written(
    tmp_path: Path,
) -> None:
    """As Flux: the broken file is left out, the others are updated; exit 1 says so."""
    tree = _copy_case("flux-tutorial", tmp_path)
    broken = tree / "zz-broken" / "app.yaml"
    broken.parent.mkdir()
    broken.write_text(
        'kind: Pod\nspec:\n  image: chripp/app:v1.0.0 # {"$imagepolicy": "flux-system:app"}\n'
        "  name: app: broken\n"
    )
    expected = {**_tree(tree), **_tree(GOLDEN / "flux-tutorial" / "expected")}

    done = run(tree, *_sets("flux-tutorial"))

    assert done.returncode == 1, done.stderr
    assert _tree(tree) == expected  # the good file written, the broken one untouched
    assert done.stdout.splitlines() == sorted(
        file
        for file in expected
        if expected[file] != _tree(GOLDEN / "flux-tutorial" / "input").get(file, expected[file])
    )
    skipped = [line for line in done.stderr.splitlines() if line.startswith("update: skipped: ")]
    assert skipped == [line for line in skipped if "zz-broken/app.yaml:4: invalid YAML" in line]
    assert len(skipped) == 1, done.stderr
    assert done.stderr.splitlines()[-1] == (
        "gitops-action: error: 1 marked file skipped (not valid YAML); the other files were updated"
    )


def test_strict_a_marked_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    tree = _copy_case("flux-tutorial", tmp_path)
    (tree / "latin1.yaml").write_bytes(
        b'# caf\xe9\nimage: chripp/app:v1.0.0 # {"$imagepolicy": "flux-system:app"}\n'
    )
    before = _tree(tree)

    message = _assert_refused(tree, before, run(tree, *_sets("flux-tutorial"), "--strict"))

    assert message.startswith("gitops-action: error: latin1.yaml:1: not UTF-8")


@pytest.mark.parametrize(
    "value",
    [
        "flux-system:app=chripp/app",  # no tag
        "flux-system:app=127.0.0.1:5000/app",  # the port is not a tag
        "app=chripp/app:v1",  # no namespace
        "flux-system:app",  # no image
        "flux-system:app=chripp/App:v1",  # not an image name
        "flux-system:app=chripp/app:",  # empty tag
    ],
)
def test_a_bad_set_is_a_usage_error(tmp_path: Path, value: str) -> None:
    tree = _copy_case("flux-tutorial", tmp_path)
    before = _tree(tree)
    message = _assert_refused(tree, before, run(tree, "--set", value))
    assert repr(value) in message


def test_the_same_policy_set_to_two_images_is_a_usage_error(tmp_path: Path) -> None:
    tree = _copy_case("flux-tutorial", tmp_path)
    before = _tree(tree)
    done = run(
        tree, "--set", "flux-system:app=chripp/app:v1.1.0", "--set", "flux-system:app=chripp/app:v2"
    )
    assert "given twice" in _assert_refused(tree, before, done)


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run(tmp_path).returncode == 2  # --set is required
    assert run(tmp_path / "missing", "--set", "a:b=c:d").returncode == 2
    assert run(tmp_path, "--set", "a:b=c:d", "--output", "xml").returncode == 2


def test_file_modes_are_kept(tmp_path: Path) -> None:
    tree = _copy_case("multi-document", tmp_path)
    target = tree / "stack.yml"
    target.chmod(0o640)

    done = run(tree, *_sets("multi-document"))

    assert done.returncode == 0, done.stderr
    assert (
        target.read_bytes() == (GOLDEN / "multi-document" / "expected" / "stack.yml").read_bytes()
    )
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(path.name for path in tree.iterdir()) == ["stack.yml"]  # no temp file left


def test_git_directories_and_symlinks_are_skipped(tmp_path: Path) -> None:
    tree = _copy_case("flux-tutorial", tmp_path)
    marked = '    image: chripp/app:v1.0.0 # {"$imagepolicy": "flux-system:app"}\n'
    (tree / ".git" / "refs").mkdir(parents=True)
    (tree / ".git" / "refs" / "stash.yaml").write_text(marked)
    outside = tmp_path / "outside.yaml"
    outside.write_text(marked)
    (tree / "linked.yaml").symlink_to(outside)

    done = run(tree, *_sets("flux-tutorial"))

    assert done.returncode == 0, done.stderr
    assert done.stdout == "cluster/deployment.yaml\n"
    assert (tree / ".git" / "refs" / "stash.yaml").read_text() == marked
    assert outside.read_text() == marked
    assert (tree / "linked.yaml").is_symlink()


def test_entrypoint_runs_the_same_command(tmp_path: Path) -> None:
    tree = _copy_case("flux-tutorial", tmp_path)
    entrypoint = Path(__file__).resolve().parents[2] / "entrypoint.py"
    done = subprocess.run(
        [sys.executable, str(entrypoint), "update", str(tree), *_sets("flux-tutorial")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "cluster/deployment.yaml\n"), done.stderr
    assert _tree(tree) == _tree(GOLDEN / "flux-tutorial" / "expected")


def test_update_does_not_load_heavy_clients(tmp_path: Path) -> None:
    tree = _copy_case("flux-tutorial", tmp_path)
    code = (
        "import sys\n"
        "from gitops_action.cli import main\n"
        "try:\n"
        f"    main(['update', {str(tree)!r}, '--set', 'flux-system:app=chripp/app:v1.1.0'])\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
        "heavy = sorted({'kubernetes', 'docker', 'github', 'httpx'} & set(sys.modules))\n"
        "print(heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
