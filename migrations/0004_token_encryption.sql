-- apiTokenInstance encrypted at rest (AES-256-GCM, key outside the database). From here on
-- instances.token holds base64(nonce ‖ ciphertext ‖ tag) and token_key_id the id of the key
-- that sealed it. A row with token_key_id NULL still holds its token in clear: SQL cannot run
-- AES, so start-up (and `greenfleet migrate`) seals such rows in C++ right after migrating,
-- in one transaction.
ALTER TABLE instances ADD COLUMN token_key_id TEXT;
