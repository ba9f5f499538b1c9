"""Users, tenants, roles, API tokens and browser sessions (the library under ``leaktrace user`` / ``token`` and
the server's authentication). Every change, and every failed login, goes to the audit log.

Account management by a signed-in user (the ``/api/v1/users`` routes and the web UI's Users page) goes through
:meth:`Accounts.managed_by`, which applies who may manage whom:

* a ``centre-analyst`` manages every account and may create users of any role;
* a ``tenant-analyst`` manages only the accounts whose roles all lie in tenants where it is itself an analyst
  (itself included), and may create only ``tenant-analyst`` / ``tenant-viewer`` users of such a tenant. Any other
  account (another tenant's, a centre analyst's, one that also belongs elsewhere) does not exist for it: 404, as
  for another tenant's incident; its API tokens likewise;
* a ``tenant-viewer`` manages nothing, not even its own account: 403 (its own tokens come from ``/me/tokens``);
* nobody disables themselves, and the last active ``centre-analyst`` is never disabled (409);
* a password set for someone else ends that user's open sessions (its API tokens stay until revoked).

User names are unique across tenants, so creating a name taken in another tenant answers 409 "already exists".
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from leaktrace.errors import AuthError, ConflictError, LeaktraceError, NotFoundError, PermissionDeniedError
from leaktrace.respond.store import ActionStore
from leaktrace.server.crypto import (
    DUMMY_HASH,
    hash_password,
    new_secret,
    new_token,
    sha256_hex,
    verify_password,
)
from leaktrace.server.db import (
    CENTRE,
    ROLES,
    MembershipRow,
    ServerBase,
    SessionRow,
    TenantRow,
    TokenRow,
    UserRow,
    aware,
    utcnow,
)
from leaktrace.server.principal import Principal
from leaktrace.statedb import engine_for


def tenant_target(tenant: str | None, target: str) -> str:
    """An audit target that names its tenant (``tenant:T/user:x``), so tenant users see their own entries."""
    return f"tenant:{tenant}/{target}" if tenant else target


NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
MIN_PASSWORD = 10
MAX_FAILURES, FAILURE_WINDOW = 10, timedelta(minutes=15)  # then logins of that name wait (brute force)
TENANT_ANALYST = "tenant-analyst"


def check_password(password: str) -> None:
    """Refuse a password that is too short (the message never repeats it)."""
    if len(password) < MIN_PASSWORD:
        raise LeaktraceError(f"the password must have at least {MIN_PASSWORD} characters")


@dataclass(frozen=True)
class UserInfo:
    name: str
    roles: dict[str, str]
    active: bool
    created: datetime
    has_password: bool
    tokens: int

    @property
    def role(self) -> str:
        return Principal(0, self.name, dict(self.roles)).role


@dataclass(frozen=True)
class NewSession:
    session_id: str  # goes into the cookie; only its SHA-256 is stored
    csrf_token: str
    expires: datetime


@dataclass(frozen=True)
class TokenInfo:
    id: int
    user: str
    label: str
    prefix: str
    created: datetime
    last_used: datetime | None
    revoked: bool


class Accounts:
    """The server's own tables on the workspace's state database, and the audit log they write to."""

    def __init__(self, url: str, audit: ActionStore, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine_for(url, ServerBase.metadata)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self.audit = audit
        self.clock = clock
        self._failures: dict[str, list[datetime]] = {}
        self._failures_lock = threading.Lock()

    @classmethod
    def for_workspace(cls, ws: Any, audit: ActionStore | None = None) -> Accounts:
        accounts = cls(ws.state_url, audit or ActionStore.for_workspace(ws))
        display = {t.name: t.display_name for t in ws.config.tenants}
        accounts.ensure_tenants([(n, display.get(n)) for n in ws.config.tenant_names()])
        return accounts

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._session() as s, s.begin():
            yield s

    # -- tenants ---------------------------------------------------------------------------------------------
    def ensure_tenants(self, tenants: list[tuple[str, str | None]]) -> None:
        """Make sure the tenants named in the config exist (display names follow the config)."""
        with self.session() as s:
            for name, display in tenants:
                row = s.get(TenantRow, name)
                if row is None:
                    s.add(TenantRow(name=name, display_name=display))
                elif display and row.display_name != display:
                    row.display_name = display

    def tenants(self) -> list[TenantRow]:
        with self.session() as s:
            return list(s.scalars(select(TenantRow).order_by(TenantRow.name)))

    def tenant_names(self) -> list[str]:
        return [t.name for t in self.tenants()]

    # -- users -----------------------------------------------------------------------------------------------
    def add_user(self, name: str, role: str, tenant: str | None = None, password: str | None = None,
                 actor: str = "leaktrace") -> UserInfo:
        """Create a user with one role (``tenant`` required for tenant roles, refused for the centre role)."""
        if not NAME.match(name):
            raise LeaktraceError(f"'{name}' is not a valid user name (letters, digits, . _ @ -; at most 100)")
        if role not in ROLES:
            raise LeaktraceError(f"unknown role '{role}' (one of: {', '.join(ROLES)})")
        if role == CENTRE and tenant:
            raise LeaktraceError("the centre-analyst role covers every tenant: give no --tenant")
        if role != CENTRE and not tenant:
            raise LeaktraceError(f"role {role} needs --tenant")
        if tenant and tenant not in self.tenant_names():
            raise NotFoundError(f"no tenant '{tenant}' (known: {', '.join(self.tenant_names())})")
        if password is not None:
            check_password(password)
        with self.session() as s:
            if s.scalars(select(UserRow).where(UserRow.name == name)).first() is not None:
                raise ConflictError(f"user '{name}' already exists")
            user = UserRow(name=name, password_hash=hash_password(password) if password else None,
                           created=self.clock())
            s.add(user)
            s.flush()
            s.add(MembershipRow(user_id=user.id, tenant=tenant or "", role=role))
        self.audit.audit("user-add", actor, target=tenant_target(tenant, f"user:{name}"),
                         reason=f"role {role}" + (f" in tenant {tenant}" if tenant else ""))
        return self.user(name)

    def set_password(self, name: str, password: str, actor: str = "leaktrace", end_sessions: bool = False) -> None:
        """Set a user's password (audited, never the password); ``end_sessions`` ends its open browser sessions."""
        check_password(password)
        with self.session() as s:
            user = self._user(s, name)
            user.password_hash = hash_password(password)
            if end_sessions:
                s.execute(delete(SessionRow).where(SessionRow.user_id == user.id))
            target = self._target(s, user)
        self.audit.audit("password-set", actor, target=target,
                         reason="open sessions ended" if end_sessions else "")

    def set_active(self, name: str, active: bool, actor: str = "leaktrace") -> None:
        """Disable a user (its sessions end at once; its tokens stop working) or enable it again. The last active
        centre analyst cannot be disabled (:class:`ConflictError`): someone must be able to manage the rest."""
        with self.session() as s:
            user = self._user(s, name)
            if not active and user.active and self._roles(s, user.id).get("") == CENTRE:
                centres = s.scalars(select(UserRow.id).join(MembershipRow, MembershipRow.user_id == UserRow.id)
                                    .where(MembershipRow.tenant == "", MembershipRow.role == CENTRE,
                                           UserRow.active.is_(True)).with_for_update()).all()
                if set(centres) <= {user.id}:
                    raise ConflictError(f"'{name}' is the last active centre-analyst: add or enable another "
                                        "centre-analyst before disabling it")
            user.active = active
            if not active:
                s.execute(delete(SessionRow).where(SessionRow.user_id == user.id))
            target = self._target(s, user)
        self.audit.audit("user-enable" if active else "user-disable", actor, target=target)

    @staticmethod
    def _user(s: Session, name: str) -> UserRow:
        user = s.scalars(select(UserRow).where(UserRow.name == name)).first()
        if user is None:
            raise NotFoundError(f"no user '{name}'")
        return user

    @staticmethod
    def _roles(s: Session, user_id: int) -> dict[str, str]:
        return {m.tenant: m.role for m in s.scalars(select(MembershipRow).where(MembershipRow.user_id == user_id))}

    def _target(self, s: Session, user: UserRow) -> str:
        """The audit target of a change to ``user``: naming its tenant when it has exactly one (so that tenant's
        users see the entry in their audit log), else the user alone (the centre's log)."""
        roles = self._roles(s, user.id)
        own = [t for t in roles if t]
        return tenant_target(own[0] if len(own) == 1 and "" not in roles else None, f"user:{user.name}")

    def _info(self, s: Session, user: UserRow) -> UserInfo:
        tokens = len(list(s.scalars(select(TokenRow.id).where(TokenRow.user_id == user.id,
                                                               TokenRow.revoked.is_(False)))))
        return UserInfo(name=user.name, roles=self._roles(s, user.id), active=user.active,
                        created=aware(user.created), has_password=bool(user.password_hash), tokens=tokens)

    def user(self, name: str) -> UserInfo:
        with self.session() as s:
            return self._info(s, self._user(s, name))

    def users(self) -> list[UserInfo]:
        with self.session() as s:
            return [self._info(s, u) for u in s.scalars(select(UserRow).order_by(UserRow.name))]

    def principal(self, name: str, via: str = "token") -> Principal:
        with self.session() as s:
            user = self._user(s, name)
            return Principal(user.id, user.name, self._roles(s, user.id), via)

    # -- passwords and sessions ------------------------------------------------------------------------------
    def login(self, name: str, password: str, session_hours: float = 12.0) -> tuple[Principal, NewSession]:
        """Check a password and open a browser session; a failure is audited (without the password). After
        ``MAX_FAILURES`` failures of one name within ``FAILURE_WINDOW`` its logins are refused for a while."""
        now = self.clock()
        with self._failures_lock:
            recent = [t for t in self._failures.get(name, []) if now - t < FAILURE_WINDOW]
            self._failures[name] = recent
        if len(recent) >= MAX_FAILURES:
            self.audit.audit("login-throttled", name[:100] or "-", target=f"user:{name[:80]}",
                             reason=f"{len(recent)} failed logins within {FAILURE_WINDOW}")
            raise AuthError("too many failed logins for this name: try again in a few minutes")
        with self.session() as s:
            user = s.scalars(select(UserRow).where(UserRow.name == name)).first()
            ok = verify_password(password, user.password_hash if user else DUMMY_HASH)
            user_id = None if user is None or not ok or not user.active else user.id
        if user_id is None:
            with self._failures_lock:
                self._failures.setdefault(name, []).append(now)
            self.audit.audit("login-fail", name[:100] or "-", target=f"user:{name[:80]}",
                             reason="wrong user name or password")
            raise AuthError("wrong user name or password")
        new = NewSession(session_id=new_secret(), csrf_token=new_secret(),
                         expires=self.clock() + timedelta(hours=session_hours))
        with self.session() as s:
            s.execute(delete(SessionRow).where(SessionRow.expires < self.clock()))
            s.add(SessionRow(id_sha256=sha256_hex(new.session_id), user_id=user_id, csrf_token=new.csrf_token,
                             created=self.clock(), expires=new.expires))
        who = self.principal(name, via="session")
        own = [t for t in who.roles if t]
        self.audit.audit("login", name, target=tenant_target(own[0] if len(own) == 1 else None, f"user:{name}"),
                         reason="browser session opened")
        return who, new

    def from_session(self, session_id: str) -> tuple[Principal, str]:
        """The principal and CSRF token of a live session."""
        with self.session() as s:
            row = s.get(SessionRow, sha256_hex(session_id))
            if row is None or aware(row.expires) <= self.clock():
                raise AuthError("not logged in, or the session expired")
            user = s.get(UserRow, row.user_id)
            if user is None or not user.active:
                raise AuthError("not logged in, or the session expired")
            return Principal(user.id, user.name, self._roles(s, user.id), "session"), row.csrf_token

    def logout(self, session_id: str) -> None:
        with self.session() as s:
            s.execute(delete(SessionRow).where(SessionRow.id_sha256 == sha256_hex(session_id)))

    # -- API tokens ------------------------------------------------------------------------------------------
    def create_token(self, name: str, label: str = "", actor: str | None = None) -> str:
        """A new API token for user ``name``; returns the token itself (shown once, stored as SHA-256)."""
        return self.issue_token(name, label, actor)[0]

    def issue_token(self, name: str, label: str = "", actor: str | None = None) -> tuple[str, TokenInfo]:
        """A new API token for user ``name`` and its listing (id, prefix, …); the token is shown once."""
        token = new_token()
        with self.session() as s:
            user = self._user(s, name)
            row = TokenRow(user_id=user.id, label=label[:100], token_sha256=sha256_hex(token), prefix=token[:10],
                           created=self.clock())
            s.add(row)
            s.flush()
            token_id, target = row.id, self._target(s, user)
        self.audit.audit("token-create", actor or name, target=target,
                         reason=f"API token {token_id} {token[:10]}… {label}".strip())
        return token, self.token(token_id)

    def tokens(self, name: str | None = None) -> list[TokenInfo]:
        """API tokens (never the tokens themselves: their first characters, label and use)."""
        with self.session() as s:
            q = select(TokenRow, UserRow.name).join(UserRow, UserRow.id == TokenRow.user_id).order_by(TokenRow.id)
            if name is not None:
                q = q.where(UserRow.name == self._user(s, name).name)
            return [TokenInfo(id=t.id, user=user, label=t.label, prefix=t.prefix, created=aware(t.created),
                              last_used=aware(t.last_used) if t.last_used else None, revoked=t.revoked)
                    for t, user in s.execute(q)]

    def token(self, token_id: int) -> TokenInfo:
        with self.session() as s:
            found = s.execute(select(TokenRow, UserRow.name).join(UserRow, UserRow.id == TokenRow.user_id)
                              .where(TokenRow.id == token_id)).first()
            if found is None:
                raise NotFoundError(f"no API token {token_id}")
            t, user = found
            return TokenInfo(id=t.id, user=user, label=t.label, prefix=t.prefix, created=aware(t.created),
                             last_used=aware(t.last_used) if t.last_used else None, revoked=t.revoked)

    def revoke_token(self, token_id: int, actor: str = "leaktrace") -> TokenInfo:
        """Revoke an API token (audited); revoking a revoked one changes nothing and is not audited again."""
        with self.session() as s:
            row = s.get(TokenRow, token_id)
            if row is None:
                raise NotFoundError(f"no API token {token_id}")
            already = row.revoked
            row.revoked = True
            user = s.get(UserRow, row.user_id)
            target = self._target(s, user) if user else "user:?"
        if not already:
            self.audit.audit("token-revoke", actor, target=target, reason=f"API token {token_id}")
        return self.token(token_id)

    def from_token(self, token: str) -> Principal:
        with self.session() as s:
            row = s.scalars(select(TokenRow).where(TokenRow.token_sha256 == sha256_hex(token))).first()
            if row is None or row.revoked:
                raise AuthError("unknown or revoked API token")
            user = s.get(UserRow, row.user_id)
            if user is None or not user.active:
                raise AuthError("unknown or revoked API token")
            row.last_used = self.clock()
            return Principal(user.id, user.name, self._roles(s, user.id), "token")

    # -- management by a signed-in user ----------------------------------------------------------------------
    def managed_by(self, who: Principal) -> AccountManager:
        """These accounts as ``who`` may see and change them (the API and the web UI; rules in the docstring)."""
        return AccountManager(self, who)


class AccountManager:
    """The accounts one signed-in user may manage, and the changes it may make; each change audited with that
    user as the actor. A tenant-viewer gets :class:`PermissionDeniedError` (403) for everything; an account a
    tenant-analyst may not manage gets the same :class:`NotFoundError` (404) as a missing one."""

    def __init__(self, accounts: Accounts, who: Principal) -> None:
        self.accounts = accounts
        self.who = who

    def _admin_tenants(self) -> set[str]:
        """The tenants whose accounts this user manages (not the centre's: it manages all)."""
        return {t for t, r in self.who.roles.items() if t and r == TENANT_ANALYST}

    def _require(self) -> None:
        if not self.who.manages_accounts:
            raise PermissionDeniedError(f"{self.who.name} ({self.who.role}) may not manage accounts")

    def manages(self, roles: dict[str, str]) -> bool:
        """Whether an account with these roles (tenant -> role, ``""`` the centre) is this user's to manage."""
        if self.who.is_centre:
            return True
        own = self._admin_tenants()
        return bool(roles) and all(t in own for t in roles)

    def roles_offered(self) -> list[str]:
        """The roles this user may give a new account."""
        if self.who.is_centre:
            return list(ROLES)
        return [r for r in ROLES if r != CENTRE] if self._admin_tenants() else []

    def tenants_offered(self) -> list[str]:
        """The tenants this user may create accounts in."""
        known = self.accounts.tenant_names()
        return known if self.who.is_centre else [t for t in known if t in self._admin_tenants()]

    def users(self) -> list[UserInfo]:
        self._require()
        return [u for u in self.accounts.users() if self.manages(u.roles)]

    def user(self, name: str) -> UserInfo:
        self._require()
        try:
            info: UserInfo | None = self.accounts.user(name)
        except NotFoundError:
            info = None
        if info is None or not self.manages(info.roles):
            raise NotFoundError(f"no user '{name}'")
        return info

    def add_user(self, name: str, role: str, tenant: str | None = None, password: str | None = None) -> UserInfo:
        """Create a user. A tenant-analyst creates tenant roles of its own tenant only (``tenant`` defaults to it
        when it has one); another tenant is 404 to it, as everywhere else."""
        self._require()
        tenant = tenant or None
        if not self.who.is_centre:
            own = sorted(self._admin_tenants())
            if role == CENTRE:
                raise PermissionDeniedError(f"{self.who.name} ({self.who.role}) may create only "
                                            f"{' or '.join(r for r in ROLES if r != CENTRE)} users")
            if tenant is None:
                if len(own) != 1:
                    raise LeaktraceError(f"give the tenant of the new user (one of: {', '.join(own)})")
                tenant = own[0]
            if tenant not in own:
                if not self.who.can_read(tenant):
                    raise NotFoundError(f"no tenant '{tenant}'")
                raise PermissionDeniedError(f"{self.who.name} may create users only in a tenant where it is "
                                            f"a {TENANT_ANALYST}")
        elif role in ROLES and role != CENTRE and tenant is None:
            raise LeaktraceError(f"role {role} needs a tenant")
        return self.accounts.add_user(name, role, tenant, password, actor=self.who.name)

    def update(self, name: str, active: bool | None = None, password: str | None = None) -> UserInfo:
        """Enable or disable a user, and/or set its password; checked in full before anything changes. Nobody
        disables themselves; the last active centre-analyst stays (:meth:`Accounts.set_active`)."""
        info = self.user(name)
        if active is None and password is None:
            raise LeaktraceError("nothing to change: give 'active' and/or 'password'")
        if password is not None:
            check_password(password)
        if active is False and info.name == self.who.name:
            raise ConflictError("you cannot disable your own account: another user who manages it must")
        if active is not None and active != info.active:
            self.accounts.set_active(info.name, active, actor=self.who.name)
        if password is not None:
            self.accounts.set_password(info.name, password, actor=self.who.name,
                                       end_sessions=info.name != self.who.name)
        return self.accounts.user(info.name)

    def tokens(self, name: str) -> list[TokenInfo]:
        return self.accounts.tokens(self.user(name).name)

    def create_token(self, name: str, label: str = "") -> tuple[str, TokenInfo]:
        """A new API token for a managed user: (the token, shown once; its listing)."""
        return self.accounts.issue_token(self.user(name).name, label, actor=self.who.name)

    def token(self, token_id: int) -> TokenInfo:
        self._require()
        try:
            info: TokenInfo | None = self.accounts.token(token_id)
        except NotFoundError:
            info = None
        if info is None or not self.manages(self.accounts.user(info.user).roles):
            raise NotFoundError(f"no API token {token_id}")
        return info

    def revoke_token(self, token_id: int) -> TokenInfo:
        return self.accounts.revoke_token(self.token(token_id).id, actor=self.who.name)
