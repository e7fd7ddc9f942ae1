"""Shared pytest set-up. Fixtures live in their own modules, listed here."""
import os
import tempfile

# No test may touch a developer's data/pcn.db: anything that opens the default store without
# its own URL lands in a throwaway folder instead.
os.environ["PCN_DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='pcn-tests-')}/default.db"
os.environ.pop("PCN_MATRIX_DIR", None)

pytest_plugins = ["store_fixtures", "app_fixtures"]
