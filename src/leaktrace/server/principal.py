"""Who is asking, and what they may see and change: the centre sees every tenant, a tenant user only its own."""

from __future__ import annotations

from dataclasses import dataclass, field

from leaktrace.errors import NotFoundError, PermissionDeniedError
from leaktrace.server.db import CENTRE

WRITE_ROLES = ("centre-analyst", "tenant-analyst")


@dataclass(frozen=True)
class Principal:
    """An authenticated user: name, roles per tenant (``""`` = every tenant, the centre), how they came in."""

    user_id: int
    name: str
    roles: dict[str, str] = field(default_factory=dict)  # tenant ("" for all) -> role
    via: str = "token"  # token | session

    @property
    def is_centre(self) -> bool:
        return self.roles.get("") == CENTRE

    @property
    def role(self) -> str:
        """The strongest role, for display."""
        if self.is_centre:
            return CENTRE
        order = {"tenant-analyst": 0, "tenant-viewer": 1}
        return min(self.roles.values(), key=lambda r: order.get(r, 9), default="none")

    @property
    def manages_accounts(self) -> bool:
        """May manage some accounts (the Users page): the centre, and a tenant's analysts (their tenant's)."""
        return self.is_centre or "tenant-analyst" in self.roles.values()

    def tenant_role(self, tenant: str) -> str | None:
        return self.roles.get("") if self.is_centre else self.roles.get(tenant)

    def can_read(self, tenant: str | None) -> bool:
        if self.is_centre:
            return True
        return tenant is not None and tenant in self.roles

    def can_write(self, tenant: str | None) -> bool:
        if tenant is None:
            return self.is_centre
        return self.tenant_role(tenant) in WRITE_ROLES

    def tenants(self, known: list[str]) -> list[str]:
        """The tenants this principal sees, among ``known``."""
        return list(known) if self.is_centre else [t for t in known if t in self.roles]

    def check_read(self, tenant: str | None, what: str) -> None:
        """Another tenant's object does not exist for this principal: raise the same 404 as a missing one."""
        if not self.can_read(tenant):
            raise NotFoundError(f"no {what}")

    def check_write(self, tenant: str | None, what: str) -> None:
        self.check_read(tenant, what)
        if not self.can_write(tenant):
            raise PermissionDeniedError(f"{self.name} ({self.tenant_role(tenant or '')}) may not change {what}")
