"""``jobpub serve``: every page and action through the ASGI app (httpx, Starlette's test
client): login, CSRF, rate limit, dashboard, editor with validate's problems, conflicting
saves, schedule (comments kept), close and reopen reaching the ledger as the CLI does."""

from __future__ import annotations

import re
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

import publisher.engine_cli  # noqa: F401  (registers sync)
from publisher.cli import cli
from publisher.config import load_config
from publisher.database import connect
from publisher.ledger import Ledger
from publisher.web.app import create_app
from publisher.web.auth import LoginLimiter, Users, add_user
from tests.factories import posting_text

PASSWORD = "correct horse battery staple"
pytestmark = pytest.mark.usefixtures("fake_today")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "postings").mkdir()
    (tmp_path / "postings/data-analyst.yaml").write_text(
        "# yaml-language-server: $schema=../schema/posting.schema.json\n" + posting_text()
    )
    (tmp_path / "jobpub.toml").write_text(
        f'ledger = "sqlite:///{tmp_path}/ledger.db"\npostings_dir = "{tmp_path}/postings"\n'
        f'timezone = "America/Denver"\n[company]\nname = "Example Corp"\n'
        f'[boards.indeed_feed]\njob_url = "https://jobs.example.com/{{id}}"\n'
        f'output_dir = "{tmp_path}/public"\n'
    )
    add_user(tmp_path / "users.toml", "ana", "recruiter", PASSWORD)
    connect(f"sqlite:///{tmp_path}/ledger.db").dispose()  # jobpub creates only its default
    return tmp_path


@pytest.fixture
def client(project: Path) -> TestClient:
    config = load_config(project / "jobpub.toml")
    return TestClient(
        create_app(
            config,
            Users(project / "users.toml"),
            secret="test-secret",
            limiter=LoginLimiter(max_delay=0.0),
        ),  # (no waits in tests)
        follow_redirects=False,
    )


def csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def log_in(client: TestClient) -> None:
    token = csrf(client.get("/login").text)
    answer = client.post("/login", data={"csrf": token, "name": "ana", "password": PASSWORD})
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_every_page_needs_a_login(client: TestClient) -> None:
    for path in ("/", "/postings/data-analyst", "/postings/data-analyst/edit"):
        answer = client.get(path)
        assert (answer.status_code, answer.headers["location"]) == (303, "/login"), path
    assert client.post("/postings/data-analyst/close").headers["location"] == "/login"


def test_login_checks_csrf_and_password_and_limits_attempts(client: TestClient) -> None:
    page = client.get("/login")
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert (
        client.post(
            "/login", data={"csrf": "forged", "name": "ana", "password": PASSWORD}
        ).status_code
        == 403
    )
    token = csrf(page.text)
    for _ in range(5):
        wrong = client.post("/login", data={"csrf": token, "name": "ana", "password": "x"})
        assert wrong.status_code == 401 and "wrong name or password" in wrong.text
    blocked = client.post("/login", data={"csrf": token, "name": "ana", "password": PASSWORD})
    assert blocked.status_code == 429


def test_dashboard_and_posting_page(client: TestClient, project: Path) -> None:
    runner = CliRunner().invoke(cli, ["--config", str(project / "jobpub.toml"), "sync"])
    assert runner.exit_code == 0, runner.output
    log_in(client)
    board = client.get("/")
    assert board.status_code == 200 and "data-analyst" in board.text
    assert "<td>indeed_feed</td><td>scheduled</td><td>publishes 2026-12-01 00:00 MST" in board.text
    assert client.get("/?board=google").text.split("<h2>Posting files")[0].count("<tr>") == 1
    live = client.get("/?state=live").text
    assert live.split("<h2>Posting files")[0].count("<tr>") == 1  # the header row only
    assert "scheduled for 2026-12-01" in live  # the file
    page = client.get("/postings/data-analyst")
    assert "<h2>History</h2>" in page.text and "Close now" in page.text


def test_the_dashboard_answers_while_a_sync_writes(client: TestClient, project: Path) -> None:
    runner = CliRunner().invoke(cli, ["--config", str(project / "jobpub.toml"), "sync"])
    assert runner.exit_code == 0, runner.output
    log_in(client)
    writer = sqlite3.connect(project / "ledger.db", timeout=0, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a sync's write transaction, held throughout
    writer.execute("UPDATE listings SET state = 'failed'")
    try:
        board = client.get("/")
        page = client.get("/postings/data-analyst")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert board.status_code == 200 and "<td>indeed_feed</td><td>scheduled</td>" in board.text
    assert page.status_code == 200 and "<h2>History</h2>" in page.text


def test_the_editor_shows_validates_problems_and_refuses_errors(
    client: TestClient, project: Path
) -> None:
    log_in(client)
    path = project / "postings/data-analyst.yaml"
    before = path.read_text()
    editor = client.get("/postings/data-analyst/edit")
    base = re.search(r'name="base" value="([^"]*)"', editor.text).group(1)  # type: ignore[union-attr]
    broken = before.replace("title: Data Analyst", "title: Data Analyst [City, State]")
    answer = client.post(
        "/postings/data-analyst/save",
        data={"csrf": csrf(editor.text), "base": base, "text": broken},
    )
    assert answer.status_code == 422 and "placeholder" in answer.text
    assert 'data-line="3">line 3</button>: error placeholder' in answer.text
    assert path.read_text() == before
    live = client.post(
        "/postings/data-analyst/validate",
        json={"text": broken},
        headers={"X-CSRF-Token": csrf(editor.text)},
    )
    assert [p["rule"] for p in live.json()["problems"]][:1] == ["placeholder"]
    assert (
        client.post(
            "/postings/data-analyst/validate",
            json={"text": broken},
            headers={"X-CSRF-Token": "forged"},
        ).status_code
        == 403
    )


def test_a_save_keeps_comments_and_a_conflicting_save_loses_nothing(
    client: TestClient, project: Path
) -> None:
    log_in(client)
    path = project / "postings/data-analyst.yaml"
    editor = client.get("/postings/data-analyst/edit")
    token = csrf(editor.text)
    base = re.search(r'name="base" value="([^"]*)"', editor.text).group(1)  # type: ignore[union-attr]
    mine = path.read_text().replace("title: Data Analyst", "title: Senior Data Analyst")
    saved = client.post(
        "/postings/data-analyst/save", data={"csrf": token, "base": base, "text": mine}
    )
    assert saved.status_code == 303 and path.read_text() == mine
    assert path.read_text().startswith("# yaml-language-server")  # the comment is kept
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # readable as any posting file (was 0600)
    theirs = mine.replace("Senior Data Analyst", "Lead Data Analyst")
    path.write_text(theirs)  # someone else saves meanwhile
    late = mine.replace("Senior Data Analyst", "Principal Data Analyst")
    refused = client.post(
        "/postings/data-analyst/save", data={"csrf": token, "base": base, "text": late}
    )
    assert refused.status_code == 409 and path.read_text() == theirs
    assert "Principal Data Analyst" in refused.text and "Lead Data Analyst" in refused.text


def test_schedule_close_and_reopen_reach_the_ledger_as_the_cli_does(
    client: TestClient, project: Path
) -> None:
    config = str(project / "jobpub.toml")
    assert CliRunner().invoke(cli, ["--config", config, "sync"]).exit_code == 0
    log_in(client)
    token = csrf(client.get("/postings/data-analyst/edit").text)
    scheduled = client.post(
        "/postings/data-analyst/schedule", data={"csrf": token, "publish_at": "2026-12-15"}
    )
    assert scheduled.status_code == 303
    text = (project / "postings/data-analyst.yaml").read_text()
    assert "publish_at: 2026-12-15" in text and text.startswith("# yaml-language-server")
    closed = client.post("/postings/data-analyst/close", data={"csrf": token})
    assert closed.status_code == 303
    ledger = Ledger(connect(f"sqlite:///{project}/ledger.db"))
    (row,) = ledger.listings("data-analyst")
    assert (row.state, row.hold) == ("expired", "manual")  # as jobpub expire leaves it
    last = ledger.history("data-analyst")[-1]
    assert (last.action, last.actor) == ("expire", "web:ana")
    assert client.post("/postings/data-analyst/reopen", data={"csrf": token}).status_code == 303
    (row,) = ledger.listings("data-analyst")
    assert row.hold == "reopen"  # as jobpub reopen leaves it
    assert client.post("/postings/data-analyst/close", data={"csrf": "x"}).status_code == 403


def test_posting_text_is_escaped_and_previews_are_exact(client: TestClient, project: Path) -> None:
    log_in(client)
    path = project / "postings/data-analyst.yaml"
    path.write_text(
        path.read_text().replace(
            "Build and maintain dashboards", "Build <script>alert(1)</script> dashboards"
        )
    )
    page = client.get("/postings/data-analyst/edit").text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    preview = client.get("/postings/data-analyst/preview/indeed_feed")
    assert preview.status_code == 200 and "<job>" in preview.text


def test_users_file_and_token(tmp_path: Path, monkeypatch: Any) -> None:
    users = Users(tmp_path / "none.toml", token="one-person-token")
    assert users.check("", "one-person-token") is not None
    assert users.check("", "wrong") is None
    add_user(tmp_path / "u.toml", "bo", "approver", "pw-1")
    assert (tmp_path / "u.toml").stat().st_mode & 0o777 == 0o600
    assert "pw-1" not in (tmp_path / "u.toml").read_text()
    assert Users(tmp_path / "u.toml").check("bo", "pw-1").role == "approver"  # type: ignore[union-attr]


def test_log_out_ends_the_session(client: TestClient) -> None:
    log_in(client)
    page = client.get("/").text
    assert client.post("/logout", data={"csrf": "forged"}).headers["location"] == "/login"
    assert client.get("/").status_code == 200  # a forged log-out changes nothing
    client.post("/logout", data={"csrf": csrf(page)})
    assert client.get("/").headers["location"] == "/login"


def test_new_postings_start_from_the_example_or_another_posting(client: TestClient) -> None:
    log_in(client)
    example = client.get("/postings/ux-writer/edit?from=example").text
    assert "id: ux-writer" in example and "expires_at: 2099-12-31" in example
    copy = client.get("/postings/ux-writer/edit?from=data-analyst").text
    assert "id: ux-writer" in copy and "title: Data Analyst" in copy
    assert "publish_at:" not in copy and "expires_at:" not in copy  # jobpub new --from
    assert client.get("/postings/Bad%20Id/edit").status_code == 404


def test_serve_needs_users_and_warns_beyond_loopback(project: Path, monkeypatch: Any) -> None:
    import uvicorn

    started: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.append(options))
    config = ["--config", str(project / "jobpub.toml")]
    refused = CliRunner().invoke(cli, [*config, "serve"])
    assert (
        refused.exit_code == 2
        and "no users: add one with jobpub users add" in refused.output
        and not started
    )
    env = {"JOBPUB_USERS_FILE": str(project / "users.toml")}
    wide = CliRunner().invoke(cli, [*config, "serve", "--host", "0.0.0.0"], env=env)
    assert wide.exit_code == 0 and "warning: serving on 0.0.0.0 without TLS" in wide.output
    assert started == [
        {
            "host": "0.0.0.0",
            "port": 8080,
            "ssl_certfile": None,
            "ssl_keyfile": None,
            "proxy_headers": False,
            "forwarded_allow_ips": "",
        }
    ]  # the app reads X-Forwarded-For itself
    assert "warning" not in CliRunner().invoke(cli, [*config, "serve"], env=env).output
    assert started[-1]["host"] == "127.0.0.1"
