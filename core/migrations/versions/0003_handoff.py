"""Handoff queue: handoffs, their event table, agents' presence, internal notes, callbacks.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "conversation_id", sa.Integer(), sa.ForeignKey("conversations.id"), nullable=False
        ),
        sa.Column("campaign", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("agent", sa.String(64)),
        sa.Column("offered_to", sa.String(64)),
        sa.Column("offered_at", TS),
        sa.Column("declined_by", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("enqueued_at", TS, nullable=False),
        sa.Column("assigned_at", TS),
        sa.Column("first_response_at", TS),
        sa.Column("closed_at", TS),
        sa.Column("disposition", sa.String(32)),
        sa.Column("csat", sa.Integer()),
        sa.Column("notified_position", sa.Integer()),
        sa.Column("notified_at", TS),
        sa.Column("user_left_at", TS),
    )
    op.create_index("ix_handoffs_conversation_id", "handoffs", ["conversation_id"])
    op.create_index("ix_handoffs_campaign", "handoffs", ["campaign"])
    op.create_index("ix_handoffs_status", "handoffs", ["status"])
    op.create_index("ix_handoffs_agent", "handoffs", ["agent"])
    # At most one open handoff per conversation, whoever asks at the same time (partial index).
    op.create_index(
        "uq_handoffs_open_conversation",
        "handoffs",
        ["conversation_id"],
        unique=True,
        sqlite_where=sa.text("status IN ('waiting', 'offered', 'assigned')"),
        postgresql_where=sa.text("status IN ('waiting', 'offered', 'assigned')"),
    )
    op.create_table(
        "handoff_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("campaign", sa.String(32)),
        sa.Column("conversation_id", sa.Integer()),
        sa.Column("handoff_id", sa.Integer()),
        sa.Column("agent", sa.String(64)),
        sa.Column("channel", sa.String(32)),
        sa.Column("value", sa.Float()),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_handoff_events_kind", "handoff_events", ["kind"])
    op.create_index("ix_handoff_events_created_at", "handoff_events", ["created_at"])
    op.create_index("ix_handoff_events_campaign", "handoff_events", ["campaign"])
    op.create_index("ix_handoff_events_handoff_id", "handoff_events", ["handoff_id"])
    op.create_table(
        "agent_presence",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("max_conversations", sa.Integer(), nullable=False),
        sa.Column("last_seen_at", TS),
        sa.Column("last_assigned_at", TS),
        sa.Column("changed_at", TS, nullable=False),
    )
    op.create_table(
        "handoff_notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("handoff_id", sa.Integer(), sa.ForeignKey("handoffs.id"), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_handoff_notes_handoff_id", "handoff_notes", ["handoff_id"])
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "conversation_id", sa.Integer(), sa.ForeignKey("conversations.id"), nullable=False
        ),
        sa.Column("campaign", sa.String(32), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("preferred_time", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_callbacks_conversation_id", "callbacks", ["conversation_id"])
    op.create_index("ix_callbacks_campaign", "callbacks", ["campaign"])


def downgrade() -> None:
    for table in ("callbacks", "handoff_notes", "agent_presence", "handoff_events", "handoffs"):
        op.drop_table(table)
