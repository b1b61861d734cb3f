// Package storetest is the conformance suite for [campfire.Store]: every
// implementation runs it, so that the engine can rely on the contract written
// in the Store's doc comments rather than on one store's habits.
//
// A Store author calls [Run] from an ordinary test in the store's package,
// with a function that opens a fresh, empty store for each subtest and
// registers its cleanup:
//
//	package sqlite_test
//
//	import (
//		"path/filepath"
//		"testing"
//
//		"github.com/opencampfire/campfire"
//		"github.com/opencampfire/campfire/store/sqlite"
//		"github.com/opencampfire/campfire/store/storetest"
//	)
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) campfire.Store {
//			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "campfire.db"), nil)
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// A store that needs a server (Postgres, say) reads its DSN from the
// environment and calls t.Skip with a clear message when it is unset, so the
// suite runs wherever CI provides one; its newStore creates a fresh schema or
// database per call.
//
// Subtests are named after the method whose contract they check and read as
// specifications ("CreateMessage/RetryWithSameClientMessageIDReturnsTheFirstMessage"),
// so one area can be run on its own:
//
//	go test -race -run 'Conformance/(CreateMessage|Messages)/' ./store/sqlite/
//
// What the suite assumes of newStore: every call returns a new store holding
// nothing (not even an account), and the store may be used from several
// goroutines at once (some subtests post concurrently; run them with -race).
// Subtests run one after another, never in parallel, so newStore may share
// a server between them.
//
// Times: the suite cannot control a store's clock, so it checks the times a
// store assigns loosely (set, ordered, consistent between calls within a
// second) and the times a caller passes in (session times, unread marks)
// exactly, using whole seconds in UTC.
package storetest

import (
	"testing"

	"github.com/opencampfire/campfire"
)

// Run checks a Store implementation against the contract in
// [campfire.Store]'s doc comments. newStore is called once per subtest and
// must return a fresh, empty store whose cleanup it has registered with t.
func Run(t *testing.T, newStore func(t *testing.T) campfire.Store) {
	for _, g := range suite() {
		t.Run(g.name, func(t *testing.T) {
			for _, sp := range g.specs {
				t.Run(sp.name, func(t *testing.T) {
					s := newStore(t)
					if s == nil {
						t.Fatal("newStore returned a nil Store")
					}
					sp.run(t, s)
				})
			}
		})
	}
}

// group is the specs of one Store method.
type group struct {
	name  string
	specs []spec
}

// spec is one behaviour the contract promises, checked against a fresh store.
type spec struct {
	name string
	run  func(t *testing.T, s campfire.Store)
}

// suite lists every group, in the order of the Store interface.
func suite() []group {
	var all []group
	for _, area := range [][]group{
		accountSpecs(),
		userSpecs(),
		sessionSpecs(),
		roomSpecs(),
		messageSpecs(),
		boostSpecs(),
		searchSpecs(),
		eventSpecs(),
	} {
		all = append(all, area...)
	}
	return all
}
