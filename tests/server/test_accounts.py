"""Users, passwords, tokens and the CLI (`leaktrace user add | user list`, `token create`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from leaktrace.cli.app import app, load_commands
from leaktrace.errors import AuthError, ConflictError, LeaktraceError, NotFoundError
from leaktrace.respond.store import ActionStore
from leaktrace.server.accounts import Accounts
from leaktrace.server.crypto import hash_password, verify_password
from leaktrace.server.principal import Principal
from leaktrace.workspace import Workspace


def test_password_hash_is_salted_and_checked() -> None:
    a, b = hash_password("s3cret-password"), hash_password("s3cret-password")
    assert a != b and a.startswith("scrypt$") and "s3cret" not in a
    assert verify_password("s3cret-password", a) and not verify_password("s3cret-passworD", a)
    for broken in (None, "", "md5$x", "scrypt$1$2$3$!!$??", a[:-4]):
        assert not verify_password("s3cret-password", broken)


def test_principal_rules() -> None:
    centre = Principal(1, "c", {"": "centre-analyst"})
    viewer = Principal(2, "v", {"ministry": "tenant-viewer"})
    assert centre.can_write("anything") and centre.can_read(None) and centre.role == "centre-analyst"
    assert viewer.can_read("ministry") and not viewer.can_write("ministry") and not viewer.can_read("agency")
    assert not viewer.can_read(None)  # objects of no tenant (manual blocks, login failures): centre only
    with pytest.raises(NotFoundError):
        viewer.check_write("agency", "incident X")
    with pytest.raises(LeaktraceError, match="may not change"):
        viewer.check_write("ministry", "incident X")


@pytest.fixture
def accounts(ws: Workspace) -> Accounts:
    return Accounts.for_workspace(ws, ActionStore.for_workspace(ws))


def test_add_user_validation(accounts: Accounts) -> None:
    with pytest.raises(LeaktraceError, match="needs --tenant"):
        accounts.add_user("a", "tenant-analyst")
    with pytest.raises(LeaktraceError, match="covers every tenant"):
        accounts.add_user("a", "centre-analyst", "default")
    with pytest.raises(LeaktraceError, match="unknown role"):
        accounts.add_user("a", "admin")
    with pytest.raises(NotFoundError, match="no tenant 'nowhere'"):
        accounts.add_user("a", "tenant-viewer", "nowhere")
    with pytest.raises(LeaktraceError, match="at least"):
        accounts.add_user("a", "centre-analyst", password="short")
    with pytest.raises(LeaktraceError, match="not a valid user name"):
        accounts.add_user("a b", "centre-analyst")
    accounts.add_user("a", "tenant-viewer", "default", "long enough password")
    with pytest.raises(ConflictError):
        accounts.add_user("a", "tenant-viewer", "default")
    assert [(u.name, u.roles, u.has_password) for u in accounts.users()] == [("a", {"default": "tenant-viewer"},
                                                                            True)]


def test_sessions_expire(accounts: Accounts) -> None:
    accounts.add_user("s", "centre-analyst", password="long enough password")
    who, new = accounts.login("s", "long enough password", session_hours=1)
    assert accounts.from_session(new.session_id)[0].name == "s"
    with pytest.raises(AuthError):
        accounts.from_session("forged")
    from datetime import timedelta

    later = accounts.clock() + timedelta(hours=2)
    accounts.clock = lambda: later
    with pytest.raises(AuthError, match="expired"):
        accounts.from_session(new.session_id)


def test_cli_user_and_token(ws: Workspace, tmp_path: Path) -> None:
    load_commands()
    runner = CliRunner()
    w = ["-w", str(ws.root)]
    r = runner.invoke(app, ["user", "add", "tanaka", "--role", "tenant-analyst", "--tenant", "default",
                            "--password-stdin", *w], input="a long password here\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["user", "add", "centre", "--role", "centre-analyst", *w])  # no tty: token-only user
    assert r.exit_code == 0 and "no password" in r.output
    r = runner.invoke(app, ["user", "list", *w])
    assert r.exit_code == 0 and "tanaka" in r.output and "tenant-analyst" in r.output and "(all)" in r.output
    r = runner.invoke(app, ["token", "create", "centre", "--label", "siem", *w])
    assert r.exit_code == 0
    token = r.stdout.strip().splitlines()[0]
    assert token.startswith("lt_")
    acc = Accounts.for_workspace(ws)
    assert acc.from_token(token).name == "centre"
    assert acc.login("tanaka", "a long password here")[0].name == "tanaka"
    events = [e.event for e in ActionStore.for_workspace(ws).audit_entries()]
    assert events.count("user-add") == 2 and "token-create" in events
    assert all(token not in (e.reason + e.target) for e in ActionStore.for_workspace(ws).audit_entries())


def test_repeated_failures_throttle_a_name(accounts: Accounts) -> None:
    from leaktrace.server.accounts import MAX_FAILURES

    accounts.add_user("t", "centre-analyst", password="long enough password")
    for _ in range(MAX_FAILURES):
        with pytest.raises(AuthError, match="wrong user name or password"):
            accounts.login("t", "not the password")
    with pytest.raises(AuthError, match="too many failed logins"):
        accounts.login("t", "long enough password")
    events = [e.event for e in accounts.audit.audit_entries()]
    assert events.count("login-fail") == MAX_FAILURES and events[-1] == "login-throttled"
    from datetime import timedelta

    later = accounts.clock() + timedelta(minutes=16)
    accounts.clock = lambda: later
    assert accounts.login("t", "long enough password")[0].name == "t"


def test_disable_password_change_and_token_revoke(ws: Workspace) -> None:
    load_commands()
    runner = CliRunner()
    w = ["-w", str(ws.root)]
    assert runner.invoke(app, ["user", "add", "sato", "--role", "tenant-analyst", "--tenant", "default",
                               "--password-stdin", *w], input="first long password\n").exit_code == 0
    token = runner.invoke(app, ["token", "create", "sato", "--label", "siem", *w]).stdout.strip().splitlines()[0]
    acc = Accounts.for_workspace(ws)
    _, session = acc.login("sato", "first long password")
    # a disabled user: the open session ends at once, the token stops working, no new login
    r = runner.invoke(app, ["user", "disable", "sato", *w])
    assert r.exit_code == 0, r.output
    with pytest.raises(AuthError):
        acc.from_session(session.session_id)
    with pytest.raises(AuthError):
        acc.from_token(token)
    with pytest.raises(AuthError):
        acc.login("sato", "first long password")
    assert "disabled" in runner.invoke(app, ["user", "list", *w]).output
    assert runner.invoke(app, ["user", "enable", "sato", *w]).exit_code == 0
    assert acc.from_token(token).name == "sato"
    # a new password replaces the old one
    r = runner.invoke(app, ["user", "passwd", "sato", "--password-stdin", *w], input="second long password\n")
    assert r.exit_code == 0, r.output
    with pytest.raises(AuthError):
        acc.login("sato", "first long password")
    assert acc.login("sato", "second long password")[0].name == "sato"
    # tokens are listed by their first characters only, and a revoked one is refused
    listing = runner.invoke(app, ["token", "list", "sato", *w]).output
    assert token[:10] in listing and token not in listing
    (info,) = acc.tokens("sato")
    assert runner.invoke(app, ["token", "revoke", str(info.id), *w]).exit_code == 0
    with pytest.raises(AuthError, match="revoked"):
        acc.from_token(token)
    assert acc.tokens("sato")[0].revoked
    events = [e.event for e in ActionStore.for_workspace(ws).audit_entries()]
    assert {"user-disable", "user-enable", "password-set", "token-revoke"} <= set(events)
    assert all("long password" not in (e.reason + e.target) for e in ActionStore.for_workspace(ws).audit_entries())


def test_cli_keeps_the_last_active_centre_analyst(ws: Workspace) -> None:
    load_commands()
    runner = CliRunner()
    w = ["-w", str(ws.root)]
    acc = Accounts.for_workspace(ws)
    acc.add_user("c1", "centre-analyst", actor="test")
    acc.add_user("c2", "centre-analyst", actor="test")
    acc.add_user("v", "tenant-viewer", "default", actor="test")
    assert runner.invoke(app, ["user", "disable", "c1", *w]).exit_code == 0
    r = runner.invoke(app, ["user", "disable", "c2", *w])
    assert isinstance(r.exception, ConflictError) and "last active centre-analyst" in str(r.exception)
    assert acc.user("c2").active
    assert runner.invoke(app, ["user", "disable", "v", *w]).exit_code == 0  # other roles are not counted
    assert runner.invoke(app, ["user", "enable", "c1", *w]).exit_code == 0
    assert runner.invoke(app, ["user", "disable", "c2", *w]).exit_code == 0
    # a token revoked twice is audited once; changes name the user's tenant, so its users see them
    token, info = acc.issue_token("v", "x", actor="test")
    assert acc.revoke_token(info.id).revoked and acc.revoke_token(info.id).revoked
    entries = [e for e in acc.audit.audit_entries() if e.event == "token-revoke"]
    assert [e.target for e in entries] == ["tenant:default/user:v"]
    assert [e.target for e in acc.audit.audit_entries() if e.event == "user-disable"] == [
        "user:c1", "tenant:default/user:v", "user:c2"]
