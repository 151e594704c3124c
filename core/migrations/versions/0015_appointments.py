"""Appointments (Cita Médica): the built-in affiliate registry and schedule
(`appointments/models.py`). A slot has at most one pending appointment, and a person at most one
pending appointment per service: partial unique indexes, so the database keeps both rules under
any concurrency.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

PENDING_ONLY = sa.text("status = 'pendiente'")


def upgrade() -> None:
    op.create_table(
        "umfs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("municipality", sa.String(64), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
    )
    op.create_table(
        "affiliates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("nss", sa.String(11), nullable=False, index=True),
        sa.Column("curp", sa.String(18), nullable=False, unique=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("holder_id", sa.Integer(), sa.ForeignKey("affiliates.id")),
        sa.Column("relationship", sa.String(32), nullable=False),
        sa.Column("umf_id", sa.Integer(), sa.ForeignKey("umfs.id"), nullable=False, index=True),
        sa.Column("consultorio", sa.Integer(), nullable=False),
        sa.Column("shift", sa.String(16), nullable=False),
        sa.Column("coverage_until", sa.Date(), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.UniqueConstraint("nss", "curp", name="uq_affiliate_nss_curp"),
    )
    op.create_table(
        "appointment_slots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("umf_id", sa.Integer(), sa.ForeignKey("umfs.id"), nullable=False),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("consultorio", sa.Integer(), nullable=False),
        sa.Column("shift", sa.String(16), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("umf_id", "service", "consultorio", "starts_at", name="uq_slot_time"),
    )
    op.create_index("ix_slot_search", "appointment_slots", ["umf_id", "service", "starts_at"])
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("folio", sa.String(16), nullable=False, unique=True),
        sa.Column(
            "affiliate_id", sa.Integer(), sa.ForeignKey("affiliates.id"), nullable=False, index=True
        ),
        sa.Column(
            "slot_id",
            sa.Integer(),
            sa.ForeignKey("appointment_slots.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("conversation_key", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True)),
        sa.Column("reminded_at", sa.DateTime(timezone=True)),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    for name, columns in (
        ("uq_appointment_slot_pending", ["slot_id"]),
        ("uq_appointment_person_service_pending", ["affiliate_id", "service"]),
    ):
        op.create_index(
            name,
            "appointments",
            columns,
            unique=True,
            sqlite_where=PENDING_ONLY,
            postgresql_where=PENDING_ONLY,
        )


def downgrade() -> None:
    op.drop_table("appointments")
    op.drop_table("appointment_slots")
    op.drop_table("affiliates")
    op.drop_table("umfs")
