// Package hist is a log-linear latency histogram (about 1.5% resolution)
// that is safe for concurrent use and cheap enough to record every delivery.
package hist

import (
	"math/bits"
	"sync/atomic"
	"time"
)

const (
	subBits  = 7
	subCount = 1 << subBits // 128 exact values, then 64 buckets per power of two
	half     = subCount / 2
	nBuckets = subCount + 57*half
)

// H counts durations in nanoseconds.
type H struct {
	counts [nBuckets]atomic.Uint64
	n      atomic.Uint64
	max    atomic.Int64
}

func index(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits
	return subCount + (shift-1)*half + int(v>>shift) - half
}

func lower(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	i -= subCount
	shift := i/half + 1
	return uint64(i%half+half) << shift
}

// Record adds one duration; negative ones count as zero.
func (h *H) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	i := index(uint64(v))
	if i >= nBuckets {
		i = nBuckets - 1
	}
	h.counts[i].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			break
		}
	}
}

// Count is how many durations were recorded.
func (h *H) Count() uint64 { return h.n.Load() }

// Max is the longest duration recorded.
func (h *H) Max() time.Duration { return time.Duration(h.max.Load()) }

// Quantile returns the duration below which a fraction q of the recorded
// ones fall (the bucket's midpoint).
func (h *H) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	target := uint64(q*float64(n) + 0.5)
	if target < 1 {
		target = 1
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= target {
			lo := lower(i)
			hi := lower(i + 1)
			d := time.Duration((lo + hi) / 2)
			if m := h.Max(); d > m {
				d = m
			}
			return d
		}
	}
	return h.Max()
}

// Reset forgets everything recorded.
func (h *H) Reset() {
	for i := range h.counts {
		h.counts[i].Store(0)
	}
	h.n.Store(0)
	h.max.Store(0)
}
