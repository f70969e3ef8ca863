-- Health sweeps (POST /api/v1/sweeps): progress while running, the report once done. The run
-- is kept as the JSON the API answers, so old sweeps read back exactly as they were reported.
CREATE TABLE sweeps (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at   INTEGER NOT NULL,       -- unix milliseconds
  finished_at  INTEGER,
  status       TEXT    NOT NULL,       -- running | done | failed
  created_by   TEXT,                   -- API key name
  body         TEXT    NOT NULL        -- the sweep as GET /api/v1/sweeps/{id} answers it
);
CREATE INDEX sweeps_created_at ON sweeps(created_at);
