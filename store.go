package campfire

import (
	"context"
	"time"
)

// Store keeps everything durable: the account, users, sessions, rooms,
// memberships, messages, boosts and each room's event log. store/sqlite is
// the default; storetest.Run checks any implementation against this contract.
//
// Every method takes a context and returns errors that match the sentinels
// in errors.go (ErrNotFound, ErrConflict, ErrResync) where its doc names
// them; any other error is an internal failure.
//
// Room sequence numbers: every durable change to a room (a message created,
// updated or deleted, a boost created or deleted, the room updated or
// deleted, people losing access to it) appends an [Event] to that room's
// log in the same transaction as the change, with Seq one above the room's
// previous LastSeq. Sequence numbers start at 1, are gap-free per room, and
// are assigned in commit order. The returned Event is what is sent live:
// its Data is the encoded resource ([NewEvent]).
//
// A replay ([MessageStore.Events]) sends each event at its seq, but never
// content that has since been edited or deleted: the message.created and
// message.updated events of a message carry its current state (the Data of
// its latest message.updated), those of a deleted message become
// message.deleted tombstones ({"id"}), and the boost.created of a deleted
// boost (or of a boost of a deleted message) becomes boost.deleted
// ({"id", "message_id"}). Stores rewrite the log in the transaction of the
// edit or delete, so the old content is not kept.
type Store interface {
	AccountStore
	UserStore
	SessionStore
	RoomStore
	MessageStore
	// Close releases the store's resources.
	Close() error
}

// Account is the one account of an installation.
type Account struct {
	Name     string
	JoinCode string
	Settings AccountSettings
}

// AccountSettings are the admin's switches.
type AccountSettings struct {
	// RestrictRoomCreationToAdmins: only admins may create open and closed rooms.
	RestrictRoomCreationToAdmins bool `json:"restrict_room_creation_to_admins"`
}

// NewUser is what creating a user takes.
type NewUser struct {
	Name         string
	Email        string // stored lowercase; may be empty for host identities and bots
	PasswordHash string // empty: the user cannot sign in with a password
	Role         Role
	ExternalID   string // empty for built-in accounts
	// BotKeyHash is the SHA-256 of a bot's key secret; empty for people
	// and for bots without a key.
	BotKeyHash []byte
	// WebhookURL is where a bot's webhooks go; empty for none.
	WebhookURL string
}

// Setup is the first run: the account, its admin and its first open room.
type Setup struct {
	AccountName string
	JoinCode    string
	Admin       NewUser
	RoomName    string
}

// AccountStore keeps the installation's single account.
type AccountStore interface {
	// Setup creates the account, the admin user (Role admin, active) and an
	// open room named s.RoomName created by the admin, in one transaction.
	// Returns ErrConflict if an account already exists.
	Setup(ctx context.Context, s Setup) (Account, User, Room, error)
	// Account returns the account. Returns ErrNotFound before Setup.
	Account(ctx context.Context) (Account, error)
	// UpdateAccount changes the name and settings. Returns ErrNotFound before Setup.
	UpdateAccount(ctx context.Context, name string, settings AccountSettings) (Account, error)
	// SetJoinCode replaces the join code. Returns ErrNotFound before Setup.
	SetJoinCode(ctx context.Context, code string) error
}

// UserUpdate changes the fields that are non-nil.
type UserUpdate struct {
	Name         *string
	Email        *string
	Bio          *string
	PasswordHash *string
	Role         *Role
	Status       *UserStatus
	// BotKeyHash replaces a bot's key hash; pointing at an empty slice
	// removes the key, so that no key authenticates.
	BotKeyHash *[]byte
	WebhookURL *string
}

// UserQuery selects users for listing and autocomplete.
type UserQuery struct {
	// Query, when set, keeps users whose name contains it, case-insensitively.
	Query string
	// RoomID, when set, keeps members of that room.
	RoomID int64
	// ActiveOnly drops deactivated users.
	ActiveOnly bool
	// Limit caps the result; 0 means no cap.
	Limit int
}

// UserStore keeps users. Every User a store returns, here or beside a
// session or a membership, carries all its fields, WebhookURL included.
type UserStore interface {
	// CreateUser creates an active user and makes them a member of every
	// open room (with the default involvement), in one transaction.
	// Returns ErrConflict if the email (when not empty) or the external id
	// (when not empty) is taken.
	CreateUser(ctx context.Context, u NewUser) (User, error)
	// User returns the user with id. Returns ErrNotFound.
	User(ctx context.Context, id int64) (User, error)
	// UserByEmail returns the user with that email (matched lowercase) and
	// their password hash. Returns ErrNotFound.
	UserByEmail(ctx context.Context, email string) (User, string, error)
	// UserByExternalID returns the user the host knows by id. Returns ErrNotFound.
	UserByExternalID(ctx context.Context, externalID string) (User, error)
	// UpdateUser changes the non-nil fields of u. Setting Status of an
	// active user to deactivated also deletes the user's sessions and their
	// memberships of open and closed rooms (direct rooms stay, as in
	// Campfire), and appends members.removed ({"user_ids": [id]}) to every
	// live room they were a member of, direct ones included, so that their
	// streams of those rooms end there; setting it back to active makes
	// them a member of every open room again.
	// Returns ErrNotFound, or ErrConflict if the new email is taken.
	UpdateUser(ctx context.Context, id int64, u UserUpdate) (User, error)
	// Users lists users by name (case-insensitive), then id.
	Users(ctx context.Context, q UserQuery) ([]User, error)
	// BotKey returns the bot with id userID, whatever its status, and its
	// key hash (empty when it has no key). Returns ErrNotFound if there is
	// no such user or the user is not a bot.
	BotKey(ctx context.Context, userID int64) (User, []byte, error)
}

// SessionStore keeps signed-in sessions, by the hash of their token.
type SessionStore interface {
	// CreateSession stores s. Returns ErrNotFound if the user does not exist.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with that token hash and its user.
	// Returns ErrNotFound.
	Session(ctx context.Context, tokenHash []byte) (Session, User, error)
	// TouchSession sets the session's LastActiveAt. Returns ErrNotFound.
	TouchSession(ctx context.Context, tokenHash []byte, at time.Time) error
	// DeleteSession removes the session; removing one that does not exist
	// is not an error.
	DeleteSession(ctx context.Context, tokenHash []byte) error
	// DeleteUserSessions removes every session of the user except the one
	// whose hash is keep (nil: none kept), and returns the hashes it
	// removed, so that their connections can be closed.
	DeleteUserSessions(ctx context.Context, userID int64, keep []byte) ([][]byte, error)
}

// NewRoom is what creating an open or closed room takes.
type NewRoom struct {
	Kind      RoomKind // RoomOpen or RoomClosed
	Name      string
	CreatorID int64
	// UserIDs are the members of a closed room besides the creator; ignored
	// for open rooms, which take every active user.
	UserIDs []int64
}

// RoomUpdate changes the fields that are non-nil.
type RoomUpdate struct {
	Name *string
	// Kind converts an open room to closed or back. Converting to open makes
	// every active user a member.
	Kind *RoomKind
	// UserIDs, for a closed room, become its members (the creator always
	// stays one): users not listed lose their membership, listed ones gain it.
	UserIDs *[]int64
}

// RoomChange is the outcome of changing a room: the room as it now is, the
// events appended to its log, and whose membership the change added or removed.
type RoomChange struct {
	Room  Room
	Event Event
	// Revoked is the members.removed event appended just before Event when
	// the change removed members (zero otherwise): the removed people's
	// streams of the room end there, and Event is past their reach.
	Revoked Event
	Added   []int64
	Removed []int64
}

// RoomStore keeps rooms and memberships.
type RoomStore interface {
	// CreateRoom creates an open or closed room: an open room with every
	// active user as a member, a closed one with the creator and
	// r.UserIDs (ids of users that do not exist or are deactivated are
	// skipped). Members start with [DefaultInvolvement]. Returns ErrNotFound
	// if the creator does not exist, and ErrInvalid for another kind.
	CreateRoom(ctx context.Context, r NewRoom) (Room, error)
	// DirectRoom returns the direct room whose members are exactly userIDs
	// (a sorted set of at least one id), creating it with creatorID if there
	// is none; created says which. The creator need not be among userIDs.
	// Returns ErrNotFound if a user or the creator does not exist.
	DirectRoom(ctx context.Context, creatorID int64, userIDs []int64) (room Room, created bool, err error)
	// Room returns the room. Returns ErrNotFound, also for deleted rooms.
	Room(ctx context.Context, id int64) (Room, error)
	// Membership returns userID's membership of roomID. Returns ErrNotFound
	// when they are not a member, or the room does not exist.
	Membership(ctx context.Context, roomID, userID int64) (Membership, error)
	// RoomForUser returns the room with userID's membership of it, in one
	// read: what every request about a room checks first. Returns
	// ErrNotFound when they are not a member, or the room does not exist or
	// was deleted.
	RoomForUser(ctx context.Context, roomID, userID int64) (RoomWithMembership, error)
	// RoomsForUser returns the rooms userID is a member of, with the
	// membership, ordered by id.
	RoomsForUser(ctx context.Context, userID int64) ([]RoomWithMembership, error)
	// Members returns the room's members with their involvement, by id.
	// Returns ErrNotFound if the room does not exist.
	Members(ctx context.Context, roomID int64) ([]Member, error)
	// UpdateRoom applies u and appends a room.updated event whose Data is
	// the updated Room, preceded by members.removed ({"user_ids": Removed})
	// when members were removed. Returns ErrNotFound, and ErrInvalid for a
	// change to a direct room's kind or members.
	UpdateRoom(ctx context.Context, id int64, u RoomUpdate) (RoomChange, error)
	// DeleteRoom deletes the room, its memberships and its messages from
	// search, and appends a room.deleted event (Data {"id"}); Removed lists
	// the former members. Returns ErrNotFound.
	DeleteRoom(ctx context.Context, id int64) (RoomChange, error)
	// SetInvolvement changes a member's involvement. Returns ErrNotFound if
	// they are not a member.
	SetInvolvement(ctx context.Context, roomID, userID int64, inv Involvement) (Membership, error)
	// MarkUnread marks the room unread at time at for every member whose
	// involvement is visible, except the users in except, and returns the
	// ids of the members it marked (ascending), including those already unread.
	MarkUnread(ctx context.Context, roomID int64, except []int64, at time.Time) ([]int64, error)
	// MarkRead clears userID's unread mark. Returns ErrNotFound if they are
	// not a member.
	MarkRead(ctx context.Context, roomID, userID int64) error
}

// NewMessage is what posting a message takes; the body is already rendered.
type NewMessage struct {
	RoomID          int64
	CreatorID       int64
	ClientMessageID string
	Body            Body
	Mentions        []int64
	Sound           string
	// MarkUnread also marks the room unread, in the same transaction, as
	// MarkUnread(RoomID, Present and CreatorID, the message's CreatedAt)
	// would: a crash cannot keep the message and lose the marks.
	MarkUnread bool
	// Present are the members looking at the room, whom MarkUnread leaves
	// read.
	Present []int64
}

// Posted is what CreateMessage did.
type Posted struct {
	// Message is the new message, or, when Created is false, the one the
	// creator had already posted under the same ClientMessageID, as it now
	// is.
	Message Message
	// Event is the message.created event; zero when Created is false.
	Event   Event
	Created bool
	// Unread are the members marked unread (NewMessage.MarkUnread),
	// ascending, as MarkUnread returns them; nil when Created is false.
	Unread []int64
}

// MessageQuery selects a page of a room's messages. At most one of Before,
// After and Around is set; none means the newest.
type MessageQuery struct {
	RoomID int64
	Before int64 // messages older than this message id
	After  int64 // messages newer than this message id
	Around int64 // about Limit messages centred on this message id, it included
	Limit  int   // 1 to 100
}

// MessagePage is a page of messages, oldest first.
type MessagePage struct {
	Messages   []Message
	MoreBefore bool // older messages than the first exist
	MoreAfter  bool // newer messages than the last exist
}

// MessageStore keeps messages, boosts, the search index and room event logs.
type MessageStore interface {
	// CreateMessage stores m, appends its message.created event, moves the
	// room's UpdatedAt and, if m.MarkUnread, marks the room unread, all in
	// one transaction. If the same creator already posted in the room with
	// the same non-empty ClientMessageID, it stores and marks nothing and
	// returns that message as it now is (emptied, if it was deleted since)
	// with Created false. Returns ErrNotFound if the room does not exist or
	// was deleted.
	CreateMessage(ctx context.Context, m NewMessage) (Posted, error)
	// Message returns a message of the room with its boosts. Returns
	// ErrNotFound if it does not exist, is in another room, or was deleted.
	Message(ctx context.Context, roomID, id int64) (Message, error)
	// Messages returns a page of the room's messages (deleted ones left
	// out), with their boosts; Limit is clamped to 1..100. Returns
	// ErrNotFound if the room does not exist or was deleted, or if a cursor
	// does not name a message of this room (deleted messages are valid
	// cursors).
	Messages(ctx context.Context, q MessageQuery) (MessagePage, error)
	// UpdateMessage replaces the body, mentions and sound, sets UpdatedAt,
	// appends message.updated, and rewrites the message's earlier
	// message.created and message.updated events to the same Data.
	// Returns ErrNotFound as Message does.
	UpdateMessage(ctx context.Context, roomID, id int64, body Body, mentions []int64, sound string) (Message, Event, error)
	// DeleteMessage deletes the message (its id stays valid as a cursor,
	// its content is gone), its boosts and its search entry, turns its
	// earlier events and its boosts' into tombstones, and appends
	// message.deleted. Returns ErrNotFound as Message does.
	DeleteMessage(ctx context.Context, roomID, id int64) (Event, error)
	// CreateBoost boosts a message and appends boost.created. Returns
	// ErrNotFound as Message does.
	CreateBoost(ctx context.Context, roomID, messageID, boosterID int64, content string) (Boost, Event, error)
	// Boost returns a boost of that message of that room. Returns ErrNotFound.
	Boost(ctx context.Context, roomID, messageID, id int64) (Boost, error)
	// DeleteBoost deletes the boost, turns its boost.created into a
	// tombstone, and appends boost.deleted. Returns ErrNotFound.
	DeleteBoost(ctx context.Context, roomID, messageID, id int64) (Event, error)
	// Search returns messages matching the words of query in rooms userID
	// is a member of, newest first, at most limit (0: no cap). A query with
	// no words returns nothing; query syntax is never an error.
	Search(ctx context.Context, userID int64, query string, limit int) ([]Message, error)
	// Events returns the room's events with Seq > since, ascending, at most
	// limit (0: no cap), as a replay sends them: current state or
	// tombstones, never edited or deleted content. A deleted room's log stays readable, so that a
	// client resuming learns of the deletion. Returns ErrNotFound if the
	// room never existed, and ErrResync if events after since are no longer
	// kept or since is beyond the room's LastSeq (a cursor from another
	// history, such as before a restore).
	Events(ctx context.Context, roomID, since int64, limit int) ([]Event, error)
	// PruneEvents forgets events stored before t, keeping each room's
	// latest event so that its LastSeq stays known. Clients resuming from a
	// pruned cursor get ErrResync.
	PruneEvents(ctx context.Context, before time.Time) error
}
