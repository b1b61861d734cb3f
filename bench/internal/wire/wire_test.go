package wire

import (
	"bytes"
	"testing"
)

func TestEventRoundTrip(t *testing.T) {
	data := AppendData(nil, 1764000000123456789, 100)
	ev := AppendEvent(nil, MessageType, 7, 118, data)
	if !bytes.Equal(ev, AppendMessageEvent(nil, 7, 118, 1764000000123456789, 100)) {
		t.Fatalf("AppendEvent and AppendMessageEvent differ:\n%s\n%s", ev, AppendMessageEvent(nil, 7, 118, 1764000000123456789, 100))
	}
	if got := Seq(ev); got != 118 {
		t.Errorf("Seq = %d", got)
	}
	if got := TS(ev); got != 1764000000123456789 {
		t.Errorf("TS = %d", got)
	}
	if got := RoomID(ev); got != 7 {
		t.Errorf("RoomID = %d", got)
	}
	if got := string(Type(ev)); got != MessageType {
		t.Errorf("Type = %q", got)
	}
	// Inside centrifuge's push envelope, and several events a frame.
	push := []byte(`{"push":{"channel":"room7","pub":{"data":` + string(ev) + `}}}`)
	var lines int
	Lines(append(append(append([]byte{}, ev...), '\n'), push...), func(line []byte) {
		lines++
		if Seq(line) != 118 || string(Type(line)) != MessageType {
			t.Errorf("line %q", line)
		}
	})
	if lines != 2 {
		t.Errorf("%d lines, want 2", lines)
	}
}
