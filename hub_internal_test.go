package campfire

import "testing"

// A subscriber reuses its queue's array while it is drained as it goes,
// and lets a burst's large array go at the next Take.
func TestSubscriberQueueShrinksAfterABurst(t *testing.T) {
	s := &Subscriber{notify: make(chan struct{}, 1), limit: 1 << 30}
	f := Frame{RoomID: 7, Data: []byte(`{"type":"x"}`)}
	for range 64 {
		s.push(f)
	}
	kept := cap(s.queue)
	if got := s.Take(nil); len(got) != 64 {
		t.Fatalf("Take returned %d frames, want 64", len(got))
	}
	if cap(s.queue) != kept {
		t.Fatalf("a small queue's array was not kept: cap %d, want %d", cap(s.queue), kept)
	}
	for range 10 * keptQueueFrames {
		s.push(f)
	}
	if got := s.Take(nil); len(got) != 10*keptQueueFrames {
		t.Fatalf("Take returned %d frames, want %d", len(got), 10*keptQueueFrames)
	}
	if cap(s.queue) > keptQueueFrames {
		t.Fatalf("after a burst the queue keeps an array of %d frames", cap(s.queue))
	}
	s.push(f)
	if got := s.Take(nil); len(got) != 1 {
		t.Fatalf("after the burst, Take returned %d frames, want 1", len(got))
	}
}
