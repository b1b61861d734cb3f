package campfire

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// TestLimiterMemoryIsBounded: 400,000 distinct keys (three times the bound), each taking one
// token, leave a limiter at most maxBuckets buckets and a few megabytes,
// and a key that spent its burst before the flood is still refused after
// it: the flood evicts the fullest buckets, not the emptiest.
func TestLimiterMemoryIsBounded(t *testing.T) {
	stopped := time.Now()
	l := newLimiterSet(Rate{PerSecond: 1.0 / 18, Burst: 10}, func() time.Time { return stopped })
	for range 10 {
		l.allow("victim@example.com")
	}
	if ok, _ := l.allow("victim@example.com"); ok {
		t.Fatal("the victim's eleventh try was allowed")
	}

	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	for i := range 400_000 {
		if ok, _ := l.allow(fmt.Sprintf("flood-%d-%0200d@example.com", i, i)); !ok {
			t.Fatalf("key %d refused on its first try", i)
		}
	}
	after := heap()
	t.Logf("%d buckets; heap %d MB before, %d MB after", len(l.b.tat), before>>20, after>>20)
	if len(l.b.tat) > maxBuckets {
		t.Fatalf("%d buckets, want at most %d", len(l.b.tat), maxBuckets)
	}
	if grown := int64(after) - int64(before); grown > 16<<20 {
		t.Fatalf("the heap grew by %d MB, want under 16 MB", grown>>20)
	}
	if ok, _ := l.allow("victim@example.com"); ok {
		t.Fatal("the flood gave the victim's guesser a fresh burst")
	}
}
