-- Partner accounts (Green API's Partner API): greenfleet lists their instances with
-- getInstances and keeps the registry in step. partner_token is a secret like instances.token:
-- write-only through the API (a hint is shown), stored as given until the instance-token cipher
-- covers it too.
CREATE TABLE partners (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  name              TEXT    NOT NULL UNIQUE,
  api_url           TEXT    NOT NULL,           -- partnerApiUrl
  partner_token     TEXT    NOT NULL,           -- SECRET: partnerToken; never leaves the store unmasked
  tags              TEXT    NOT NULL DEFAULT '[]',  -- given to the instances it registers
  api_url_template  TEXT    NOT NULL,           -- apiUrl of its instances; may use {first4}
  created_at        INTEGER NOT NULL,           -- unix milliseconds
  updated_at        INTEGER NOT NULL,
  last_sync         TEXT                        -- JSON of the last sync result; NULL before the first
);
-- Instances a partner sync registered (NULL: registered by hand, never touched by a sync; a
-- deleted account leaves its instances registered by hand). expired_at: the partner lists the
-- instance as deleted or expired; polling stopped, history kept.
ALTER TABLE instances ADD COLUMN partner_id INTEGER REFERENCES partners(id) ON DELETE SET NULL;
ALTER TABLE instances ADD COLUMN expired_at INTEGER;
CREATE INDEX instances_partner ON instances(partner_id);
