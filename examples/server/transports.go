package main

import (
	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/transport/sse"
	"github.com/opencampfire/campfire/transport/websocket"
)

// transports are the live event streams the example server offers: the
// web client uses the WebSocket and falls back to SSE.
func transports() []campfire.Transport {
	return []campfire.Transport{websocket.New(nil), sse.New(nil)}
}
