"""Results store: SQLite, WAL, versioned schema; runs, series, verdicts, artifacts.

`gdlab.store.query` reads a store into pandas frames (the ``export`` extra).
"""

from gdlab.store.query import runs_frame as runs_frame
from gdlab.store.query import series_frame as series_frame
from gdlab.store.query import verdicts_frame as verdicts_frame
from gdlab.store.schema import SCHEMA_VERSION as SCHEMA_VERSION
from gdlab.store.sqlite import Store as Store
from gdlab.store.sqlite import StoredRun as StoredRun
from gdlab.store.sqlite import StoredVerdict as StoredVerdict

__all__ = [
    "SCHEMA_VERSION",
    "Store",
    "StoredRun",
    "StoredVerdict",
    "runs_frame",
    "series_frame",
    "verdicts_frame",
]
