"""Results store: SQLite, WAL, versioned schema; runs, series, verdicts, artifacts."""

from gdlab.store.schema import SCHEMA_VERSION as SCHEMA_VERSION
from gdlab.store.sqlite import Store as Store
from gdlab.store.sqlite import StoredRun as StoredRun
from gdlab.store.sqlite import StoredVerdict as StoredVerdict

__all__ = ["SCHEMA_VERSION", "Store", "StoredRun", "StoredVerdict"]
