package main

import (
	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/transport/sse"
)

// transports are the live event streams the example server offers.
func transports() []campfire.Transport {
	return []campfire.Transport{sse.New(nil)}
}
