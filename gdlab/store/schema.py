"""The SQLite schema of a gdlab store, and its version."""

SCHEMA_VERSION = 1
APP_ID = "gdlab"

DDL = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- One row per finished run (one phenomenon, one resolved config, one seed). A run is
-- inserted whole, with its series, in one transaction when it ends: there are no
-- half-written runs. status: done | diverged | failed.
CREATE TABLE IF NOT EXISTS runs (
    id            INTEGER PRIMARY KEY,
    phenomenon    TEXT    NOT NULL,
    config_hash   TEXT    NOT NULL,
    seed          INTEGER NOT NULL,
    preset        TEXT    NOT NULL,
    config_json   TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('done', 'diverged', 'failed')),
    started_at    REAL    NOT NULL,
    finished_at   REAL    NOT NULL,
    seconds       REAL    NOT NULL,
    gdlab_version TEXT    NOT NULL,
    torch_version TEXT    NOT NULL,
    device        TEXT    NOT NULL,
    host          TEXT    NOT NULL,
    values_json   TEXT    NOT NULL,
    error         TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_key ON runs (phenomenon, config_hash, seed, status);
CREATE TABLE IF NOT EXISTS series (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name   TEXT    NOT NULL,
    step   INTEGER NOT NULL,
    value  REAL
);
CREATE INDEX IF NOT EXISTS series_by_run ON series (run_id, name);
-- A verdict is computed from a set of runs (run_ids, JSON list) of one config.
CREATE TABLE IF NOT EXISTS verdicts (
    id            INTEGER PRIMARY KEY,
    phenomenon    TEXT    NOT NULL,
    config_hash   TEXT    NOT NULL,
    preset        TEXT    NOT NULL,
    created_at    REAL    NOT NULL,
    status        TEXT    NOT NULL,
    seeds_holding INTEGER NOT NULL,
    n_seeds       INTEGER NOT NULL,
    run_ids       TEXT    NOT NULL,
    verdict_json  TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS verdicts_by_name ON verdicts (phenomenon, created_at);
CREATE TABLE IF NOT EXISTS artifacts (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER REFERENCES runs (id) ON DELETE CASCADE,
    verdict_id INTEGER REFERENCES verdicts (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    mime       TEXT NOT NULL,
    data       BLOB NOT NULL,
    created_at REAL NOT NULL
);
"""
