package main

import "github.com/opencampfire/campfire"

// transports are the live event streams the example server offers.
func transports() []campfire.Transport { return nil }
