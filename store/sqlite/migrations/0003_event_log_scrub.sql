-- Replays carry a message's current state: editing a message rewrites the
-- data of its earlier events, deleting it turns them into tombstones, and
-- deleting a boost does the same to its boost.created. These columns find
-- a message's and a boost's events.
ALTER TABLE room_events ADD COLUMN message_id INTEGER;
ALTER TABLE room_events ADD COLUMN boost_id INTEGER;

UPDATE room_events SET message_id = json_extract(data, '$.id')
	WHERE type IN ('message.created', 'message.updated');
UPDATE room_events SET message_id = json_extract(data, '$.message_id'), boost_id = json_extract(data, '$.id')
	WHERE type = 'boost.created';

CREATE INDEX room_events_message ON room_events (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX room_events_boost ON room_events (boost_id) WHERE boost_id IS NOT NULL;

-- What earlier versions kept: the first text of edited messages, the text
-- of deleted ones, and deleted boosts.
UPDATE room_events SET data = (SELECT latest.data FROM room_events latest
		WHERE latest.message_id = room_events.message_id AND latest.type = 'message.updated'
		ORDER BY latest.seq DESC LIMIT 1)
	WHERE type IN ('message.created', 'message.updated')
	AND EXISTS (SELECT 1 FROM room_events later WHERE later.message_id = room_events.message_id
		AND later.type = 'message.updated' AND later.seq > room_events.seq);
UPDATE room_events SET type = 'message.deleted', data = json_object('id', message_id)
	WHERE type IN ('message.created', 'message.updated')
	AND message_id IN (SELECT id FROM messages WHERE deleted_at IS NOT NULL);
UPDATE room_events SET type = 'boost.deleted', data = json_object('id', boost_id, 'message_id', message_id)
	WHERE type = 'boost.created' AND boost_id NOT IN (SELECT id FROM boosts);

-- The search index again, so that deleting a message takes its words out
-- of the index itself. A contentless_delete index leaves them in place
-- behind a tombstone until a merge; a plain contentless one is told the
-- text to remove ('delete'), and with secure-delete removes it at once.
DROP TABLE messages_fts;
CREATE VIRTUAL TABLE messages_fts USING fts5 (
	plain_text,
	content = '',
	tokenize = 'porter unicode61'
);
INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO messages_fts (rowid, plain_text)
	SELECT m.id, m.plain_text FROM messages m JOIN rooms r ON r.id = m.room_id
	WHERE m.deleted_at IS NULL AND r.deleted_at IS NULL ORDER BY m.id;
