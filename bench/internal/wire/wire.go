// Package wire is what the bench servers publish and the load generator
// reads: one event shape for both servers, so that the payload bytes are the
// same whichever library carries them.
//
// A fan-out event is campfire's wire encoding of a durable event,
//
//	{"type":"message.created","room_id":7,"seq":118,"data":{"ts":1732...,"body":"xxxx"}}
//
// where ts is the time, in Unix nanoseconds, the message was due to be
// published (open loop: the schedule, not the moment the publisher got to
// it, so that a publisher falling behind shows as latency) and body is the
// message body of the size under test.
package wire

import (
	"bytes"
	"strconv"
)

// AppendData appends the event's data object, {"ts":N,"body":"xxx"}, with
// a body of bodySize bytes.
func AppendData(b []byte, ts int64, bodySize int) []byte {
	b = append(b, `{"ts":`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `,"body":"`...)
	for range bodySize {
		b = append(b, 'x')
	}
	return append(b, `"}`...)
}

// AppendEvent appends the whole event as campfire encodes it
// (campfire.Event.AppendJSON), around data.
func AppendEvent(b []byte, typ string, roomID, seq int64, data []byte) []byte {
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, '"')
	if roomID != 0 {
		b = append(b, `,"room_id":`...)
		b = strconv.AppendInt(b, roomID, 10)
	}
	if seq != 0 {
		b = append(b, `,"seq":`...)
		b = strconv.AppendInt(b, seq, 10)
	}
	if len(data) > 0 {
		b = append(b, `,"data":`...)
		b = append(b, data...)
	}
	return append(b, '}')
}

var (
	seqKey  = []byte(`"seq":`)
	tsKey   = []byte(`"ts":`)
	roomKey = []byte(`"room_id":`)
	typeKey = []byte(`"type":"`)
)

// Int returns the integer after key in line, and whether there is one.
func Int(line, key []byte) (int64, bool) {
	i := bytes.Index(line, key)
	if i < 0 {
		return 0, false
	}
	i += len(key)
	var n int64
	start := i
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		n = n*10 + int64(line[i]-'0')
		i++
	}
	return n, i > start
}

// Seq is the event's "seq", 0 if none.
func Seq(line []byte) int64 { n, _ := Int(line, seqKey); return n }

// TS is the data's "ts", 0 if none.
func TS(line []byte) int64 { n, _ := Int(line, tsKey); return n }

// RoomID is the event's "room_id", 0 if none.
func RoomID(line []byte) int64 { n, _ := Int(line, roomKey); return n }

// Type is the event's "type".
func Type(line []byte) []byte {
	i := bytes.Index(line, typeKey)
	if i < 0 {
		return nil
	}
	rest := line[i+len(typeKey):]
	if j := bytes.IndexByte(rest, '"'); j >= 0 {
		return rest[:j]
	}
	return nil
}

// Lines calls f for each newline-separated line of frame.
func Lines(frame []byte, f func(line []byte)) {
	for len(frame) > 0 {
		i := bytes.IndexByte(frame, '\n')
		if i < 0 {
			f(frame)
			return
		}
		if i > 0 {
			f(frame[:i])
		}
		frame = frame[i+1:]
	}
}

// MessageType is the type of the fan-out events.
const MessageType = "message.created"

// AppendMessageEvent appends the whole fan-out event in one go: what a
// server that takes opaque bytes (centrifuge) publishes.
func AppendMessageEvent(b []byte, roomID, seq, ts int64, bodySize int) []byte {
	b = append(b, `{"type":"message.created","room_id":`...)
	b = strconv.AppendInt(b, roomID, 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, `,"data":`...)
	b = AppendData(b, ts, bodySize)
	return append(b, '}')
}

// EventSize is the encoded size of a fan-out event with that body.
func EventSize(roomID, seq int64, bodySize int) int {
	return len(AppendMessageEvent(nil, roomID, seq, 1_700_000_000_000_000_000, bodySize))
}
