package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// StormResult is the reconnect storm.
type StormResult struct {
	Clients      int     `json:"clients"`
	Rooms        int     `json:"rooms"`
	PostRate     float64 `json:"post_rate"`    // offered, messages/s
	Posted       int64   `json:"posted"`       // acknowledged during the scenario
	PostedPerSec float64 `json:"posted_per_s"` // achieved: acknowledged over the time posting ran
	PostFailed   int64   `json:"post_failed"`
	JitterS      float64 `json:"jitter_s"`
	Resumed      int     `json:"resumed"`
	AllResumedS  float64 `json:"all_resumed_s"` // from the drop until the last client had caught up
	ResumeP50S   float64 `json:"resume_p50_s"`
	Lost         int64   `json:"lost"`
	Duplicated   int64   `json:"duplicated"`
	Resyncs      int64   `json:"resyncs"`
	ErrorEvents  int64   `json:"error_events"`
	Incomplete   int     `json:"incomplete"` // clients without every seq 1..last of their room at the end
	ReconnectErr int64   `json:"reconnect_errors"`
	Delivered    int64   `json:"delivered"`
}

func runStorm(ctx context.Context, rep *Report) error {
	nRooms, perRoom, rate, jitter := 50, 100, 1000.0, 2*time.Second
	if cfg.quick {
		nRooms, perRoom, rate = 10, 50, 200
	}
	if cfg.stormRate > 0 {
		rate = cfg.stormRate
	}
	res := StormResult{Clients: nRooms * perRoom, Rooms: nRooms, PostRate: rate, JitterS: jitter.Seconds()}
	s, err := startServer("campfire", serverArgs("campfire", 0, nRooms, perRoom, "")...)
	if err != nil {
		return err
	}
	defer s.stop()
	rooms, err := roomsOf(s, nRooms)
	if err != nil {
		return err
	}
	clients := make([]*client, 0, nRooms*perRoom)
	roomIndex := map[int64]int{}
	for i, room := range rooms {
		roomIndex[room] = i
		for j := range perRoom {
			clients = append(clients, &client{kind: "campfire", addr: s.addr, user: fmt.Sprintf("u%d", i*perRoom+j+1), room: room})
		}
	}
	defer closeAll(clients)
	logf("storm: connecting %d clients", len(clients))
	if err := dialAll(ctx, clients, func(*client) int64 { return 0 }, 64); err != nil {
		return err
	}
	if err := waitProbed(s, clients, 2*time.Minute); err != nil {
		return err
	}

	// Posting, open loop: message k is due at start + k/rate, to room k mod
	// rooms, by the room's first member.
	acked := make([]atomic.Int64, nRooms) // highest seq acknowledged per room
	var posted, failed atomic.Int64
	stopPosting := make(chan struct{})
	jobs := make(chan int, 100_000)
	var posters sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for range 64 {
		posters.Add(1)
		go func() {
			defer posters.Done()
			for k := range jobs {
				i := k % nRooms
				seq, err := postOne(ctx, client, s, rooms[i], fmt.Sprintf("u%d", i*perRoom+1), k)
				if err != nil {
					failed.Add(1)
					continue
				}
				posted.Add(1)
				for {
					cur := acked[i].Load()
					if seq <= cur || acked[i].CompareAndSwap(cur, seq) {
						break
					}
				}
			}
		}()
	}
	postStart := time.Now()
	go func() {
		defer close(jobs)
		start := time.Now()
		for k := 0; ; k++ {
			due := start.Add(time.Duration(float64(k) / rate * float64(time.Second)))
			select {
			case <-stopPosting:
				return
			case <-time.After(time.Until(due)):
			}
			jobs <- k
		}
	}()
	time.Sleep(3 * time.Second)

	logf("storm: dropping %d connections at once", len(clients))
	tDrop := time.Now()
	for _, c := range clients {
		c.drop()
	}
	var reconnectErrs atomic.Int64
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(rand.N(jitter))
			for !c.down.Load() { // the reader has not noticed the drop yet
				time.Sleep(time.Millisecond)
			}
			target := acked[roomIndex[c.room]].Load()
			c.caughtUp.Store(0)
			c.caughtUpAt.Store(max(target, 1))
			for try := 0; ; try++ {
				err := c.dial(ctx, c.last.Load())
				if err == nil {
					break
				}
				reconnectErrs.Add(1)
				if try == 20 {
					return
				}
				time.Sleep(time.Duration(100*(try+1)) * time.Millisecond)
			}
			if c.last.Load() >= target {
				c.caughtUp.CompareAndSwap(0, time.Now().UnixNano())
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		waiting := 0
		for _, c := range clients {
			if c.caughtUp.Load() == 0 {
				waiting++
			}
		}
		if waiting == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second) // a little more live traffic after the storm
	close(stopPosting)
	posters.Wait()
	res.PostedPerSec = float64(posted.Load()) / time.Since(postStart).Seconds()

	// Every client must now hold exactly seqs 1..last of its room.
	deadline = time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		behind := 0
		for _, c := range clients {
			if c.last.Load() < acked[roomIndex[c.room]].Load() {
				behind++
			}
		}
		if behind == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	var resume []float64
	for _, c := range clients {
		if at := c.caughtUp.Load(); at > 0 {
			res.Resumed++
			resume = append(resume, float64(at-tDrop.UnixNano())/1e9)
		}
		res.Lost += c.lost.Load()
		res.Duplicated += c.dups.Load()
		res.Resyncs += c.resyncs.Load()
		res.ErrorEvents += c.errors.Load()
		res.Delivered += c.count.Load()
		want := acked[roomIndex[c.room]].Load()
		if c.count.Load() != c.last.Load() || c.last.Load() < want {
			res.Incomplete++
		}
	}
	slices.Sort(resume)
	if len(resume) > 0 {
		res.AllResumedS = resume[len(resume)-1]
		res.ResumeP50S = resume[len(resume)/2]
	}
	res.Posted, res.PostFailed, res.ReconnectErr = posted.Load(), failed.Load(), reconnectErrs.Load()
	rep.Storm = &res
	logf("storm: %d/%d resumed, all within %.2fs (p50 %.2fs), lost %d, duplicated %d, resyncs %d, incomplete %d, posted %d (%.0f/s, failed %d), reconnect errors %d",
		res.Resumed, res.Clients, res.AllResumedS, res.ResumeP50S, res.Lost, res.Duplicated, res.Resyncs, res.Incomplete, res.Posted, res.PostedPerSec, res.PostFailed, res.ReconnectErr)
	return nil
}

// postOne posts message k and returns its seq.
func postOne(ctx context.Context, hc *http.Client, s *server, room int64, user string, k int) (int64, error) {
	body, _ := json.Marshal(map[string]string{
		"body":              fmt.Sprintf("storm message %d: still here, still posting", k),
		"client_message_id": "storm-" + strconv.Itoa(k),
	})
	req, _ := http.NewRequestWithContext(ctx, "POST", s.url("/api/v1/rooms/"+strconv.FormatInt(room, 10)+"/messages"), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Bench-User", user)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	var out struct {
		Message struct {
			Seq int64 `json:"seq"`
		} `json:"message"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return 0, err
	}
	return out.Message.Seq, nil
}
