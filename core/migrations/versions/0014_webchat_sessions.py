"""Web chat sessions: the browser's secret is no longer the conversation's sender. Secrets are
stored as SHA-256, rotated at each `hello`, and a session left idle ends
(`connectors/webchat/sessions.py`). Conversations from before keep working: their sender, which
browsers hold, becomes their first secret.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

import hashlib
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sessions = op.create_table(
        "webchat_sessions",
        sa.Column("sender", sa.String(255), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    secrets = op.create_table(
        "webchat_secrets",
        sa.Column("secret_sha256", sa.String(64), primary_key=True),
        sa.Column(
            "sender",
            sa.String(255),
            sa.ForeignKey("webchat_sessions.sender", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("valid_until", sa.DateTime(timezone=True), index=True),
    )
    senders = [
        row[0]
        for row in op.get_bind().execute(
            sa.text("SELECT sender FROM conversations WHERE channel = 'webchat'")
        )
    ]
    now = datetime.now(UTC)
    if senders:
        op.bulk_insert(
            sessions, [{"sender": s, "created_at": now, "last_seen_at": now} for s in senders]
        )
        op.bulk_insert(
            secrets,
            [
                {"secret_sha256": hashlib.sha256(s.encode()).hexdigest(), "sender": s}
                for s in senders
            ],
        )


def downgrade() -> None:
    op.drop_table("webchat_secrets")
    op.drop_table("webchat_sessions")
