-- Webhooks greenfleet sets up on its instances (configure-webhook): the instance's own
-- webhookUrlToken, sealed like instances.token (AES-256-GCM under the secrets key, key id beside
-- it), the webhookUrl greenfleet set, and what the last getSettings showed. A row exists only
-- for instances greenfleet configured or verified, so instances without one read as unknown.
CREATE TABLE instance_webhooks (
  id            INTEGER PRIMARY KEY REFERENCES instances(id) ON DELETE CASCADE,
  token         TEXT,                              -- SECRET: sealed webhookUrlToken, NULL if never set
  token_key_id  TEXT,                              -- key id that sealed `token`
  url           TEXT,                              -- webhookUrl greenfleet set
  status        TEXT    NOT NULL DEFAULT 'unknown', -- configured, missing, mismatch or unknown
  checked_at    INTEGER,                           -- unix milliseconds of the last getSettings
  updated_at    INTEGER NOT NULL
);
CREATE INDEX instance_webhooks_status ON instance_webhooks(status);
