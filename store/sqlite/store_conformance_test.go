package sqlite_test

import (
	"testing"

	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) campfire.Store {
		s, _ := openStore(t, nil)
		return s
	})
}
