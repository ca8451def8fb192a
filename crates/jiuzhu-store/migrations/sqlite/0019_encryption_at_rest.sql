-- Encryption at rest (docs/security.md, "Encryption at rest"). persons.phone, illness_note and
-- bank_account, and the same fields inside person_history.facts, hold SM4-GCM ciphertexts
-- (`sm4gcm:<key id>:…`) made by the store with the data key kept outside the database; the
-- binary encrypts the plaintext of older databases at its first start with a key. A bank account
-- is found by exact value through its blind index (HMAC-SM3), never by its text.
ALTER TABLE persons ADD COLUMN bank_account_bidx TEXT;
-- Partial: most persons have no account, and an import should not pay an index entry for each
-- of them (a lookup `bank_account_bidx = …` implies IS NOT NULL and uses it).
CREATE INDEX persons_bank_account_bidx ON persons (bank_account_bidx)
    WHERE bank_account_bidx IS NOT NULL;

-- The keys this database's values were encrypted with (ids only, never key material), and a
-- check value of the blind-index key: a start with a key file that lacks one of these keys, or
-- has another blind-index key, is refused instead of failing on every read. `complete` (0/1):
-- every stored value is a ciphertext of this key, so a start need not look for plaintext.
CREATE TABLE data_keys (
    key_id         TEXT PRIMARY KEY NOT NULL,
    index_check    TEXT NOT NULL,
    registered_at  TEXT NOT NULL,
    complete       INTEGER NOT NULL
);
