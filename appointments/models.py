"""The built-in affiliate registry and schedule, on the application database (migration 0015).

These tables stand in for the institute's own systems (`appointments/ports.py` says where those
plug in); `ventanilla seed-demo` fills them with fictitious people and units.

Two rules are kept by the database itself, whatever runs at once: a slot has at most one pending
appointment, and a person at most one pending appointment per service (partial unique indexes).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UtcDateTime, utcnow


class Service(StrEnum):
    FAMILY_MEDICINE = "medicina_familiar"
    DENTISTRY = "estomatologia"


SERVICE_NAMES = {Service.FAMILY_MEDICINE: "Medicina familiar", Service.DENTISTRY: "Dentista"}


class Shift(StrEnum):
    MORNING = "matutino"
    AFTERNOON = "vespertino"


class Status(StrEnum):
    PENDING = "pendiente"
    CANCELLED = "cancelada"
    PAST = "pasada"  # its time went by (attended or not): it no longer blocks a new one


class Umf(Base):
    """A Unidad de Medicina Familiar."""

    __tablename__ = "umfs"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(64))
    municipality: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(255))
    services: Mapped[list[str]] = mapped_column(JSON, default=list)


class Affiliate(Base):
    """A person with a right to care: a holder (titular) or a beneficiary registered under the
    holder's NSS. The NSS and CURP pair names one person."""

    __tablename__ = "affiliates"
    __table_args__ = (UniqueConstraint("nss", "curp", name="uq_affiliate_nss_curp"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    nss: Mapped[str] = mapped_column(String(11), index=True)
    curp: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("affiliates.id"), default=None)
    relationship: Mapped[str] = mapped_column(String(32), default="titular")
    umf_id: Mapped[int] = mapped_column(ForeignKey("umfs.id"), index=True)
    consultorio: Mapped[int] = mapped_column(Integer)
    shift: Mapped[Shift] = mapped_column(String(16))
    coverage_until: Mapped[date] = mapped_column(Date)
    services: Mapped[list[str]] = mapped_column(JSON, default=list)  # what they may book


class Slot(Base):
    """A time a consultorio of a unit can see someone for a service."""

    __tablename__ = "appointment_slots"
    __table_args__ = (
        UniqueConstraint("umf_id", "service", "consultorio", "starts_at", name="uq_slot_time"),
        Index("ix_slot_search", "umf_id", "service", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    umf_id: Mapped[int] = mapped_column(ForeignKey("umfs.id"))
    service: Mapped[Service] = mapped_column(String(32))
    consultorio: Mapped[int] = mapped_column(Integer)
    shift: Mapped[Shift] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)


PENDING_ONLY = text("status = 'pendiente'")


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        Index(
            "uq_appointment_slot_pending",
            "slot_id",
            unique=True,
            sqlite_where=PENDING_ONLY,
            postgresql_where=PENDING_ONLY,
        ),
        Index(
            "uq_appointment_person_service_pending",
            "affiliate_id",
            "service",
            unique=True,
            sqlite_where=PENDING_ONLY,
            postgresql_where=PENDING_ONLY,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    folio: Mapped[str] = mapped_column(String(16), unique=True)
    affiliate_id: Mapped[int] = mapped_column(ForeignKey("affiliates.id"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("appointment_slots.id"), index=True)
    service: Mapped[Service] = mapped_column(String(32))
    status: Mapped[Status] = mapped_column(String(16), default=Status.PENDING)
    # The conversation it was booked in (its opaque key, as Rasa knows it): the reminder goes
    # back the same way.
    conversation_key: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
