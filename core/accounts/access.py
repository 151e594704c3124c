"""Who on the staff may see what: roles, and the campaigns in a staff member's scope.

An agent sees only their campaigns; a supervisor the campaigns in their scope, all when none is
set; an admin everything; an editor nothing. Every feature that shows conversations or what came
of them (the handoff's consoles and transcripts, the triage assessments) scopes them here, and
declares the roles a route needs with the typed aliases below (`StaffUser`, `SupervisorUser`,
`AgentUser`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from core.accounts.models import User
from core.accounts.router import CurrentUser
from core.campaigns import CAMPAIGNS
from core.errors import ApiError


def can_see(user: User, campaign: str) -> bool:
    """Whether a staff member may see a campaign's queue, conversations and records."""
    if user.role == "admin":
        return True
    if user.role == "supervisor":
        return not user.campaigns or campaign in user.campaigns
    return user.role == "agent" and campaign in user.campaigns


def scope(user: User) -> list[str]:
    """The campaign codes `user` may see."""
    return [code for code in CAMPAIGNS if can_see(user, code)]


def require(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise ApiError(403, "forbidden", "Tu rol no permite esta operación.")


def staff(user: CurrentUser) -> User:
    require(user, "agent", "supervisor", "admin")
    return user


def supervisors(user: CurrentUser) -> User:
    require(user, "supervisor", "admin")
    return user


def agents(user: CurrentUser) -> User:
    require(user, "agent")
    return user


StaffUser = Annotated[User, Depends(staff)]
SupervisorUser = Annotated[User, Depends(supervisors)]
AgentUser = Annotated[User, Depends(agents)]
