"""Running jobpub in the right place: project-root paths, ledgers that are created only
where expected, `jobpub init` and `jobpub new`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import publisher.engine_cli  # noqa: F401  (registers the engine's commands)
from publisher import clock
from publisher.cli import cli
from publisher.config import load_config
from tests.factories import NOW


@pytest.fixture(autouse=True)
def _fake_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("publisher.clock.now", lambda: NOW)


def jobpub(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_paths_resolve_against_the_project_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert jobpub("init", str(tmp_path / "careers")).exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(tmp_path / "careers/config/jobpub.toml")
    root = tmp_path / "careers"
    assert config.root == str(root)
    assert config.postings_dir == str(root / "postings")
    assert config.ledger == f"sqlite:///{root / '.jobpub/ledger.db'}"
    assert config.boards["google"]["output_dir"] == str(root / "public")
    assert config.boards["indeed_feed"]["output_dir"] == str(root / "public")  # the default

    monkeypatch.chdir(root)  # inside the project, paths stay relative (CI annotations)
    assert load_config().postings_dir == "postings"
    flat = tmp_path / "flat.toml"  # a config outside config/: its own folder is the root
    flat.write_text('postings_dir = "jobs"\n')
    assert load_config(flat).postings_dir == str(tmp_path / "jobs")


def test_sync_creates_only_the_default_ledger_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobpub("init", str(tmp_path))
    monkeypatch.chdir(tmp_path / "postings")  # a subfolder: the project is still found
    config = str(tmp_path / "config/jobpub.toml")
    first = jobpub("--config", config, "sync")
    assert first.exit_code == 0, first.output
    assert f"created new ledger {tmp_path / '.jobpub/ledger.db'}" in first.output
    assert (tmp_path / "public/jobs/example-posting.html").exists()
    assert "created new ledger" not in jobpub("--config", config, "sync").output

    monkeypatch.setenv("JOBPUB_LEDGER", f"sqlite:///{tmp_path}/ledgr.db")  # a typo
    for command in ("sync", "status", "plan"):
        result = jobpub("--config", config, command)
        assert result.exit_code == 2, (command, result.output)
        assert f"no ledger at {tmp_path}/ledgr.db" in result.output
    assert not (tmp_path / "ledgr.db").exists()


def test_the_wrong_folder_is_an_error_not_nothing_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    sync = jobpub("sync")
    assert sync.exit_code == 2 and "no postings folder postings/" in sync.output
    status = jobpub("status")
    assert status.exit_code == 2 and "no ledger at" in status.output
    assert list(tmp_path.iterdir()) == []  # nothing created


def test_init_and_new(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = jobpub("init", str(tmp_path))
    assert made.exit_code == 0
    assert (tmp_path / ".gitignore").read_text().splitlines()[-2:] == [".jobpub/", "public/"]
    assert jobpub("init", str(tmp_path)).exit_code == 2  # never over an existing project
    monkeypatch.chdir(tmp_path)
    assert jobpub("validate").exit_code == 0  # the example posting is valid as it is

    assert jobpub("new", "data-analyst").exit_code == 0
    skeleton = jobpub("validate", "postings/data-analyst.yaml")
    assert skeleton.exit_code == 1 and "placeholder" in skeleton.output  # blanks are found

    copy = jobpub("new", "example-2", "--from", "example-posting")
    assert copy.exit_code == 0, copy.output
    text = (tmp_path / "postings/example-2.yaml").read_text()
    assert "id: example-2\n" in text and "publish_at" not in text
    assert jobpub("validate", "postings/example-2.yaml").exit_code == 0
    assert jobpub("new", "example-2").exit_code == 2  # exists
    bad = jobpub("new", "Name-Mismatch")
    assert bad.exit_code == 2 and "lowercase letters, digits and hyphens" in bad.output


def test_new_from_a_posting_whose_file_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobpub("init", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert jobpub("sync").exit_code == 0
    (tmp_path / "postings/example-posting.yaml").unlink()
    assert jobpub("sync").exit_code == 0  # expired everywhere
    copy = jobpub("new", "rehire", "--from", "example-posting")
    assert copy.exit_code == 0, copy.output
    text = (tmp_path / "postings/rehire.yaml").read_text()
    assert text.startswith("# Copied from example-posting (its last recorded version).")
    closes = (clock.now() + timedelta(days=30)).date().isoformat()
    assert "id: rehire" in text and "publish_at" not in text
    assert f"expires_at: {closes}" in text  # its own close date, default_duration_days on
    assert jobpub("validate", "postings/rehire.yaml").exit_code == 0
