-- Bots: the SHA-256 of a bot's key secret (NULL: no key works) and where its
-- webhooks go ('' for none). People have neither.
ALTER TABLE users ADD COLUMN bot_key_hash BLOB;
ALTER TABLE users ADD COLUMN webhook_url TEXT NOT NULL DEFAULT '';
