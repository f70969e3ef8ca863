-- The registry (instances, api_keys) is written synchronously; status and events are derived
-- from probes and may lag by up to one batch.
CREATE TABLE instances (
  id          INTEGER PRIMARY KEY,            -- Green API idInstance (int64, up to 12+ digits)
  api_url     TEXT    NOT NULL,
  token       TEXT    NOT NULL,               -- apiTokenInstance; never leaves the store unmasked
  name        TEXT    NOT NULL DEFAULT '',
  tags        TEXT    NOT NULL DEFAULT '[]',  -- JSON array of strings
  created_at  INTEGER NOT NULL,               -- unix milliseconds
  updated_at  INTEGER NOT NULL,
  enabled     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX instances_name ON instances(name);

CREATE TABLE instance_status (
  id                    INTEGER PRIMARY KEY REFERENCES instances(id) ON DELETE CASCADE,
  state                 TEXT,                 -- upstream stateInstance verbatim; NULL = not yet probed
  state_since           INTEGER,
  needs_scan            INTEGER NOT NULL DEFAULT 0,
  attention             TEXT    NOT NULL DEFAULT 'none',
  last_checked_at       INTEGER,
  last_ok_at            INTEGER,
  consecutive_failures  INTEGER NOT NULL DEFAULT 0,
  last_error_code       TEXT,
  last_error            TEXT,                 -- scrubbed of tokens before it gets here
  phone                 TEXT,
  next_check_at         INTEGER
);
CREATE INDEX instance_status_state ON instance_status(state);
CREATE INDEX instance_status_needs_scan ON instance_status(needs_scan, state_since);

CREATE TABLE state_events (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  id          INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  from_state  TEXT,
  to_state    TEXT,
  source      TEXT    NOT NULL                -- poll | webhook | action
);
CREATE INDEX state_events_id ON state_events(id, seq);
CREATE INDEX state_events_at ON state_events(at);

CREATE TABLE api_keys (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  name          TEXT    NOT NULL,
  role          TEXT    NOT NULL CHECK (role IN ('read', 'admin')),
  hash          TEXT    NOT NULL UNIQUE,        -- SHA-256 hex of the key; the key itself is never stored
  created_at    INTEGER NOT NULL,
  last_used_at  INTEGER,
  revoked_at    INTEGER
);
