-- Public scan links (/s/{token}): a phone holder opens one to scan an instance's QR or pair by
-- phone number without an API key. Only the SHA-256 of the link's token is stored; `hint` is its
-- last 4 characters, enough for an operator to tell links apart.
CREATE TABLE scan_links (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id  INTEGER NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
  token_hash   TEXT    NOT NULL UNIQUE,       -- SHA-256 hex of the token
  hint         TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,              -- unix milliseconds
  created_by   TEXT    NOT NULL,              -- API key name
  expires_at   INTEGER NOT NULL,
  opened_at    INTEGER,                       -- first open of the page
  ended_at     INTEGER,
  end_reason   TEXT                           -- revoked | authorized
);
CREATE INDEX scan_links_instance ON scan_links(instance_id, ended_at);
