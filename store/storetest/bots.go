package storetest

import (
	"bytes"
	"testing"

	"github.com/opencampfire/campfire"
)

// newBot creates an active bot with a key hash and a webhook URL.
func (f *fixture) newBot(name string) campfire.User {
	f.t.Helper()
	return f.createUser(campfire.NewUser{
		Name: name, Role: campfire.RoleBot,
		BotKeyHash: tokenHash("key-of-" + name), WebhookURL: "https://bots.example.com/" + name,
	})
}

func testCreateUserStoresBotKeyHashAndWebhookURL(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	robo := f.newBot("Robo")
	want := "https://bots.example.com/Robo"
	if robo.WebhookURL != want || robo.Role != campfire.RoleBot || !robo.Active() {
		t.Fatalf("CreateUser(bot) returned %+v, want an active bot with WebhookURL %q", robo, want)
	}
	if got := mustUser(t, s, robo.ID); got.WebhookURL != want {
		t.Fatalf("User(bot).WebhookURL = %q, want %q", got.WebhookURL, want)
	}
	_, hash, err := s.BotKey(f.ctx, robo.ID)
	must(t, "BotKey", err)
	if !bytes.Equal(hash, tokenHash("key-of-Robo")) {
		t.Fatalf("BotKey returned hash %x, want the one CreateUser stored, %x", hash, tokenHash("key-of-Robo"))
	}
	ms, err := s.Members(f.ctx, f.lobby.ID)
	must(t, "Members", err)
	found := false
	for _, m := range ms {
		if m.ID == robo.ID {
			found = true
			if m.WebhookURL != want {
				t.Fatalf("Members lists the bot with WebhookURL %q, want %q: every User a store returns carries it", m.WebhookURL, want)
			}
		}
	}
	if !found {
		t.Fatal("a new bot is not a member of the open room; bots join open rooms like anyone")
	}
	us, err := s.Users(f.ctx, campfire.UserQuery{Query: "robo"})
	must(t, "Users(Query robo)", err)
	if len(us) != 1 || us[0].WebhookURL != want {
		t.Fatalf("Users(Query robo) = %+v, want the bot with WebhookURL %q", us, want)
	}
	bea := f.user("Bea")
	if bea.WebhookURL != "" {
		t.Fatalf("a person created without a webhook URL has %q", bea.WebhookURL)
	}
}

func testUpdateUserChangesBotKeyHashAndWebhookURL(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	robo := f.newBot("Robo")
	other := f.newBot("Other")

	u, err := s.UpdateUser(f.ctx, robo.ID, campfire.UserUpdate{BotKeyHash: ptr(tokenHash("new-key")), WebhookURL: ptr("http://hooks.example.com/new")})
	must(t, "UpdateUser(BotKeyHash, WebhookURL)", err)
	if u.WebhookURL != "http://hooks.example.com/new" || u.Name != robo.Name || u.Role != campfire.RoleBot || !u.Active() {
		t.Fatalf("UpdateUser(BotKeyHash, WebhookURL) returned %+v, want the new WebhookURL and nothing else changed", u)
	}
	checkBotKey(t, s, robo.ID, tokenHash("new-key"), "after UpdateUser(BotKeyHash)")
	checkBotKey(t, s, other.ID, tokenHash("key-of-Other"), "of another bot after UpdateUser(BotKeyHash)")

	u, err = s.UpdateUser(f.ctx, robo.ID, campfire.UserUpdate{Name: ptr("Robo Two")})
	must(t, "UpdateUser(Name)", err)
	if u.WebhookURL != "http://hooks.example.com/new" {
		t.Fatalf("UpdateUser(Name) changed WebhookURL to %q; nil fields stay", u.WebhookURL)
	}
	checkBotKey(t, s, robo.ID, tokenHash("new-key"), "after UpdateUser(Name): nil fields stay")

	u, err = s.UpdateUser(f.ctx, robo.ID, campfire.UserUpdate{BotKeyHash: ptr([]byte{}), WebhookURL: ptr("")})
	must(t, "UpdateUser(BotKeyHash empty, WebhookURL empty)", err)
	if u.WebhookURL != "" || mustUser(t, s, robo.ID).WebhookURL != "" {
		t.Fatalf("UpdateUser(WebhookURL \"\") left WebhookURL %q, want it empty", u.WebhookURL)
	}
	checkBotKey(t, s, robo.ID, nil, "after UpdateUser(BotKeyHash: empty) removed the key")
}

func checkBotKey(t *testing.T, s campfire.Store, id int64, want []byte, when string) {
	t.Helper()
	_, got, err := s.BotKey(t.Context(), id)
	must(t, "BotKey "+when, err)
	if !bytes.Equal(got, want) {
		t.Fatalf("BotKey %s: hash %x, want %x", when, got, want)
	}
}

func testBotKeyReturnsTheBotAndItsKeyHash(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	f.newBot("Other")
	robo := f.newBot("Robo")
	u, hash, err := s.BotKey(f.ctx, robo.ID)
	must(t, "BotKey", err)
	if u.ID != robo.ID || u.Name != "Robo" || u.Role != campfire.RoleBot || u.Status != campfire.StatusActive || u.WebhookURL != robo.WebhookURL {
		t.Fatalf("BotKey(%d) = %+v, want what CreateUser returned, %+v", robo.ID, u, robo)
	}
	checkSameTime(t, "BotKey's CreatedAt", u.CreatedAt, robo.CreatedAt)
	if !bytes.Equal(hash, tokenHash("key-of-Robo")) {
		t.Fatalf("BotKey(%d) hash %x, want %x", robo.ID, hash, tokenHash("key-of-Robo"))
	}
}

func testBotKeyEmptyWithoutKey(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	robo := f.createUser(campfire.NewUser{Name: "Robo", Role: campfire.RoleBot})
	checkBotKey(t, s, robo.ID, nil, "of a bot created without a key")
}

func testBotKeyNotFoundForPeopleAndMissingUsers(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	bea := f.user("Bea")
	for _, tc := range []struct {
		call string
		id   int64
	}{{"BotKey(missing id)", missingID}, {"BotKey(a member)", bea.ID}, {"BotKey(an admin)", f.admin.ID}} {
		_, _, err := s.BotKey(f.ctx, tc.id)
		wantErr(t, tc.call, err, campfire.ErrNotFound)
	}
}

func testBotKeyReturnsDeactivatedBots(t *testing.T, s campfire.Store) {
	f := setUp(t, s)
	robo := f.newBot("Robo")
	f.deactivate(robo.ID)
	u, hash, err := s.BotKey(f.ctx, robo.ID)
	must(t, "BotKey(deactivated bot): it returns the bot whatever its status", err)
	if u.Status != campfire.StatusDeactivated || !bytes.Equal(hash, tokenHash("key-of-Robo")) {
		t.Fatalf("BotKey(deactivated bot) = status %q, hash %x; want deactivated and the stored hash", u.Status, hash)
	}
}
