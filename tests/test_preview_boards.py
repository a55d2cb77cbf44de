"""``jobpub preview FILE --board B`` for every API board of the registry prints exactly the
request the board gets (the adapter's preview of the posting as validate loads it), and never
a secret: Reed's signed headers are left out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from publisher import clock
from publisher.cli import cli
from publisher.config import load_config
from publisher.registry import Adapters, boards
from publisher.validate import load_posting
from tests.factories import NOW, ROOT, context, posting_text

API_BOARDS = sorted(name for name, cls in boards().items() if cls.kind == "api")
SETTINGS = """
[boards.smartrecruiters]
industry = "47"
function = "it"
[boards.stepstone]
url = "https://jobfeed.stepstone.example/push"
[boards.reed]
username = "hr@example.co.uk"
[boards.indeed]
source_name = "Example careers"
"""
SECRETS = {
    "REED_API_KEY": "reed-secret-key-123",
    "REED_CLIENT_ID": "reed-client",
    "JOBPUB_WEBHOOK_SECRET": "hook-secret-456",
}


@pytest.mark.parametrize("board", API_BOARDS)
def test_preview_prints_the_exact_request(
    board: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    config_path = tmp_path / "jobpub.toml"
    config_path.write_text((ROOT / "config/jobpub.toml").read_text() + SETTINGS)
    text = posting_text().replace("indeed_feed: {}", f"{board}: {{}}")
    if board == "reed":  # a UK board
        text = (
            text.replace("    region: CO\n", "")
            .replace("country: US", "country: GB")
            .replace("currency: USD", "currency: GBP")
        )
    path = tmp_path / "data-analyst.yaml"
    path.write_text(text)
    shown = CliRunner().invoke(
        cli, ["--config", str(config_path), "preview", str(path), "--board", board]
    )
    assert shown.exit_code == 0, shown.output
    config = load_config(config_path)
    loaded = load_posting(path, config, context())
    assert loaded.posting is not None, loaded.problems
    expected = Adapters(config).get(board).preview(loaded.posting)
    assert shown.stdout.strip() == expected.strip()
    assert not any(secret in shown.stdout for secret in SECRETS.values())
    if board == "reed":
        assert set(json.loads(shown.stdout)["headers"].values()) == {"[signed at send time]"}
