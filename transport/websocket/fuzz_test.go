package websocket

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/opencampfire/campfire"
)

// refusalMessage is every message a refused frame may carry: fixed texts,
// never an echo of the input (which a client could use to smuggle markup
// or a huge string back at itself or into logs).
var refusalMessage = regexp.MustCompile(`^(` +
	`frame is not valid JSON: (syntax error at byte [0-9]+|(type|room_id|since|state) has the wrong type|not a JSON object)` +
	`|type is required` +
	`|type must be subscribe, unsubscribe, typing or presence` +
	`|room_id must be a room id` +
	`|since must not be negative` +
	`|state must be start or stop` +
	`|state must be present or absent` +
	`)$`)

// FuzzParseRequest feeds arbitrary client frames to the decoder. A frame
// becomes either a request that can be carried out (a known kind, a
// positive room id, a non-negative since only on subscribe) or a refusal: an
// error event with the protocol code invalid_json (not JSON, or fields of
// the wrong type) or invalid (well-formed but wrong), with a fixed message.
// A request, encoded again as the protocol says, decodes to itself. The
// seed corpus is in testdata/fuzz/FuzzParseRequest.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		`{"type":"subscribe","room_id":7}`,
		`{"type":"subscribe","room_id":7,"since":0}`,
		`{"type":"subscribe","room_id":7,"since":118}`,
		`{"type":"subscribe","room_id":7,"since":-1}`,
		`{"type":"subscribe","room_id":7,"since":null}`,
		`{"type":"unsubscribe","room_id":9223372036854775807}`,
		`{"type":"typing","room_id":1,"state":"start"}`,
		`{"type":"typing","room_id":1,"state":"stop"}`,
		`{"type":"typing","room_id":1,"state":"present"}`,
		`{"type":"presence","room_id":1,"state":"present"}`,
		`{"type":"presence","room_id":1,"state":"absent"}`,
		`{"type":"presence","room_id":0,"state":"absent"}`,
		`{"type":"subscribe","room_id":-5}`,
		`{"type":"subscribe","room_id":"7"}`,
		`{"type":"subscribe","room_id":7.5}`,
		`{"type":"subscribe","room_id":1e3}`,
		`{"type":"subscribe","room_id":9223372036854775808}`,
		`{"type":"Subscribe","room_id":7}`,
		`{"TYPE":"subscribe","Room_ID":7}`,
		`{"type":"subscribe","type":"typing","room_id":7,"state":"start"}`,
		`{"type":"","room_id":7}`,
		`{"type":null}`,
		`{"type":"<script>alert(1)</script>","room_id":7}`,
		`{"type":"subscribe","room_id":7,"extra":{"deep":[1,2,3]}}`,
		`{"type":"subscribe","room_id":7}{"type":"subscribe","room_id":8}`,
		`{"type":"subscribe","room_id":7} `,
		`{"type":"subscribe\u0000","room_id":7}`,
		`{"type":"subscribe","room_id":7`,
		`{}`,
		`[]`,
		`[1,2]`,
		`null`,
		`"subscribe"`,
		`42`,
		``,
		`hello`,
		"\xff\xfe",
		`{"type":"subscribe","room_id":7,"since":"1"}`,
		`{"type":"typing","room_id":7,"state":1}`,
		strings.Repeat(`[`, 20000),
		`{"a":` + strings.Repeat(`{"a":`, 5000) + `1` + strings.Repeat(`}`, 5001),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req := parseRequest(data)
		checkRequest(t, data, req)
		if req.kind == "" {
			return
		}
		// Encoded again, as a client following the protocol would send
		// it, the request decodes to itself.
		frame := map[string]any{"type": req.kind, "room_id": req.roomID}
		switch req.kind {
		case "subscribe":
			if req.replay {
				frame["since"] = req.since
			}
		case "typing":
			frame["state"] = map[bool]string{true: "start", false: "stop"}[req.on]
		case "presence":
			frame["state"] = map[bool]string{true: "present", false: "absent"}[req.on]
		}
		enc, err := json.Marshal(frame)
		if err != nil {
			t.Fatal(err)
		}
		if again := parseRequest(enc); !reflect.DeepEqual(again, req) {
			t.Errorf("%q decodes to %+v; encoded again as %s, to %+v", data, req, enc, again)
		}
	})
}

// checkRequest checks what must hold for every decoded frame.
func checkRequest(t *testing.T, data []byte, req request) {
	t.Helper()
	switch req.kind {
	case "subscribe", "unsubscribe", "typing", "presence":
		if req.roomID <= 0 {
			t.Errorf("%q: %s of room %d", data, req.kind, req.roomID)
		}
		if req.since < 0 || req.since != 0 && !req.replay || req.replay && req.kind != "subscribe" {
			t.Errorf("%q: since %d, replay %v on %s", data, req.since, req.replay, req.kind)
		}
		if req.on && req.kind != "typing" && req.kind != "presence" {
			t.Errorf("%q: on for %s", data, req.kind)
		}
		if req.refusal.Type != "" {
			t.Errorf("%q: a request with a refusal: %+v", data, req)
		}
		// Only a JSON object becomes a request.
		if !json.Valid(data) || !bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")) {
			t.Errorf("%q is not a JSON object, yet decodes to %+v", data, req)
		}
		return
	case "":
	default:
		t.Fatalf("%q: kind %q", data, req.kind)
	}

	ev := req.refusal
	if ev.Type != campfire.EventError {
		t.Fatalf("%q: refusal of type %q", data, ev.Type)
	}
	var detail campfire.ErrorDetail
	dec := json.NewDecoder(bytes.NewReader(ev.Data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&detail); err != nil {
		t.Fatalf("%q: refusal data %s: %v", data, ev.Data, err)
	}
	switch detail.Code {
	case "invalid_json":
		if ev.RoomID != 0 {
			t.Errorf("%q: invalid_json refusal names room %d", data, ev.RoomID)
		}
	case "invalid":
		// A frame refused as invalid was a JSON object of the right
		// types.
		var f clientFrame
		if err := json.Unmarshal(data, &f); err != nil {
			t.Errorf("%q refused as invalid, not invalid_json, though it does not decode: %v", data, err)
		}
		if detail.Field == "" {
			t.Errorf("%q: invalid without a field: %+v", data, detail)
		}
	default:
		t.Errorf("%q: refusal code %q, want invalid_json or invalid", data, detail.Code)
	}
	if !refusalMessage.MatchString(detail.Message) || !utf8.ValidString(detail.Message) {
		t.Errorf("%q: refusal message %q", data, detail.Message)
	}
	if !json.Valid(data) && detail.Code != "invalid_json" {
		t.Errorf("%q is not JSON, refused with %q", data, detail.Code)
	}
}
