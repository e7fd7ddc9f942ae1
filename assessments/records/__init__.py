"""The records: the only package that knows there is a database (SQLAlchemy, Alembic).

tables.py     every table; engine.py the URL, engine and migrations; unit_of_work.py the one
way to read and write; queries.py typed reads for the pages; bulk.py the fast paths (backup,
restore, generated data, workshop ratings).
"""
from .engine import database_url, head_revision, make_engine, migrate, reset_sequences
from .unit_of_work import Database, Reader, UnitOfWork, audit_text

__all__ = ["Database", "Reader", "UnitOfWork", "audit_text", "database_url", "head_revision", "make_engine",
           "migrate", "reset_sequences"]
