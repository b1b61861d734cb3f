package hist

import (
	"testing"
	"time"
)

func TestQuantiles(t *testing.T) {
	var h H
	for i := 1; i <= 100000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {0.999, 99900 * time.Microsecond}} {
		got := h.Quantile(c.q)
		if d := float64(got-c.want) / float64(c.want); d > 0.02 || d < -0.02 {
			t.Errorf("q%v = %v, want about %v", c.q, got, c.want)
		}
	}
	for v := uint64(0); v < 1<<20; v += 997 {
		if i := index(v); lower(i) > v || lower(i+1) <= v {
			t.Fatalf("value %d in bucket %d [%d, %d)", v, i, lower(i), lower(i+1))
		}
	}
}
