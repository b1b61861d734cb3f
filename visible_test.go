package campfire_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/opencampfire/campfire"
)

// deceptive are the format characters that names, room names, bios and
// boosts refuse: each can only hide or reorder what a reader sees.
var deceptive = map[string]string{
	"LRE": "\u202a", "RLE": "\u202b", "PDF": "\u202c", "LRO": "\u202d", "RLO": "\u202e",
	"LRI": "\u2066", "RLI": "\u2067", "FSI": "\u2068", "PDI": "\u2069",
	"LRM": "\u200e", "RLM": "\u200f", "ALM": "\u061c",
	"ZWSP": "\u200b", "WJ": "\u2060", "FunctionApplication": "\u2061", "InvisibleTimes": "\u2062",
	"InvisibleSeparator": "\u2063", "InvisiblePlus": "\u2064", "BOM": "\ufeff", "SoftHyphen": "\u00ad",
	"MongolianVowelSeparator": "\u180e", "HangulChoseongFiller": "\u115f", "HangulJungseongFiller": "\u1160",
	"HangulFiller": "\u3164", "HalfwidthHangulFiller": "\uffa0", "LineSeparator": "\u2028",
	"ParagraphSeparator": "\u2029", "InhibitSymmetricSwapping": "\u206a",
	"TagOutsideAFlag": "\U000e0041", "ZWJBetweenLetters": "\u200d", "ZWNJInLatin": "\u200c",
}

// deceptiveForms puts c where a reader would not see it: inside a word, at
// the start and at the end (but for the line separators, which are spaces
// and trimmed from the ends like any).
func deceptiveForms(c string) []string {
	if strings.TrimSpace(c) == "" {
		return []string{"Help" + c + "er"}
	}
	return []string{"Help" + c + "er", c + "Helper", "Helper" + c}
}

// wantInvalid checks a 422 invalid that names field.
func wantInvalid(t *testing.T, res *response, field, what string) {
	t.Helper()
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("%s: status %d, want 422; body %s", what, res.status, res.body)
	}
	e := res.wantError(t, http.StatusUnprocessableEntity, "invalid")
	if e["field"] != field {
		t.Fatalf("%s: field %v, want %q; body %s", what, e["field"], field, res.body)
	}
}

func TestDeceptiveCharactersAreRefused(t *testing.T) {
	// Each refused join comes from its own address, under the join throttle.
	w := newWorld(t, campfire.Config{ClientIP: func(r *http.Request) string { return r.Header.Get("X-Test-Address") }})
	msg := w.bob.post(w.allTalk, "boost me")
	room := id(w.bob.must(201, "POST", "/api/v1/rooms", map[string]any{"kind": "open", "name": "Plain"})["room"])
	fresh, _ := newServer(t, campfire.Config{})
	visitor := newClient(t, fresh.URL)
	stranger := newClient(t, w.ts.URL)

	names := slices.Sorted(func(yield func(string) bool) {
		for k := range deceptive {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range names {
		for i, v := range deceptiveForms(deceptive[name]) {
			what := fmt.Sprintf("%s at %d (%q)", name, i, v)
			wantInvalid(t, w.bob.do("PATCH", "/api/v1/users/me", map[string]any{"name": v}), "name", "rename: "+what)
			wantInvalid(t, w.bob.do("PATCH", "/api/v1/users/me", map[string]any{"bio": "I am " + v}), "bio", "bio: "+what)
			wantInvalid(t, stranger.do("POST", "/api/v1/join/"+w.joinCode, map[string]any{
				"name": v, "email": fmt.Sprintf("x%d%s@example.com", i, strings.ToLower(name)), "password": testPassword,
			}, func(r *http.Request) { r.Header.Set("X-Test-Address", what) }), "name", "join: "+what)
			wantInvalid(t, visitor.do("POST", "/api/v1/setup", map[string]any{
				"name": v, "email": "first@example.com", "password": testPassword,
			}), "name", "setup: "+what)
			wantInvalid(t, w.bob.do("POST", "/api/v1/rooms", map[string]any{"kind": "open", "name": v}), "name", "new room: "+what)
			wantInvalid(t, w.bob.do("PATCH", roomPath(room, ""), map[string]any{"name": v}), "name", "room rename: "+what)
			wantInvalid(t, w.admin.do("POST", "/api/v1/account/bots", map[string]any{"name": v}), "name", "bot: "+what)
			wantInvalid(t, w.admin.do("PATCH", "/api/v1/account", map[string]any{"name": v}), "name", "account: "+what)
			boost := strings.Replace(v, "Helper", "+1", 1)
			wantInvalid(t, w.carol.do("POST", roomPath(w.allTalk, fmt.Sprintf("/messages/%d/boosts", id(msg))), map[string]any{"content": boost}),
				"content", "boost: "+what)
		}
	}

	// Nothing changed: the refusals stored nothing.
	if me := w.bob.must(200, "GET", "/api/v1/users/me", nil)["user"].(map[string]any); me["name"] != "Bob Marley" || me["bio"] != "" {
		t.Fatalf("bob changed: %v", me)
	}
	if got := w.bob.must(200, "GET", roomPath(room, ""), nil)["room"].(map[string]any)["name"]; got != "Plain" {
		t.Fatalf("room renamed to %q", got)
	}
	if got := visitor.must(200, "GET", "/api/v1/setup", nil)["needed"]; got != true {
		t.Fatalf("setup needed = %v after refusals", got)
	}
}

// TestInvisibleOnlyNamesAreBlank: whatever the characters, a name that
// shows nothing is refused as empty.
func TestInvisibleOnlyNamesAreBlank(t *testing.T) {
	w := newWorld(t)
	for _, v := range []string{"\u200c", "\u200d", "\u200c\u200d", " \u200d ", "\ufe0f", "\u034f", "\u2800", "\u3000\u00a0"} {
		wantInvalid(t, w.bob.do("PATCH", "/api/v1/users/me", map[string]any{"name": v}), "name", fmt.Sprintf("name %q", v))
		wantInvalid(t, w.bob.do("POST", "/api/v1/rooms", map[string]any{"kind": "open", "name": v}), "name", fmt.Sprintf("room %q", v))
	}
}

// TestJoinersThatRealTextNeedsAreKept: emoji ZWJ sequences, flags spelt
// with tag characters, keycaps, skin tones, ZWNJ in Persian and ZWJ in
// Sinhala are text, not tricks.
func TestJoinersThatRealTextNeedsAreKept(t *testing.T) {
	w := newWorld(t)
	msg := w.bob.post(w.allTalk, "boost me")
	for _, v := range []string{
		"علی‌رضا",      // Ali-Reza, with ZWNJ
		"ශ්‍රී ලංකා",   // Sri Lanka, ZWJ after the virama
		"Family 👨‍👩‍👧", // ZWJ between emoji
		"Dev 🧑🏽‍💻",     // skin tone then ZWJ
		"🏳️‍🌈 Pride",   // VS16 then ZWJ
		"🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f fan", // England's flag
		"Team 1️⃣",
		"Zoë Ångström",
	} {
		got := w.bob.must(200, "PATCH", "/api/v1/users/me", map[string]any{"name": v, "bio": "about " + v})["user"].(map[string]any)
		if got["name"] != v || got["bio"] != "about "+v {
			t.Fatalf("name %q bio %q, want %q", got["name"], got["bio"], v)
		}
		room := w.bob.must(201, "POST", "/api/v1/rooms", map[string]any{"kind": "open", "name": v})["room"].(map[string]any)
		if room["name"] != v {
			t.Fatalf("room name %q, want %q", room["name"], v)
		}
	}
	for _, v := range []string{"👨‍👩‍👧", "🧑🏽‍💻", "🏳️‍🌈", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "1️⃣", "❤️‍🔥"} {
		b := w.carol.must(201, "POST", roomPath(w.allTalk, fmt.Sprintf("/messages/%d/boosts", id(msg))), map[string]any{"content": v})["boost"].(map[string]any)
		if b["content"] != v {
			t.Fatalf("boost %q, want %q", b["content"], v)
		}
	}
}

// TestInvisibleOnlyBodyIsBlank: a message that shows nothing is refused
// like an empty one, whichever way it is posted.
func TestInvisibleOnlyBodyIsBlank(t *testing.T) {
	w := newWorld(t)
	_, key := w.createBot(t, "Poster", "")
	msg := w.bob.post(w.allTalk, "visible")
	for _, v := range []string{"\u200b", "\u200b\u200d\u200c \u2060", "\ufeff\n\u200b", "\u3164", "\u115f\u1160", "\u202e\u202c", "\u2066 \u2069", "\u00ad", " \ufe0f ", "\u2800"} {
		wantInvalid(t, w.bob.do("POST", roomPath(w.allTalk, "/messages"), map[string]any{"body": v}), "body", fmt.Sprintf("post %q", v))
		wantInvalid(t, w.bob.do("PATCH", roomPath(w.allTalk, fmt.Sprintf("/messages/%d", id(msg))), map[string]any{"body": v}), "body", fmt.Sprintf("edit %q", v))
		wantInvalid(t, w.botPost(t, w.allTalk, key, "text/plain", v), "body", fmt.Sprintf("bot post %q", v))
	}
}

// TestBodiesLoseBidiOverrides: embedding, override and isolate controls,
// which can show text in another order than it was written (a file name
// that reads backwards, code that is not what it seems), are taken out of
// bodies; the marks that fix punctuation in mixed-direction text stay.
func TestBodiesLoseBidiOverrides(t *testing.T) {
	w := newWorld(t)
	m := w.bob.post(w.allTalk, "open \u202egnp.exe\u202c or `if x \u2067// ok\u2069 {` \u200fok\u200e")
	want := "open gnp.exe or `if x // ok {` \u200fok\u200e"
	if got := markdownOf(m); got != want {
		t.Fatalf("markdown %q, want %q", got, want)
	}
	body := m["body"].(map[string]any)
	for _, f := range []string{"html", "plain_text"} {
		if s := body[f].(string); strings.ContainsAny(s, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069") {
			t.Fatalf("%s keeps a bidi control: %q", f, s)
		}
	}
	edited := w.bob.must(200, "PATCH", roomPath(w.allTalk, fmt.Sprintf("/messages/%d", id(m))), map[string]any{"body": "now \u202dreversed"})["message"].(map[string]any)
	if got := markdownOf(edited); got != "now reversed" {
		t.Fatalf("edited markdown %q", got)
	}
}

// TestMentionByIDSurvivesANamesake is the bot-namesake scenario: someone
// renames themself to a bot's name. A typed @Helper is then ambiguous and
// mentions neither, but the id form, which the web client's autocomplete
// inserts, still mentions the bot, so its webhook fires; it shows the
// bot's current name, and never reaches someone outside the room.
func TestMentionByIDSurvivesANamesake(t *testing.T) {
	hook := newHookReceiver(t, nil)
	w := newWorld(t, loopbackHooks())
	botID, _ := w.createBot(t, "Helper", hook.url)
	w.carol.must(200, "PATCH", "/api/v1/users/me", map[string]any{"name": "Helper"})

	typed := w.bob.post(w.allTalk, "@Helper status")
	if m := typed["mentions"].([]any); len(m) != 0 {
		t.Fatalf("a name two members share mentioned %v", m)
	}
	hook.none(t, "a shared name is ambiguous")

	msg := w.bob.post(w.allTalk, fmt.Sprintf("<@%d> status", botID))
	if m := msg["mentions"].([]any); len(m) != 1 || int64(m[0].(float64)) != botID {
		t.Fatalf("mentions = %v, want the bot %d", m, botID)
	}
	body := msg["body"].(map[string]any)
	wantHTML := fmt.Sprintf(`<p><span class="mention" data-user-id="%d">@Helper</span> status</p>`, botID)
	if body["html"] != wantHTML || body["plain_text"] != "@Helper status" || body["markdown"] != fmt.Sprintf("<@%d> status", botID) {
		t.Fatalf("body = %v, want html %s", body, wantHTML)
	}
	call := hook.next(t)
	if got := call.body["message"].(map[string]any); int64(got["id"].(float64)) != id(msg) || got["body"].(map[string]any)["plain"] != "status" {
		t.Fatalf("webhook = %v", call.body)
	}

	// The person's own id form names the person, with their current name.
	msg = w.bob.post(w.allTalk, fmt.Sprintf("thanks <@%d>", w.carolID))
	if m := msg["mentions"].([]any); len(m) != 1 || int64(m[0].(float64)) != w.carolID {
		t.Fatalf("mentions = %v, want carol", m)
	}
	if got := msg["body"].(map[string]any)["html"]; got != fmt.Sprintf(`<p>thanks <span class="mention" data-user-id="%d">@Helper</span></p>`, w.carolID) {
		t.Fatalf("html %v", got)
	}
	hook.none(t, "the bot was not mentioned")

	// Carol is not in Secret: her id there is text, not a mention.
	msg = w.bob.post(w.secret, fmt.Sprintf("<@%d> cannot hear this", w.carolID))
	if m := msg["mentions"].([]any); len(m) != 0 || msg["body"].(map[string]any)["plain_text"] != fmt.Sprintf("<@%d> cannot hear this", w.carolID) {
		t.Fatalf("non-member mentioned: %v", msg)
	}
}
