/**
 * Versioned schema migrations, in code. `PRAGMA user_version` holds the applied version; a database
 * written by a newer etld (a higher version) is refused rather than guessed at.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the initial schema
  `
  CREATE TABLE pipelines (
    name TEXT PRIMARY KEY,
    paused INTEGER NOT NULL DEFAULT 0,
    paused_at TEXT,
    last_fire_at TEXT,
    last_skip_reason TEXT,
    last_skip_at TEXT,
    committed_sequence INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    pipeline TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    status TEXT NOT NULL,
    trigger TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    rows_extracted INTEGER NOT NULL DEFAULT 0,
    rows_loaded INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    verdict TEXT,
    error_code TEXT,
    error_message TEXT,
    first_failure_at TEXT,
    plan_json TEXT
  );
  CREATE INDEX runs_by_pipeline ON runs (pipeline, created_at DESC);
  CREATE INDEX runs_by_status ON runs (status);
  CREATE TABLE run_parts (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    part_id TEXT NOT NULL,
    shard TEXT,
    chunk INTEGER,
    status TEXT NOT NULL,
    rows INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    estimated_rows INTEGER,
    error_code TEXT,
    error_message TEXT,
    started_at TEXT,
    finished_at TEXT,
    PRIMARY KEY (run_id, part_id)
  );
  CREATE TABLE watermarks (
    pipeline TEXT NOT NULL,
    shard TEXT NOT NULL,
    value TEXT NOT NULL,
    boundary_json TEXT NOT NULL DEFAULT '[]',
    sequence INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (pipeline, shard)
  );
  CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline TEXT NOT NULL,
    kind TEXT NOT NULL,
    run_id TEXT,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT
  );
  CREATE INDEX alerts_by_pipeline ON alerts (pipeline, created_at DESC);
  CREATE TABLE schema_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline TEXT NOT NULL,
    columns_json TEXT NOT NULL,
    recorded_at TEXT NOT NULL
  );
  CREATE INDEX schema_by_pipeline ON schema_history (pipeline, id DESC);
  `,
  // 2: content-hash boundaries name their columns; runs report excluded rows and notes
  `
  ALTER TABLE watermarks ADD COLUMN identity_json TEXT;
  ALTER TABLE runs ADD COLUMN rows_excluded INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN notes_json TEXT;
  CREATE TABLE state_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline TEXT NOT NULL,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
  );
  CREATE INDEX state_changes_by_pipeline ON state_changes (pipeline, id DESC);
  `,
  // 3: CPU seconds by stage of a run
  `
  ALTER TABLE runs ADD COLUMN stages_json TEXT;
  `,
  // 4: data quality check results of a run
  `
  ALTER TABLE runs ADD COLUMN checks_json TEXT;
  `,
  // 5: the file that defines each pipeline (a second file claiming its name does not take it over)
  `
  ALTER TABLE pipelines ADD COLUMN file TEXT;
  `,
  // 6: run kinds (full refresh, backfill with its range), who asked for a run or made a change,
  // each change's values before and after; fleet-wide run listings by time
  `
  ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'normal';
  ALTER TABLE runs ADD COLUMN backfill_json TEXT;
  ALTER TABLE runs ADD COLUMN requested_by TEXT;
  ALTER TABLE state_changes ADD COLUMN actor TEXT;
  ALTER TABLE state_changes ADD COLUMN shards_json TEXT;
  CREATE INDEX runs_by_created ON runs (created_at DESC);
  `,
  // 7: keyset paging of the fleet-wide lists: runs and alerts in their listing order (ties broken
  // by sequence and pipeline, or id), and a run's attempts found by (pipeline, sequence)
  `
  DROP INDEX runs_by_created;
  CREATE INDEX runs_by_start ON runs (created_at DESC, sequence DESC, pipeline DESC);
  DROP INDEX runs_by_pipeline;
  CREATE INDEX runs_by_pipeline ON runs (pipeline, created_at DESC, sequence DESC, attempt DESC);
  CREATE INDEX runs_by_run ON runs (pipeline, sequence, attempt);
  CREATE INDEX alerts_by_time ON alerts (created_at DESC, id DESC);
  `,
  // 8: the file ledger of `files` sources: each file a pipeline loaded or quarantined, by key, so
  // that a file is loaded exactly once; listed by status in key order (etlctl files)
  `
  CREATE TABLE source_files (
    pipeline TEXT NOT NULL,
    key TEXT NOT NULL,
    size INTEGER NOT NULL,
    version TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    status TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    reason TEXT,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (pipeline, key)
  );
  CREATE INDEX source_files_by_status ON source_files (pipeline, status, key);
  `,
  // 9: the tables of a multi-table run: each table is a run of its own (its own state name and
  // sequence, in runs); this row ties it to the pipeline's run and keeps the table's outcome
  `
  CREATE TABLE run_tables (
    pipeline TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    table_name TEXT NOT NULL,
    member TEXT NOT NULL,
    member_sequence INTEGER,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    rows_extracted INTEGER NOT NULL DEFAULT 0,
    rows_loaded INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    verdict TEXT,
    error_code TEXT,
    error_message TEXT,
    retryable INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (pipeline, sequence, table_name)
  );
  CREATE INDEX run_tables_by_table ON run_tables (pipeline, table_name, sequence DESC);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
