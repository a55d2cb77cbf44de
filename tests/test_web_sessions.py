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
from publisher.web.auth import LoginLimiter, Users, add_user, remove_user, set_password
from tests import test_web
from tests.test_web import PASSWORD, csrf, log_in

pytestmark = pytest.mark.usefixtures("fake_today")
site = test_web.project  # the same project folder as the web app's other tests


def _app(project: Path) -> TestClient:
    """The app as ``jobpub serve`` starts it (after a restart too): the same secret."""
    config = load_config(project / "jobpub.toml")
    return TestClient(
        create_app(config, Users(project / "users.toml"), secret="test-secret"),
        follow_redirects=False,
    )


def _logout(project: Path) -> None:
    client = _app(project)
    log_in(client)
    client.post("/logout", data={"csrf": csrf(client.get("/").text)})


CHANGES: dict[str, Callable[[Path], None]] = {
    "log-out elsewhere": _logout,
    "removal": lambda project: remove_user(project / "users.toml", "ana"),
    "new password": lambda project: set_password(
        project / "users.toml", "ana", "another long passphrase"
    ),
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
    answer = client.post(
        "/login", data={"csrf": token, "name": "ana", "password": "another long passphrase"}
    )
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
    assert (
        runner.invoke(
            cli, ["users", "add", "cy", "--role", "approver", "--password", PASSWORD], env=env
        ).exit_code
        == 0
    )
    listed = runner.invoke(cli, ["users", "list"], env=env)
    assert listed.output.splitlines() == ["bo  recruiter", "cy  approver"]
    gone = runner.invoke(cli, ["users", "remove", "bo"], env=env)
    assert gone.exit_code == 0 and "its sessions have ended" in gone.output
    assert runner.invoke(cli, ["users", "remove", "bo"], env=env).exit_code == 2
    changed = runner.invoke(cli, ["users", "passwd", "cy", "--password", "x" * 20], env=env)
    assert changed.exit_code == 0 and Users(path).check("cy", "x" * 20) is not None
    assert [p.name for p in tmp_path.iterdir()] == ["users.toml"]  # no temporary file left


def _config_with(project: Path, web: str) -> None:
    config = project / "jobpub.toml"
    config.write_text(config.read_text() + f"\n[web]\n{web}\n")


def test_a_forged_forwarded_for_from_an_untrusted_peer_changes_nothing(site: Path) -> None:
    _config_with(site, 'trusted_proxies = ["10.0.0.5"]')
    config = load_config(site / "jobpub.toml")
    app = create_app(
        config,
        Users(site / "users.toml"),
        secret="test-secret",
        limiter=LoginLimiter(max_delay=0.0),
    )
    attacker = TestClient(app, follow_redirects=False, client=("203.0.113.9", 5000))
    token = csrf(attacker.get("/login").text)
    codes = [
        attacker.post(
            "/login",
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
            data={"csrf": token, "name": "ana", "password": f"guess {n}"},
        ).status_code
        for n in range(20)
    ]
    assert codes == [401] * 5 + [429] * 15  # the header of an untrusted peer is ignored
    user = TestClient(app, follow_redirects=False, client=("192.0.2.44", 5001))
    answer = user.post(
        "/login", data={"csrf": csrf(user.get("/login").text), "name": "ana", "password": PASSWORD}
    )
    assert answer.status_code == 303  # ana is not locked out; only the guesser's address
    # Behind the trusted proxy each client is counted on its own address.
    proxy = TestClient(app, follow_redirects=False, client=("10.0.0.5", 443))
    token = csrf(proxy.get("/login").text)
    for _ in range(6):
        proxy.post(
            "/login",
            headers={"X-Forwarded-For": "evil, 203.0.113.77"},
            data={"csrf": token, "name": "ana", "password": "wrong"},
        )
    blocked = proxy.post(
        "/login",
        headers={"X-Forwarded-For": "203.0.113.77"},
        data={"csrf": token, "name": "ana", "password": PASSWORD},
    )
    other = proxy.post(
        "/login",
        headers={"X-Forwarded-For": "203.0.113.78"},
        data={"csrf": token, "name": "ana", "password": PASSWORD},
    )
    assert (blocked.status_code, other.status_code) == (429, 303)


def test_failures_slow_a_name_down_and_a_success_resets_it() -> None:
    limiter = LoginLimiter()
    delays = []
    for _ in range(6):
        delays.append(limiter.delay("ana"))
        limiter.failed("203.0.113.9", "ana")
    assert delays == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0] and limiter.delay("ana") == 8.0
    assert limiter.delay("bo") == 0.0
    limiter.succeeded("ana")
    assert limiter.delay("ana") == 0.0


def test_the_cookie_is_secure_when_the_public_url_is_https(site: Path) -> None:
    _config_with(site, 'public_url = "https://jobs.example.com/app"')
    client = _app(site)
    assert "secure" in client.get("/login").headers["set-cookie"].lower()


def test_a_token_session_ends_at_log_out_across_restarts(site: Path) -> None:
    config = load_config(site / "jobpub.toml")

    def app() -> TestClient:
        return TestClient(
            create_app(config, Users(None, token="a-long-shared-token"), secret="test-secret"),
            follow_redirects=False,
        )

    client = app()
    answer = client.post(
        "/login",
        data={
            "csrf": csrf(client.get("/login").text),
            "name": "",
            "password": "a-long-shared-token",
        },
    )
    assert answer.status_code == 303 and client.get("/").status_code == 200
    cookie = client.cookies["jobpub_session"]
    client.post("/logout", data={"csrf": csrf(client.get("/").text)})
    restarted = app()
    restarted.cookies.set("jobpub_session", cookie)
    assert restarted.get("/").headers["location"] == "/login"
    again = restarted.post(
        "/login",
        data={
            "csrf": csrf(restarted.get("/login").text),
            "name": "",
            "password": "a-long-shared-token",
        },
    )
    assert again.status_code == 303 and restarted.get("/").status_code == 200
