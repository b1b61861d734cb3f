-- Times are unix nanoseconds (UTC): exact round trips and cheap ordering.

-- The installation's one account; the CHECK keeps it to one row.
CREATE TABLE account (
	id        INTEGER PRIMARY KEY CHECK (id = 1),
	name      TEXT NOT NULL,
	join_code TEXT NOT NULL,
	settings  TEXT NOT NULL -- campfire.AccountSettings as JSON, so new switches need no migration
);

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL,
	name_key      TEXT NOT NULL, -- the name lowercased by Go, which folds all of Unicode, unlike SQLite's lower()
	email         TEXT NOT NULL DEFAULT '',
	external_id   TEXT NOT NULL DEFAULT '',
	role          TEXT NOT NULL CHECK (role IN ('admin', 'member', 'bot')),
	status        TEXT NOT NULL CHECK (status IN ('active', 'deactivated')),
	bio           TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email) WHERE email <> '';
CREATE UNIQUE INDEX users_external_id ON users (external_id) WHERE external_id <> '';
CREATE INDEX users_name_key ON users (name_key, id);

CREATE TABLE sessions (
	token_hash     BLOB PRIMARY KEY,
	user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	user_agent     TEXT NOT NULL DEFAULT '',
	ip             TEXT NOT NULL DEFAULT '',
	created_at     INTEGER NOT NULL,
	last_active_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE rooms (
	id         INTEGER PRIMARY KEY,
	kind       TEXT NOT NULL CHECK (kind IN ('open', 'closed', 'direct')),
	name       TEXT NOT NULL DEFAULT '',
	creator_id INTEGER NOT NULL REFERENCES users (id),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	last_seq   INTEGER NOT NULL DEFAULT 0,
	deleted_at INTEGER,
	-- direct rooms: their sorted user ids joined by commas, so that one set
	-- of users has one live direct room; '' for the other kinds.
	direct_key TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX rooms_direct_key ON rooms (direct_key) WHERE direct_key <> '' AND deleted_at IS NULL;

CREATE TABLE memberships (
	room_id     INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
	user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	involvement TEXT NOT NULL CHECK (involvement IN ('everything', 'mentions', 'nothing', 'invisible')),
	unread_at   INTEGER,
	created_at  INTEGER NOT NULL,
	PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;
CREATE INDEX memberships_user ON memberships (user_id, room_id);

CREATE TABLE messages (
	id                INTEGER PRIMARY KEY,
	room_id           INTEGER NOT NULL REFERENCES rooms (id),
	creator_id        INTEGER NOT NULL REFERENCES users (id),
	client_message_id TEXT NOT NULL DEFAULT '',
	seq               INTEGER NOT NULL, -- of its message.created event, which pruning may forget
	markdown          TEXT NOT NULL,
	html              TEXT NOT NULL,
	plain_text        TEXT NOT NULL,
	mentions          TEXT NOT NULL DEFAULT '[]', -- JSON array of user ids
	sound             TEXT NOT NULL DEFAULT '',
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL,
	deleted_at        INTEGER
);
CREATE INDEX messages_room ON messages (room_id, id);
-- A client retrying a post names it with the same client_message_id: the
-- index makes the retry find the first post instead of storing another.
CREATE UNIQUE INDEX messages_client_message_id ON messages (room_id, creator_id, client_message_id)
	WHERE client_message_id <> '';

-- AUTOINCREMENT: boosts are deleted for good, and a reused id would let a
-- client confuse a new boost with the one it saw deleted.
CREATE TABLE boosts (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
	booster_id INTEGER NOT NULL REFERENCES users (id),
	content    TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX boosts_message ON boosts (message_id, id);

CREATE TABLE room_events (
	room_id    INTEGER NOT NULL REFERENCES rooms (id),
	seq        INTEGER NOT NULL,
	type       TEXT NOT NULL,
	data       BLOB NOT NULL, -- the JSON sent live, replayed byte for byte
	created_at INTEGER NOT NULL,
	PRIMARY KEY (room_id, seq)
) WITHOUT ROWID;
CREATE INDEX room_events_created_at ON room_events (created_at);

-- Search over live messages, rowid = messages.id. Contentless: the text
-- already lives in messages, and contentless_delete lets rows be deleted
-- and replaced without handing back the old text.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
	plain_text,
	content = '',
	contentless_delete = 1,
	tokenize = 'porter unicode61'
);
