"""Every table of the records. The Alembic migrations in records/migrations create them: change
both together, with a new migration and its upgrade test.

Rows that people edit carry `version` (SQLAlchemy's version counter, so a save against a stale
version is caught in the UPDATE itself) and who last changed them and when: the `Versioned`
mixin. Every change to any row is also a row of `audit_log`, written by the unit of work.
"""
from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String,
                        Text, TypeDecorator, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from ..model import DRAFT

# Room for an id from a file in matrix/ (matrix, element, stage, pathway, ...): the schema allows
# 200 characters (migration 0008 widened these columns from 80).
ID = 200


class UTCDateTime(TypeDecorator):
    """Stored as naive UTC (same on SQLite and PostgreSQL), returned as aware UTC."""
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    pass


class Counted:
    """A `version` that SQLAlchemy checks and moves on every UPDATE of the row."""
    version: Mapped[int] = mapped_column(Integer, server_default="1", sort_order=90)

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.__table__.c.version}


class Versioned(Counted):
    """Counted, and stamped with who changed the row last and when."""
    updated_by: Mapped[str] = mapped_column(String(100), sort_order=80)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, sort_order=81)


class Created:
    created_by: Mapped[str] = mapped_column(String(100), sort_order=70)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, sort_order=71)


# ---------------------------------------------------------------------------------------------
# Organisations (ICS and PCN keep no "updated by": the audit log knows)

class IcsRow(Counted, Base):
    __tablename__ = "ics"
    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(100))
    default_matrix_id: Mapped[str | None] = mapped_column(String(ID))  # the matrix new years start on (0008)


class PcnRow(Counted, Base):
    __tablename__ = "pcn"
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    ics_code: Mapped[str] = mapped_column(String(3), ForeignKey("ics.code"), index=True)
    list_size: Mapped[int] = mapped_column(Integer)
    rural: Mapped[bool] = mapped_column(Boolean, server_default="0")
    practices: Mapped[list] = mapped_column(JSON)


# ---------------------------------------------------------------------------------------------
# Assessments and ratings

class AssessmentRow(Created, Versioned, Base):
    __tablename__ = "assessment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pcn_code: Mapped[str] = mapped_column(String(6), ForeignKey("pcn.code"))
    year: Mapped[str] = mapped_column(String(7), index=True)
    matrix_id: Mapped[str] = mapped_column(String(ID))
    matrix_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), server_default=DRAFT)
    revision_of: Mapped[int | None] = mapped_column(Integer)
    submitted_by: Mapped[str | None] = mapped_column(String(100))  # submitted for agreement (0006)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The ICS's side of the agreement (0009): who confirmed it (it became agreed), or who returned
    # it to the PCN as a draft, when, and why.
    confirmed_by: Mapped[str | None] = mapped_column(String(100))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_by: Mapped[str | None] = mapped_column(String(100))
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_comment: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        # One live (draft or agreed) assessment per PCN, year and matrix; superseded ones are history.
        Index("uq_assessment_live", "pcn_code", "year", "matrix_id", unique=True,
              sqlite_where=text("status <> 'superseded'"), postgresql_where=text("status <> 'superseded'")),
    )


class RatingRow(Versioned, Base):
    __tablename__ = "rating"
    assessment_id: Mapped[int] = mapped_column(Integer, ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True)
    element_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    current_stage: Mapped[str | None] = mapped_column(String(ID))
    target_stage: Mapped[str | None] = mapped_column(String(ID))
    evidence: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[str | None] = mapped_column(String(6))
    # Rated "does not apply here" (an element whose matrix allows it; 0008): no stage, left out of means.
    not_applicable: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Copied from an earlier year by "copy last year" and not reviewed since (0009). Only a server
    # default: the bulk inserts (imports) name the columns they set, and the database fills this in.
    carried_over: Mapped[bool] = mapped_column(Boolean, server_default="0")


class AuditRow(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    who: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(40))
    entity_key: Mapped[str] = mapped_column(String(300))  # widened in 0008
    field: Mapped[str] = mapped_column(String(80))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(300))
    actor_subject: Mapped[str | None] = mapped_column(String(200))  # the sign-in subject (migration 0006)
    actor_role: Mapped[str | None] = mapped_column(String(40))  # the role the change was made under
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_key"),)


# ---------------------------------------------------------------------------------------------
# Evidence items per element of an assessment (migration 0009). An attached file's bytes live in
# their own table, so listing evidence never reads them, and an item carried into a later year
# points at the same file instead of copying it.

class EvidenceFileRow(Created, Base):
    __tablename__ = "evidence_file"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))  # from the content, not the name
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class EvidenceRow(Created, Versioned, Base):
    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assessment_id: Mapped[int] = mapped_column(Integer, ForeignKey("assessment.id", ondelete="CASCADE"), index=True)
    element_id: Mapped[str] = mapped_column(String(ID))
    description: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(2000))
    file_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("evidence_file.id"), index=True)
    review_by: Mapped[date] = mapped_column(Date)
    carried_from_year: Mapped[str | None] = mapped_column(String(7))  # copied from that year's assessment
    confirmed_by: Mapped[str | None] = mapped_column(String(100))  # a carried-over item confirmed to still hold
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# ---------------------------------------------------------------------------------------------
# Development plans (migration 0003)

class PlanRow(Created, Versioned, Base):
    __tablename__ = "plan"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pcn_code: Mapped[str] = mapped_column(String(6), ForeignKey("pcn.code"))
    year: Mapped[str] = mapped_column(String(7))
    service_priority: Mapped[str | None] = mapped_column(Text)
    service_spec: Mapped[str | None] = mapped_column(String(ID))
    notes: Mapped[str | None] = mapped_column(Text)
    shared: Mapped[bool] = mapped_column(Boolean, server_default="0")  # with the ICS and commissioners (0006)
    shared_by: Mapped[str | None] = mapped_column(String(100))
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (Index("uq_plan_pcn_year", "pcn_code", "year", unique=True),)


class PlanPriorityRow(Base):
    __tablename__ = "plan_priority"
    plan_id: Mapped[int] = mapped_column(Integer, ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True)
    element_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)


class PlanActionRow(Versioned, Base):
    __tablename__ = "plan_action"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(Integer, ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    what: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200))
    due: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), server_default="not started")
    step: Mapped[int | None] = mapped_column(Integer)
    support_needed: Mapped[str | None] = mapped_column(Text)
    support_from: Mapped[str | None] = mapped_column(String(300))
    cost_pence: Mapped[int | None] = mapped_column(BigInteger)
    funding_source: Mapped[str | None] = mapped_column(String(80))
    funding_category: Mapped[str | None] = mapped_column(String(ID))
    # Linked to the plan's service-improvement priority (0010); links to elements are PlanActionLinkRow.
    for_service_priority: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


# ---------------------------------------------------------------------------------------------
# What plans are linked to, shared as, and the clinical director's part (migration 0010)

class PlanActionLinkRow(Base):
    """An action serves an element of the matrix (a chosen priority, or any other element)."""
    __tablename__ = "plan_action_link"
    action_id: Mapped[int] = mapped_column(Integer, ForeignKey("plan_action.id", ondelete="CASCADE"), primary_key=True)
    element_id: Mapped[str] = mapped_column(String(ID), primary_key=True)


class PlanShareRow(Base):
    """A version of the plan the PCN shared with its ICS and commissioners: the PDF as it was
    shared, never changed afterwards."""
    __tablename__ = "plan_share"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(Integer, ForeignKey("plan.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per plan
    plan_version: Mapped[int] = mapped_column(Integer)  # the plan's version the PDF was made from
    note: Mapped[str | None] = mapped_column(Text)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    shared_by: Mapped[str] = mapped_column(String(100))
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (Index("uq_plan_share", "plan_id", "number", unique=True),)


class PlanCdRow(Base):
    """The clinical director's development: per leadership area, what they want and who provides it."""
    __tablename__ = "plan_cd_development"
    plan_id: Mapped[int] = mapped_column(Integer, ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True)
    area_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)  # as the rules named it when saved
    wants: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str | None] = mapped_column(String(300))


# ---------------------------------------------------------------------------------------------
# Pathway (migration 0004)

class PathwayStepRow(Created, Versioned, Base):
    __tablename__ = "pathway_step"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pcn_code: Mapped[str] = mapped_column(String(6), ForeignKey("pcn.code"))
    year: Mapped[str] = mapped_column(String(7), index=True)
    pathway_id: Mapped[str] = mapped_column(String(ID))
    step_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), server_default="not started")
    date: Mapped[date | None] = mapped_column(Date)
    ticks: Mapped[list] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("uq_pathway_step", "pcn_code", "year", "pathway_id", "step_number", unique=True),)


# ---------------------------------------------------------------------------------------------
# Workshops (migration 0005). The workshop's version is moved by hand on every change to the
# workshop or anything in it (records.workshops.lock), so it is not SQLAlchemy's counter.

class WorkshopRow(Created, Base):
    __tablename__ = "workshop"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(12))
    pcn_code: Mapped[str] = mapped_column(String(6), ForeignKey("pcn.code"))
    year: Mapped[str] = mapped_column(String(7))
    matrix_id: Mapped[str] = mapped_column(String(ID))
    matrix_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(8), default="open")
    revealed: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    applied_by: Mapped[str | None] = mapped_column(String(100))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_assessment_id: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    rate_target: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")  # migration 0007
    __table_args__ = (
        Index("uq_workshop_code_live", "code", unique=True,
              sqlite_where=text("status <> 'closed'"), postgresql_where=text("status <> 'closed'")),
    )


class ParticipantRow(Base):
    __tablename__ = "workshop_participant"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workshop_id: Mapped[int] = mapped_column(Integer, ForeignKey("workshop.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (
        Index("uq_workshop_participant_name", "workshop_id", "name_key", unique=True),
        Index("uq_workshop_participant_token", "token_hash", unique=True),
    )


class ParticipantRatingRow(Base):
    __tablename__ = "workshop_rating"
    workshop_id: Mapped[int] = mapped_column(Integer, ForeignKey("workshop.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[int] = mapped_column(Integer, ForeignKey("workshop_participant.id", ondelete="CASCADE"),
                                                primary_key=True)
    element_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    stage: Mapped[str] = mapped_column(String(ID))
    target_stage: Mapped[str | None] = mapped_column(String(ID))  # migration 0007
    comment: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsensusRow(Base):
    __tablename__ = "workshop_consensus"
    workshop_id: Mapped[int] = mapped_column(Integer, ForeignKey("workshop.id", ondelete="CASCADE"), primary_key=True)
    element_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    stage: Mapped[str] = mapped_column(String(ID))
    target_stage: Mapped[str | None] = mapped_column(String(ID))  # migration 0007
    note: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


# ---------------------------------------------------------------------------------------------
# Sign-in and roles (migration 0006)

class RoleGrantRow(Base):
    __tablename__ = "role_grant"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    scope: Mapped[str] = mapped_column(String(6), server_default="")
    ics_code: Mapped[str | None] = mapped_column(String(3), ForeignKey("ics.code"))
    pcn_code: Mapped[str | None] = mapped_column(String(6), ForeignKey("pcn.code"))
    may_edit: Mapped[bool] = mapped_column(Boolean, server_default="0")
    granted_by: Mapped[str] = mapped_column(String(100))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (Index("uq_role_grant", "email", "role", "scope", unique=True),)


class PersonRow(Base):
    __tablename__ = "person"
    subject: Mapped[str] = mapped_column(String(200), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(100))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
