-- apiTokenInstance encrypted at rest (AES-256-GCM, key outside the database). From here on
-- instances.token holds base64(nonce ‖ ciphertext ‖ tag) and token_key_id the id of the key
-- that sealed it. A row with token_key_id NULL still holds its token in clear: SQL cannot run
-- AES, so start-up (and `greenfleet migrate`) seals such rows in C++ right after migrating,
-- in one transaction.
ALTER TABLE instances ADD COLUMN token_key_id TEXT;
-- The rows still in clear, found at start without scanning the table (empty once sealed, so it
-- costs sealed inserts nothing).
CREATE INDEX instances_clear_token ON instances(id) WHERE token_key_id IS NULL;
