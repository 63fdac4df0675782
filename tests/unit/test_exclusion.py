"""Secret files, the `exclude` setting and `.fimignore`: which files are never read, and why."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from fim_lsp.exclusion import DEFAULT_EXCLUDES, RECHECK_AFTER, Excluder, check_path, uri_path

ROOT = "file:///work/project"


@pytest.mark.parametrize(
    ("path", "pattern"),
    [
        (".env", ".env"),
        ("services/api/.env", ".env"),
        (".env.production", ".env.*"),
        ("certs/server.pem", "*.pem"),
        ("tls/private.key", "*.key"),
        ("client.p12", "*.p12"),
        ("client.pfx", "*.pfx"),
        ("deploy/id_rsa", "id_rsa*"),
        ("deploy/id_rsa.pub", "id_rsa*"),
        ("id_ed25519", "id_ed25519*"),
        (".npmrc", ".npmrc"),
        (".pypirc", ".pypirc"),
        (".netrc", ".netrc"),
        (".git-credentials", ".git-credentials"),
        ("credentials.json", "credentials*"),
        ("config/credentials", "credentials*"),
        ("secrets.yaml", "secrets.*"),
        ("k8s/secrets.json", "secrets.*"),
        ("vault.kdbx", "*.kdbx"),
        ("ops/kubeconfig", "kubeconfig"),
        (".git/COMMIT_EDITMSG", ".git/"),
        ("vendor/lib/.git/config", ".git/"),
        (".ssh/config", ".ssh/"),
        (".aws/config", ".aws/"),
        (".gnupg/pubring.kbx", ".gnupg/"),
        ("SERVER.PEM", "*.pem"),
        (".ENV", ".env"),
    ],
)
def test_default_secret_files_are_excluded_with_a_reason(path: str, pattern: str):
    found = check_path(f"{ROOT}/{path}", [ROOT])
    assert found is not None, path
    assert found.source == "default"
    assert found.pattern == pattern
    assert found.status.startswith("off for this file: ")
    assert found.status == "off for this file: " + dict(DEFAULT_EXCLUDES)[pattern]


def test_the_status_names_the_reason():
    found = check_path(f"{ROOT}/.env", [ROOT])
    assert found is not None
    assert found.status == "off for this file: .env files may hold secrets"


@pytest.mark.parametrize(
    "path",
    [
        "src/main.py",
        "src/environment.ts",
        "docs/env.md",
        "keyboard.py",
        "src/keys.go",
        "pem_utils.py",
        "src/credential_helpers/README",
        "my.secrets/notes.txt",
        "gitignore.txt",
        "src/.github/workflows/ci.yml",
    ],
)
def test_ordinary_files_are_not_excluded(path: str):
    assert check_path(f"{ROOT}/{path}", [ROOT]) is None


def test_files_outside_the_workspace_match_by_their_whole_path():
    assert check_path("file:///home/me/.ssh/config", [ROOT]) is not None
    assert check_path("file:///home/me/.aws/credentials", []) is not None
    assert check_path("file:///home/me/notes.py", [ROOT]) is None
    assert check_path("untitled:Untitled-1", [ROOT]) is None


def test_uris_are_decoded_and_windows_paths_compared_alike():
    assert check_path(f"{ROOT}/%2Eenv", [ROOT]) is not None
    assert uri_path("file:///C%3A/Users/me/.env") == "c:/Users/me/.env"
    assert check_path("file:///c%3A/Users/me/app/config.py", ["file:///C:/Users/me/app"]) is None
    found = check_path("file:///c%3A/Users/me/app/.npmrc", ["file:///C:/Users/me/app"])
    assert found is not None and found.pattern == ".npmrc"


def test_the_exclude_setting_adds_globs_relative_to_the_workspace():
    exclude = ["config/prod.*", "**/fixtures/*.sql", "*.local.json"]
    found = check_path(f"{ROOT}/config/prod.yaml", [ROOT], exclude)
    assert found is not None and found.source == "exclude"
    assert found.status == "off for this file: it matches the exclude setting (config/prod.*)"
    assert check_path(f"{ROOT}/a/b/fixtures/users.sql", [ROOT], exclude) is not None
    assert check_path(f"{ROOT}/src/app.local.json", [ROOT], exclude) is not None
    assert check_path(f"{ROOT}/config/dev.yaml", [ROOT], exclude) is None
    assert check_path(f"{ROOT}/src/config/prod.yaml", [ROOT], exclude) is None  # anchored


def test_fimignore_is_gitignore_syntax():
    lines = [
        "# comments and blank lines are ignored",
        "",
        "build/",
        "/top.txt",
        "docs/**/private/",
        "*.dump",
        "!keep.dump",
        "logs/*",
        "!logs/public.log",
    ]

    def excluded(path: str) -> bool:
        return check_path(f"{ROOT}/{path}", [ROOT], ignore_lines=lines) is not None

    assert excluded("build/out.js") and excluded("src/build/out.js")
    assert not excluded("build.py")
    assert excluded("top.txt") and not excluded("sub/top.txt")
    assert excluded("docs/a/b/private/x.md") and excluded("docs/private/y.md")
    assert not excluded("docs/public/y.md")
    assert excluded("db.dump") and not excluded("keep.dump")
    assert excluded("logs/debug.log") and not excluded("logs/public.log")
    found = check_path(f"{ROOT}/db.dump", [ROOT], ignore_lines=lines)
    assert (
        found is not None and found.status == "off for this file: .fimignore excludes it (*.dump)"
    )


def test_neither_fimignore_nor_exclude_can_switch_the_defaults_off():
    assert check_path(f"{ROOT}/.env", [ROOT], ["!.env"], ["!.env", "!*.pem"]) is not None
    assert check_path(f"{ROOT}/a.pem", [ROOT], ["!*.pem"], ["!*.pem"]) is not None


def test_the_deepest_workspace_folder_decides(tmp_path: Path):
    outer, inner = tmp_path, tmp_path / "inner"
    inner.mkdir()
    (outer / ".fimignore").write_text("inner/generated/\n")
    (inner / ".fimignore").write_text("*.gen.py\n")
    excluder = Excluder()
    roots = [outer.as_uri(), inner.as_uri()]
    assert excluder.check((inner / "x.gen.py").as_uri(), roots) is not None
    # Relative to `inner` this is generated/a.py, which inner's .fimignore does not name.
    assert excluder.check((inner / "generated" / "a.py").as_uri(), roots) is None


def test_the_excluder_reads_fimignore_again_when_it_changes(tmp_path: Path):
    now = [100.0]
    excluder = Excluder(clock=lambda: now[0])
    root = tmp_path.as_uri()
    doc = (tmp_path / "notes" / "todo.md").as_uri()
    assert excluder.check(doc, [root]) is None
    ignore = tmp_path / ".fimignore"
    ignore.write_text("notes/\n")
    # Looked at again only after a while: a keystroke costs no system call.
    now[0] += RECHECK_AFTER / 2
    assert excluder.check(doc, [root]) is None
    now[0] += RECHECK_AFTER
    found = excluder.check(doc, [root])
    assert found is not None and found.source == ".fimignore"
    ignore.write_text("other/\n")
    os.utime(ignore, (time.time() + 5, time.time() + 5))
    now[0] += RECHECK_AFTER + 1
    assert excluder.check(doc, [root]) is None
    ignore.unlink()
    now[0] += RECHECK_AFTER + 1
    assert excluder.check(doc, [root]) is None


def test_the_exclude_setting_is_part_of_the_cached_decision(tmp_path: Path):
    excluder = Excluder()
    root = tmp_path.as_uri()
    doc = (tmp_path / "data" / "seed.sql").as_uri()
    assert excluder.check(doc, [root]) is None
    assert excluder.check(doc, [root], ["*.sql"]) is not None
    assert excluder.check(doc, [root], ()) is None
    excluder.forget(doc)
    assert excluder.check(doc, [root], ["data/"]) is not None


def test_a_check_per_keystroke_is_cheap(tmp_path: Path):
    (tmp_path / ".fimignore").write_text("build/\n*.log\n")
    excluder = Excluder()
    root = tmp_path.as_uri()
    doc = (tmp_path / "src" / "main.py").as_uri()
    excluder.check(doc, [root], ["*.sql"])
    started = time.perf_counter()
    for _ in range(10_000):
        excluder.check(doc, [root], ["*.sql"])
    per_call = (time.perf_counter() - started) / 10_000
    assert per_call < 50e-6
