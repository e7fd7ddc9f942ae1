"""Alembic environment. The store runs migrations itself (assessments.records.engine.migrate) and hands
over its connection; run by hand (`alembic -c <ini>`), it connects to PCN_DATABASE_URL."""
from alembic import context

from assessments.records.engine import database_url, make_engine
from assessments.records.tables import Base

config = context.config


def run(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or database_url())
    with engine.begin() as conn:
        run(conn)
    engine.dispose()
