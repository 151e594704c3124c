"""Knowledge base: articles, revisions, feedback, unanswered questions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.String(120), primary_key=True),
        sa.Column("campaign", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("current_revision_id", sa.Integer()),
        sa.Column("live_revision_id", sa.Integer()),
        sa.Column("submitted_by", sa.String(64)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_kb_articles_campaign", "kb_articles", ["campaign"])
    op.create_index("ix_kb_articles_status", "kb_articles", ["status"])
    op.create_table(
        "kb_revisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("article_id", sa.String(120), sa.ForeignKey("kb_articles.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(64)),
        sa.Column("note", sa.String(255), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("article_id", "number", name="uq_kb_revision_number"),
    )
    op.create_index("ix_kb_revisions_article_id", "kb_revisions", ["article_id"])
    op.create_table(
        "kb_feedback",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("article_id", sa.String(120), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_kb_feedback_article_id", "kb_feedback", ["article_id"])
    op.create_table(
        "kb_unanswered",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("campaign", sa.String(32)),
        sa.Column("score", sa.Float()),
        sa.Column("resolved_article_id", sa.String(120)),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("kb_unanswered", "kb_feedback", "kb_revisions", "kb_articles"):
        op.drop_table(table)
