"""``jobpub serve`` with ``[web] require_approval`` and ``[web] git_commit``: a recruiter's
change waits for an approver, is shown as a diff, applied (and committed with the recruiter as
author) only when approved, refused when the file moved on; withdraw and reject; reopen waits,
close never does; who did what is on the posting page."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import replace
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
from publisher.web.auth import Users, add_user
from tests.factories import posting_text

PASSWORD = "correct horse battery staple"
pytestmark = pytest.mark.usefixtures("fake_today")
SETUP = {
    "GIT_AUTHOR_NAME": "setup",
    "GIT_AUTHOR_EMAIL": "setup@example.com",
    "GIT_COMMITTER_NAME": "setup",
    "GIT_COMMITTER_EMAIL": "setup@example.com",
}


def git(repo: Path, *args: str, **env: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    ).stdout


@pytest.fixture(autouse=True)
def no_git_identity(tmp_path: Path, monkeypatch: Any) -> None:
    """The server's git has no identity of its own (as on a fresh machine)."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
    ):
        monkeypatch.delenv(name, raising=False)


def make_project(root: Path, *, approval: bool, repo: bool = True) -> Path:
    (root / "postings").mkdir(parents=True)
    (root / "postings/data-analyst.yaml").write_text("# reviewed by legal\n" + posting_text())
    (root / "jobpub.toml").write_text(
        f'ledger = "sqlite:///{root}/ledger.db"\npostings_dir = "{root}/postings"\n'
        f'timezone = "America/Denver"\n[company]\nname = "Example Corp"\n'
        f"[web]\nrequire_approval = {str(approval).lower()}\ngit_commit = true\n"
        f'[boards.indeed_feed]\njob_url = "https://jobs.example.com/{{id}}"\n'
        f'output_dir = "{root}/public"\n'
    )
    add_user(root / "users.toml", "ana", "recruiter", PASSWORD, "ana@example.com")
    add_user(root / "users.toml", "bob", "approver", PASSWORD)
    connect(f"sqlite:///{root}/ledger.db").dispose()
    if repo:
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "postings")
        git(root, "commit", "-q", "-m", "initial", **SETUP)
    return root


def signed_in(root: Path, name: str) -> TestClient:
    config = load_config(root / "jobpub.toml")
    client = TestClient(
        create_app(config, Users(root / "users.toml"), secret="s"), follow_redirects=False
    )
    token = csrf(client.get("/login").text)
    answer = client.post("/login", data={"csrf": token, "name": name, "password": PASSWORD})
    assert answer.status_code == 303
    return client


def csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def save(client: TestClient, text: str) -> Any:
    page = client.get("/postings/data-analyst/edit").text
    base = re.search(r'name="base" value="([^"]*)"', page)
    assert base
    return client.post(
        "/postings/data-analyst/save",
        data={"csrf": csrf(page), "base": base.group(1), "text": text},
    )


def decide(client: TestClient, number: int, verb: str) -> Any:
    token = csrf(client.get(f"/changes/{number}").text)
    return client.post(f"/changes/{number}/{verb}", data={"csrf": token})


def test_a_recruiters_edit_waits_for_an_approver_and_is_committed_as_theirs(tmp_path: Path) -> None:
    root = make_project(tmp_path, approval=True)
    path = root / "postings/data-analyst.yaml"
    before = path.read_text()
    ana, bob = signed_in(root, "ana"), signed_in(root, "bob")

    proposed = save(ana, before.replace("title: Data Analyst", "title: Lead Data Analyst"))
    assert (proposed.status_code, proposed.headers["location"]) == (303, "/changes/1")
    assert path.read_text() == before  # nothing reaches the file before approval
    page = ana.get("/changes/1").text
    assert "your change waits for an approver" in page and ">pending<" in page
    assert "Approve" not in page and "Withdraw" in page  # ana may withdraw, not approve
    assert "Waiting for approval" in ana.get("/").text
    assert decide(ana, 1, "approve").status_code == 403  # a recruiter cannot approve

    shown = bob.get("/changes/1").text
    assert "-title: Data Analyst" in shown and "+title: Lead Data Analyst" in shown
    assert "Approve" in shown and "Reject" in shown and "Withdraw" not in shown
    approved = decide(bob, 1, "approve")
    assert (approved.status_code, approved.headers["location"]) == (303, "/postings/data-analyst")
    assert path.read_text().startswith("# reviewed by legal\n")  # comments kept
    assert "title: Lead Data Analyst" in path.read_text()
    assert (
        git(root, "log", "-1", "--format=%an <%ae>|%cn|%s")
        == "ana <ana@example.com>|jobpub serve|Update data-analyst (approved by bob)\n"
    )
    assert git(root, "status", "--porcelain", "--", "postings") == ""  # committed
    assert decide(bob, 1, "approve").status_code == 409  # decided once
    history = bob.get("/postings/data-analyst").text
    assert "by ana" in history and "approved by bob" in history
    assert "Waiting for approval" not in bob.get("/").text


def test_withdraw_reject_and_a_change_overtaken_by_another_save(tmp_path: Path) -> None:
    root = make_project(tmp_path, approval=True)
    path = root / "postings/data-analyst.yaml"
    ana, bob = signed_in(root, "ana"), signed_in(root, "bob")
    scheduled = ana.post(
        "/postings/data-analyst/schedule",
        data={
            "csrf": csrf(ana.get("/postings/data-analyst/edit").text),
            "publish_at": "2026-12-15",
        },
    )
    assert scheduled.headers["location"] == "/changes/1"
    assert "publish_at: 2026-12-15" not in path.read_text()
    assert decide(bob, 1, "withdraw").status_code == 403  # only its author withdraws
    assert decide(ana, 1, "withdraw").status_code == 303
    assert ">withdrawn<" in ana.get("/changes/1").text

    assert save(ana, path.read_text().replace("Data Analyst", "Analyst II")).status_code == 303
    theirs = path.read_text().replace("Data Analyst", "Principal Data Analyst")
    assert save(bob, theirs).status_code == 303  # an approver's save is not held
    assert path.read_text() == theirs
    overtaken = decide(bob, 2, "approve")
    assert overtaken.status_code == 409 and "the file changed since" in overtaken.text
    assert path.read_text() == theirs and ">pending<" in bob.get("/changes/2").text
    assert decide(bob, 2, "reject").status_code == 303
    assert ">rejected<" in ana.get("/changes/2").text and path.read_text() == theirs


def test_a_change_is_checked_again_when_approved(tmp_path: Path) -> None:
    root = make_project(tmp_path, approval=True)
    ana = signed_in(root, "ana")
    path = root / "postings/data-analyst.yaml"
    before = path.read_text()
    refused = save(ana, before.replace("title: Data Analyst", "title: ''"))
    assert refused.status_code == 422  # errors are refused before anyone is asked
    assert ana.get("/changes/1").status_code == 404  # and nothing waits
    worded = before.replace(
        "title: Data Analyst\n", "title: Data Analyst\n# digital natives wanted\n"
    ).replace("Build and maintain dashboards", "Digital natives build dashboards")
    assert save(ana, worded).status_code == 303  # a warning today
    config = root / "jobpub.toml"
    config.write_text(config.read_text() + '[rules]\ninclusive-language = "error"\n')
    stricter = signed_in(root, "bob")  # the server restarted with stricter rules
    refused = decide(stricter, 1, "approve")
    assert refused.status_code == 422 and "the change has errors under today" in refused.text
    assert path.read_text() == before and ">pending<" in stricter.get("/changes/1").text


def test_reopen_waits_and_close_does_not(tmp_path: Path) -> None:
    root = make_project(tmp_path, approval=True, repo=False)
    assert CliRunner().invoke(cli, ["--config", str(root / "jobpub.toml"), "sync"]).exit_code == 0
    ana, bob = signed_in(root, "ana"), signed_in(root, "bob")
    token = csrf(ana.get("/postings/data-analyst").text)
    assert ana.post("/postings/data-analyst/close", data={"csrf": token}).status_code == 303
    ledger = Ledger(connect(f"sqlite:///{root}/ledger.db"))
    assert ledger.listings("data-analyst")[0].hold == "manual"  # closed at once
    asked = ana.post("/postings/data-analyst/reopen", data={"csrf": token})
    assert asked.headers["location"] == "/changes/1"
    assert ledger.listings("data-analyst")[0].hold == "manual"  # still closed
    assert decide(bob, 1, "approve").status_code == 303
    assert ledger.listings("data-analyst")[0].hold == "reopen"
    trail = [(e.action, e.actor) for e in ledger.history("data-analyst")][-2:]
    assert trail == [("expire", "web:ana"), ("reopen", "web:ana, approved by bob")]


def test_without_approval_saves_are_committed_alone_and_outside_git_it_says_so(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path / "repo", approval=False)
    (root / "notes.txt").write_text("staged by someone else\n")
    git(root, "add", "notes.txt")
    ana = signed_in(root, "ana")
    path = root / "postings/data-analyst.yaml"
    assert save(ana, path.read_text().replace("Data Analyst", "Analyst IV")).status_code == 303
    assert (
        git(root, "log", "-1", "--format=%an|%s", "--name-only")
        == "ana|Update data-analyst (jobpub serve)\n\npostings/data-analyst.yaml\n"
    )
    assert (
        git(root, "status", "--porcelain", "--", "notes.txt", "postings") == "A  notes.txt\n"
    )  # left as it was
    assert "saved" in ana.get("/postings/data-analyst/edit").text  # the notice, once
    created = ana.post(
        "/postings/ux-writer/save",
        data={"csrf": csrf(ana.get("/").text), "base": "", "text": posting_text("ux-writer")},
    )
    assert created.status_code == 303
    assert git(root, "log", "-1", "--format=%s") == "Create ux-writer (jobpub serve)\n"

    outside = make_project(tmp_path / "plain", approval=False, repo=False)
    carol = signed_in(outside, "ana")
    text = (outside / "postings/data-analyst.yaml").read_text().replace("Data", "Big Data")
    assert save(carol, text).status_code == 303
    assert (outside / "postings/data-analyst.yaml").read_text() == text  # saved regardless
    assert (
        "is not in a git repository: saved without a commit"
        in carol.get("/postings/data-analyst/edit").text
    )


def test_users_add_keeps_the_email_and_refuses_names_that_break_the_file(tmp_path: Path) -> None:
    users = tmp_path / "users.toml"
    env = {"JOBPUB_USERS_FILE": str(users)}
    added = CliRunner().invoke(
        cli,
        [
            "users",
            "add",
            "dee",
            "--role",
            "approver",
            "--email",
            "dee@example.com",
            "--password",
            PASSWORD,
        ],
        env=env,
    )
    assert added.exit_code == 0, added.output
    assert Users(users).check("dee", PASSWORD) == replace(Users(users).get("dee"), session="u0")
    assert Users(users).get("dee").author == "dee <dee@example.com>"
    bad = CliRunner().invoke(
        cli, ["users", "add", 'x"\nrole = "approver', "--password", PASSWORD], env=env
    )
    assert bad.exit_code == 2 and "a user name is" in bad.output
