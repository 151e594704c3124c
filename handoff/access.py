"""Who on the staff may see and change which handoff, and the errors they get otherwise.

Campaign scopes are core's (`core.accounts.access.can_see`: an agent sees only their campaigns; a
supervisor the campaigns in their scope, all when none is set; an admin everything; an editor
nothing). A handoff outside one's scope is a 404, so its existence is not revealed.

Called by the agents' desk (desk.py), the agents' API (router.py) and the supervisors' API
(supervision.py).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.access import can_see
from core.accounts.models import User
from core.errors import ApiError
from handoff.models import Handoff, HandoffStatus


class HandoffError(ApiError):
    """A request that cannot be done now: an HTTP status, a code and a Spanish message."""


NOT_FOUND = HandoffError(404, "not_found", "No existe esa conversación o no tienes acceso a ella.")


async def visible(session: AsyncSession, user: User, handoff_id: int) -> Handoff:
    """The handoff, when `user` may see it; NOT_FOUND otherwise."""
    handoff = await session.get(Handoff, handoff_id)
    if handoff is None or not can_see(user, handoff.campaign):
        raise NOT_FOUND
    return handoff


async def assigned_to(
    session: AsyncSession, user: User, handoff_id: int, supervisor_ok: bool = False
) -> Handoff:
    """The handoff, when it is assigned to `user` (or `user` supervises and `supervisor_ok`)."""
    handoff = await visible(session, user, handoff_id)
    if handoff.status != HandoffStatus.ASSIGNED:
        raise HandoffError(
            409, "not_assigned", "Esta conversación no está en atención: tómala primero."
        )
    mine = handoff.agent == user.username
    if not mine and not (supervisor_ok and user.role in ("supervisor", "admin")):
        raise HandoffError(403, "not_yours", "Esta conversación la atiende otra persona.")
    return handoff
