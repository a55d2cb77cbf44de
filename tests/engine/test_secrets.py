"""Secret hygiene end to end (issue 16, item 6): every secret variable of every API board
set to a distinctive value, boards that fail every call and echo the whole request back
(headers, form fields, body) in their error, then ``sync``, ``status``, ``history``, ``plan``,
the logs, the notifications sent, the web app's pages and previews, a dump of every ledger
table and every file in ``public/`` are searched: no secret, in clear or in the encodings a
request carries it (Basic auth's Base64, URL-encoded form fields), appears anywhere."""

from __future__ import annotations

import base64
import json
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest
import respx
import sqlalchemy as sa
from click.testing import CliRunner
from starlette.testclient import TestClient

import publisher.engine_cli  # noqa: F401  (registers the engine's commands)
from publisher.cli import cli
from publisher.config import load_config
from publisher.database import connect
from publisher.registry import boards
from publisher.web.app import create_app
from publisher.web.auth import Users
from tests.factories import posting_text


def _secret_names() -> set[str]:
    """Every variable a board reads a secret from by default (its settings' ``*_env``), so a
    new board's are covered; and those set only by configuration here."""
    from publisher.registry import boards

    found = {
        str(field.default)
        for cls in boards().values()
        for key, field in cls.settings_model.model_fields.items()
        if key.endswith("_env") and field.default
    }
    return found | {
        "REED_POSTING_KEY",
        "JOBPUB_WEBHOOK_SECRET",
        "JOBPUB_WEB_SECRET",
        "JOBPUB_WEB_TOKEN",
    }


SECRETS = {
    name: f"S3cr3t-{name.lower().replace('_', '-')}-7f3a9c" for name in sorted(_secret_names())
}
SECRETS["JOBPUB_NOTIFY_HOOK"] = "https://notify.example.com/services/S3cr3t-notify-hook-7f3a9c"
# Client ids are not secrets to the boards (they are sent in clear and may be echoed); what
# must never show are the secrets proper.
NOT_SECRET = {"LINKEDIN_CLIENT_ID", "INDEED_CLIENT_ID", "REED_CLIENT_ID", "STEPSTONE_USERNAME"}
US_BOARDS = (
    "google",
    "indeed_feed",
    "linkedin",
    "ziprecruiter",
    "smartrecruiters",
    "webhook",
    "stepstone",
)
UK_BOARDS = ("reed",)


def forms(value: str) -> list[str]:
    """A secret as it may travel: in clear, URL-encoded, in Basic auth (alone or as user:)."""
    return [
        value,
        quote_plus(value),
        base64.b64encode(value.encode()).decode(),
        base64.b64encode(f"{value}:".encode()).decode(),
    ]


def echo(request: httpx.Request) -> httpx.Response:
    """A board at its worst: refuses the call and repeats everything it was sent."""
    said = {
        "error": "invalid_client",
        "headers": dict(request.headers),
        "url": str(request.url),
        "body": request.content.decode("utf-8", "replace"),
    }
    status = 401 if "token" in request.url.path else 400
    return httpx.Response(status, json=said)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "postings").mkdir()
    started = {"publish_at: 2026-12-01": "publish_at: 2026-11-20"}
    in_leeds = {
        **started,
        "city: Boulder": "city: Leeds",
        "region: CO": "region: LDS",
        "country: US": "country: GB",
        '"80301"': '"LS1 4AP"',
        "USD": "GBP",
        "America/Denver": "Europe/London",
    }
    for posting_id, changes, on in (
        ("data-analyst", started, US_BOARDS),
        ("uk-analyst", in_leeds, UK_BOARDS),
    ):
        text = posting_text(posting_id)
        for old, new in changes.items():
            text = text.replace(old, new)
        text = text[: text.index("boards:")] + "boards:\n" + "".join(f"  {b}: {{}}\n" for b in on)
        (tmp_path / f"postings/{posting_id}.yaml").write_text(text)
    out = tmp_path / "public"
    (tmp_path / "jobpub.toml").write_text(f"""\
ledger = "sqlite:///{tmp_path}/ledger.db"
postings_dir = "{tmp_path}/postings"
timezone = "America/Denver"
[company]
name = "Example Corp"
email = "jobs@example.com"
[boards.google]
site_url = "https://jobs.example.com/{{id}}.html"
output_dir = "{out}"
[boards.indeed_feed]
job_url = "https://jobs.example.com/{{id}}.html"
output_dir = "{out}"
[boards.webhook]
url = "https://hooks.example.com/jobpub"
secret_env = "JOBPUB_WEBHOOK_SECRET"
[boards.linkedin]
organization = "2414183"
[boards.stepstone]
url = "https://jobfeed.stepstone.example/upload"
[boards.reed]
username = "recruiter@example.com"
posting_key_env = "REED_POSTING_KEY"
[boards.smartrecruiters]
industry = "it_services"
function = "information_technology"
[notify]
webhook_url_env = "JOBPUB_NOTIFY_HOOK"
""")
    connect(f"sqlite:///{tmp_path}/ledger.db").dispose()  # jobpub creates only its default
    return tmp_path


def everything_said(project: Path, outputs: list[str], caplog: Any) -> str:
    engine = sa.create_engine(f"sqlite:///{project}/ledger.db")
    with engine.connect() as conn:
        tables = [
            str(row)
            for name in sa.inspect(engine).get_table_names()
            for row in conn.execute(sa.text(f'SELECT * FROM "{name}"'))
        ]
    engine.dispose()
    files = [p.read_text(errors="replace") for p in (project / "public").rglob("*") if p.is_file()]
    logs = [r.getMessage() for r in caplog.records]
    return "\n".join([*outputs, *tables, *files, *logs])


@pytest.mark.usefixtures("fake_today")
def test_no_secret_in_any_output_log_ledger_row_page_or_file(
    project: Path, http: respx.MockRouter, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.WARNING, logger="markdown_it")  # (its debug lines are huge)
    notified: list[str] = []

    def notify(request: httpx.Request) -> httpx.Response:
        notified.append(request.content.decode())
        return httpx.Response(200)

    told = http.route(host="notify.example.com").mock(side_effect=notify)
    catch_all = http.route().mock(side_effect=echo)
    config = ["--config", str(project / "jobpub.toml")]
    runner = CliRunner()
    synced = runner.invoke(cli, [*config, "sync"])
    assert synced.exit_code == 1, synced.output  # every API board refused
    assert "skipped" not in synced.output  # every board ran: its credentials were read
    assert catch_all.called, synced.output
    sent = " ".join(
        call.request.headers.get("authorization", "")
        + " "
        + call.request.content.decode("utf-8", "replace")
        for call in catch_all.calls
    )
    # The boards really were sent the secrets (else this test would prove nothing).
    assert any(f in sent for f in forms(SECRETS["LINKEDIN_CLIENT_SECRET"]))
    assert any(f in sent for f in forms(SECRETS["ZIPRECRUITER_API_KEY"]))
    outputs = [synced.output]
    for args in (
        ["status"],
        ["status", "--json"],
        ["plan"],
        ["plan", "--json"],
        ["history", "data-analyst"],
        ["history", "data-analyst", "--json"],
        ["history", "uk-analyst", "--json"],
        ["sync", "--retry-failed"],
    ):
        outputs.append(runner.invoke(cli, [*config, *args]).output)
    assert "[redacted]" in "".join(outputs)  # the echoes were there, masked
    assert told.called and "failed and needs a person" in notified[0]  # with their reasons
    assert "[redacted]" in notified[0]  # (which echoed secrets)
    outputs += notified
    for board in sorted(boards()):
        outputs.append(
            runner.invoke(
                cli,
                [*config, "preview", str(project / "postings/data-analyst.yaml"), "--board", board],
            ).output
        )

    app = create_app(
        load_config(project / "jobpub.toml"),
        Users(None, SECRETS["JOBPUB_WEB_TOKEN"]),
        secret=SECRETS["JOBPUB_WEB_SECRET"],
    )
    client = TestClient(app, follow_redirects=False)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token
    client.post(
        "/login",
        data={"csrf": token.group(1), "name": "ana", "password": SECRETS["JOBPUB_WEB_TOKEN"]},
    )
    for page in (
        "/",
        "/postings/data-analyst",
        "/postings/data-analyst/edit",
        "/postings/uk-analyst",
        *(f"/postings/data-analyst/preview/{b}" for b in US_BOARDS),
    ):
        answer = client.get(page)
        assert answer.status_code == 200, page
        outputs.append(answer.text)
    outputs.append(json.dumps(dict(client.cookies)))

    said = everything_said(project, outputs, caplog)
    leaks = {
        name: f
        for name, value in SECRETS.items()
        if name not in NOT_SECRET
        for f in forms(value)
        if f in said
    }
    assert leaks == {}
