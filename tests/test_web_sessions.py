"""Sessions that end when they should: a cookie from before a log-out, the user's removal, a
new password or a new role is refused, by the running app and after a restart with the same
secret; the users file is written by a TOML writer, atomically and owner-only."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from publisher.cli import cli
from publisher.config import load_config
from publisher.web.app import create_app
from publisher.web.auth import Users, add_user, remove_user, set_password
from tests import test_web
from tests.test_web import PASSWORD, csrf, log_in

pytestmark = pytest.mark.usefixtures("fake_today")
site = test_web.project  # the same project folder as the web app's other tests


def _app(project: Path) -> TestClient:
    """The app as ``jobpub serve`` starts it (after a restart too): the same secret."""
    config = load_config(project / "jobpub.toml")
    return TestClient(create_app(config, Users(project / "users.toml"), secret="test-secret"),
                      follow_redirects=False)


def _logout(project: Path) -> None:
    client = _app(project)
    log_in(client)
    client.post("/logout", data={"csrf": csrf(client.get("/").text)})


CHANGES: dict[str, Callable[[Path], None]] = {
    "log-out elsewhere": _logout,
    "removal": lambda project: remove_user(project / "users.toml", "ana"),
    "new password": lambda project: set_password(project / "users.toml", "ana", "another "
                                                 "long passphrase"),
    "new role": lambda project: add_user(project / "users.toml", "ana", "approver", PASSWORD),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_an_earlier_session_is_refused_after_the_change(site: Path, change: str) -> None:
    before = _app(site)
    log_in(before)
    assert before.get("/").status_code == 200
    cookie = before.cookies["jobpub_session"]
    CHANGES[change](site)
    assert before.get("/").headers["location"] == "/login"  # the running app: at once
    restarted = _app(site)
    restarted.cookies.set("jobpub_session", cookie)
    assert restarted.get("/").headers["location"] == "/login"  # and after a restart


def test_a_new_login_after_the_change_works(site: Path) -> None:
    set_password(site / "users.toml", "ana", "another long passphrase")
    client = _app(site)
    token = csrf(client.get("/login").text)
    answer = client.post("/login", data={"csrf": token, "name": "ana",
                                         "password": "another long passphrase"})
    assert answer.status_code == 303 and client.get("/").status_code == 200


def test_the_users_file_round_trips_any_value_and_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    path.write_text("")
    os.chmod(path, 0o644)  # an existing file others can read
    add_user(path, "bo", "recruiter", PASSWORD, email="b\\o'q@example.com")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Users(path).get("bo").email == "b\\o'q@example.com"
    assert Users(path).check("bo", PASSWORD) is not None
    env = {"JOBPUB_USERS_FILE": str(path)}
    runner = CliRunner()
    assert runner.invoke(cli, ["users", "add", "cy", "--role", "approver", "--password",
                               PASSWORD], env=env).exit_code == 0
    listed = runner.invoke(cli, ["users", "list"], env=env)
    assert listed.output.splitlines() == ["bo  recruiter", "cy  approver"]
    gone = runner.invoke(cli, ["users", "remove", "bo"], env=env)
    assert gone.exit_code == 0 and "its sessions have ended" in gone.output
    assert runner.invoke(cli, ["users", "remove", "bo"], env=env).exit_code == 2
    changed = runner.invoke(cli, ["users", "passwd", "cy", "--password", "x" * 20], env=env)
    assert changed.exit_code == 0 and Users(path).check("cy", "x" * 20) is not None
    assert [p.name for p in tmp_path.iterdir()] == ["users.toml"]  # no temporary file left
