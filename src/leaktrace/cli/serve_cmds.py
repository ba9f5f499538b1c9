"""`leaktrace serve | user add | user list | token create` (thin over leaktrace.server)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from leaktrace.cli.app import WorkspaceOpt, app, console, open_workspace
from leaktrace.errors import LeaktraceError
from leaktrace.respond.service import current_user
from leaktrace.server.accounts import Accounts
from leaktrace.workspace import Workspace

user_app = typer.Typer(help="Users of the web UI and REST API (roles: centre-analyst, tenant-analyst, "
                            "tenant-viewer).", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (Authorization: Bearer).", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")


def _accounts(workspace: Path | None) -> Accounts:
    return Accounts.for_workspace(open_workspace(workspace))


@app.command()
def serve(
    workspace: WorkspaceOpt = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on (default [server] host, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default [server] port, 8080).")] = None,
) -> None:
    """Serve the REST API (/api/v1, OpenAPI at /api/v1/openapi.json) and the web UI."""
    import uvicorn

    from leaktrace.server import create_app

    ws = open_workspace(workspace)
    settings = ws.config.server
    app_ = create_app(ws)
    if not app_.state.ctx.accounts.users():
        console.print("[yellow]no users yet:[/] add one with `leaktrace user add NAME --role centre-analyst "
                      "--password-stdin`", soft_wrap=True)
    bind_host, bind_port = host or settings.host, port or settings.port
    console.print(f"leaktrace serving {ws.root} on http://{bind_host}:{bind_port}/ "
                  f"(API: /api/v1, OpenAPI: /api/v1/openapi.json)", soft_wrap=True)
    uvicorn.run(app_, host=bind_host, port=bind_port, log_level="info", access_log=True,
                proxy_headers=False, server_header=False)


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help="centre-analyst | tenant-analyst | tenant-viewer")],
    tenant: Annotated[str | None, typer.Option(help="Tenant of a tenant role.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                 help="Read the password from standard input.")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Add a user. Without --password-stdin the password is asked for (or none is set when not a terminal:
    the user then works with API tokens only)."""
    password = _read_password(name, password_stdin)
    info = _accounts(workspace).add_user(name, role, tenant, password, actor=current_user())
    console.print(f"added {info.name} ({role}{' in ' + tenant if tenant else ''})"
                  + ("" if info.has_password else "; no password: create an API token with `leaktrace token create`"))


def _read_password(name: str, from_stdin: bool) -> str | None:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise LeaktraceError("no password on standard input")
        return password
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {name}: ")
        if password != getpass.getpass("again: "):
            raise LeaktraceError("the passwords differ")
        return password
    return None


@user_app.command("passwd")
def user_passwd(
    name: Annotated[str, typer.Argument(help="User name.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                 help="Read the password from standard input.")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Set a user's password (audited; the password itself is never logged)."""
    password = _read_password(name, password_stdin)
    if password is None:
        raise LeaktraceError("give the password on a terminal or with --password-stdin")
    _accounts(workspace).set_password(name, password, actor=current_user())
    console.print(f"password of {name} set")


@user_app.command("disable")
def user_disable(name: Annotated[str, typer.Argument(help="User name.")], workspace: WorkspaceOpt = None) -> None:
    """Disable a user: its sessions end at once and its API tokens stop working."""
    _accounts(workspace).set_active(name, False, actor=current_user())
    console.print(f"{name} disabled")


@user_app.command("enable")
def user_enable(name: Annotated[str, typer.Argument(help="User name.")], workspace: WorkspaceOpt = None) -> None:
    """Enable a disabled user again."""
    _accounts(workspace).set_active(name, True, actor=current_user())
    console.print(f"{name} enabled")


@user_app.command("list")
def user_list(workspace: WorkspaceOpt = None) -> None:
    """List users with their roles."""
    table = Table(show_edge=False)
    for col in ("user", "role", "tenant", "password", "tokens", "active", "created"):
        table.add_column(col)
    for u in _accounts(workspace).users():
        for tenant, role in sorted(u.roles.items()) or [("", "")]:
            table.add_row(u.name, role, tenant or "(all)", "yes" if u.has_password else "no", str(u.tokens),
                          "yes" if u.active else "[red]disabled[/]", f"{u.created:%Y-%m-%d %H:%M}")
    console.print(table)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="The user the token acts as.")],
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Create an API token for a user and print it once (only its SHA-256 is kept)."""
    token = _accounts(workspace).create_token(name, label=label, actor=current_user())
    print(token)
    typer.echo("shown once: store it now; send it as `Authorization: Bearer <token>`", err=True)


@token_app.command("list")
def token_list(name: Annotated[str | None, typer.Argument(help="Only this user's tokens.")] = None,
               workspace: WorkspaceOpt = None) -> None:
    """List API tokens (their first characters, label, last use; never the tokens)."""
    table = Table(show_edge=False)
    for col in ("id", "user", "token", "label", "created", "last used", "state"):
        table.add_column(col)
    for t in _accounts(workspace).tokens(name):
        table.add_row(str(t.id), t.user, t.prefix + "…", t.label, f"{t.created:%Y-%m-%d %H:%M}",
                      f"{t.last_used:%Y-%m-%d %H:%M}" if t.last_used else "-",
                      "[red]revoked[/]" if t.revoked else "active")
    console.print(table)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="Token id (see `leaktrace token list`).")],
                 workspace: WorkspaceOpt = None) -> None:
    """Revoke an API token at once (audited)."""
    t = _accounts(workspace).revoke_token(token_id, actor=current_user())
    console.print(f"token {t.id} of {t.user} ({t.prefix}…) revoked")


def demo_stage(ws: Workspace, sim_dir: Path, truth: dict[str, Any]) -> None:
    """`leaktrace demo`, last step: two web UI users (a centre analyst, and the ministry's CSIRT analyst) with
    fresh random passwords, written to ``web-credentials.txt`` (owner-only) beside the workspace, and how to open
    the UI."""
    import os
    import secrets

    accounts = Accounts.for_workspace(ws)
    creds = {"centre": secrets.token_urlsafe(12), "csirt": secrets.token_urlsafe(12)}
    accounts.add_user("centre", "centre-analyst", password=creds["centre"], actor="demo")
    accounts.add_user("csirt", "tenant-analyst", tenant=ws.tenant, password=creds["csirt"], actor="demo")
    path = ws.root.parent / "web-credentials.txt"
    path.write_text("".join(f"{user} {pw}\n" for user, pw in creds.items()), encoding="utf-8")
    os.chmod(path, 0o600)
    settings = ws.config.server
    console.rule("web UI and REST API")
    console.print(
        f"start the server:  .venv/bin/leaktrace serve -w {ws.root}\n"
        f"then open:         http://{settings.host}:{settings.port}/  (API: /api/v1, OpenAPI: /api/v1/openapi.json)\n"
        f"log in as:         csirt / {creds['csirt']}  (the ministry's CSIRT, tenant {ws.tenant})\n"
        f"               or  centre / {creds['centre']}  (the monitoring centre, every tenant)\n"
        f"passwords saved in {path} (readable by you only)",
        soft_wrap=True,
    )
