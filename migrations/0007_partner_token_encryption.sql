-- partners.partner_token encrypted at rest like instances.token (0004): from here on it holds
-- base64(nonce ‖ ciphertext ‖ tag), sealed with the partner id as associated data, and
-- token_key_id the id of the key that sealed it. A row with token_key_id NULL still holds its
-- token in clear (accounts created before this migration): start-up (and `greenfleet migrate`)
-- seals such rows in C++ right after migrating, in the transaction that seals clear instance
-- rows.
ALTER TABLE partners ADD COLUMN token_key_id TEXT;
-- The rows still in clear, found at start without scanning the table.
CREATE INDEX partners_clear_token ON partners(id) WHERE token_key_id IS NULL;
