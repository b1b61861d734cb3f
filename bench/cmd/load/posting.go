package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opencampfire/campfire/bench/internal/hist"
	_ "modernc.org/sqlite"
)

// PostingResult is durable posting through POST /messages.
type PostingResult struct {
	Synchronous   string  `json:"synchronous,omitempty"` // the server's SQLite synchronous setting
	Posters       int     `json:"posters"`
	DurationS     float64 `json:"duration_s"`
	Acked         int64   `json:"acked"`
	Failed        int64   `json:"failed"`
	PerSec        float64 `json:"acked_per_s"`
	P50MS         float64 `json:"p50_ms"`
	P99MS         float64 `json:"p99_ms"`
	P999MS        float64 `json:"p999_ms"`
	ServerCPUUtil float64 `json:"server_cpu_util"`
	CPUMSPerPost  float64 `json:"server_cpu_ms_per_post"`
	AllocsPerPost float64 `json:"allocs_per_post"`
}

// PostingCheck is the proof that nothing acknowledged was lost.
type PostingCheck struct {
	Acked    int    `json:"acked"`    // acknowledged (201) over all runs, warm-ups included
	Verified int    `json:"verified"` // found in the database after the server was killed (SIGKILL)
	Missing  int    `json:"missing"`
	How      string `json:"how"`
}

type ack struct {
	id, room int64
	cid      string
}

// runPosting runs the posting scenario once for each -sync setting, each on
// a new database and server, and adds up the checks.
func runPosting(ctx context.Context, rep *Report) error {
	for _, setting := range cfg.syncs {
		if err := runPostingWith(ctx, rep, strings.TrimSpace(setting)); err != nil {
			return fmt.Errorf("synchronous %s: %w", setting, err)
		}
	}
	return nil
}

func runPostingWith(ctx context.Context, rep *Report, synchronous string) error {
	dur := 10 * time.Second
	if cfg.quick {
		dur = 2 * time.Second
	}
	dir, err := os.MkdirTemp("", "campfire-bench-posting-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dbPath := filepath.Join(dir, "campfire.db")
	s, err := startServer("campfire", append(serverArgs("campfire", 64, 16, 0, dbPath), "-sync", synchronous)...)
	if err != nil {
		return err
	}
	killed := false
	defer func() {
		if !killed {
			s.stop()
		}
	}()
	rooms, err := roomsOf(s, 16)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var acks []ack
	for _, posters := range []int{16, 64} {
		post(ctx, s, rooms, posters, time.Second, &mu, &acks, nil) // warm-up
		var lat hist.H
		st0 := s.stats()
		t0 := time.Now()
		n, failed := post(ctx, s, rooms, posters, dur, &mu, &acks, &lat)
		wall := time.Since(t0)
		st1 := s.stats()
		if posters == 64 && cfg.pprof {
			// A separate, profiled run, so that profiling does not touch the figures.
			go s.saveProfile(ctx, fmt.Sprintf("/debug/pprof/profile?seconds=%d", max(1, int(dur.Seconds())-1)), "posting-campfire-cpu.pb.gz")
			post(ctx, s, rooms, posters, dur, &mu, &acks, nil)
			s.saveProfile(ctx, "/debug/pprof/allocs", "posting-campfire-allocs.pb.gz")
		}
		r := PostingResult{
			Synchronous: synchronous, Posters: posters, DurationS: wall.Seconds(), Acked: n, Failed: failed,
			PerSec: float64(n) / wall.Seconds(),
			P50MS:  ms(lat.Quantile(0.5)), P99MS: ms(lat.Quantile(0.99)), P999MS: ms(lat.Quantile(0.999)),
			ServerCPUUtil: float64(st1.CPUNanos-st0.CPUNanos) / float64(wall),
		}
		if n > 0 {
			r.CPUMSPerPost = float64(st1.CPUNanos-st0.CPUNanos) / 1e6 / float64(n)
			r.AllocsPerPost = float64(st1.AllocObjects-st0.AllocObjects) / float64(n)
		}
		rep.Posting = append(rep.Posting, r)
		logf("posting (synchronous %s) %d posters: %.0f acked/s p50 %.2fms p99 %.2fms failed %d (server cpu %.0f%%, %.3f ms/post, %.0f allocs/post)",
			synchronous, posters, r.PerSec, r.P50MS, r.P99MS, failed, 100*r.ServerCPUUtil, r.CPUMSPerPost, r.AllocsPerPost)
	}
	// The proof: kill the server as a crash would, then look for every
	// acknowledged message in the file.
	s.kill()
	killed = true
	check, err := verifyAcks(dbPath, acks)
	if err != nil {
		return err
	}
	if c := rep.PostingCheck; c != nil {
		check.Acked += c.Acked
		check.Verified += c.Verified
		check.Missing += c.Missing
	}
	rep.PostingCheck = &check
	logf("posting: %d acknowledged, %d found after kill -9, %d missing", check.Acked, check.Verified, check.Missing)
	if check.Missing > 0 {
		return fmt.Errorf("%d acknowledged messages missing", check.Missing)
	}
	return nil
}

var postHTTP = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

var postSerial atomic.Int64

// post runs posters closed-loop for dur; each posts as its own user to one
// of the rooms, and every 201 is remembered.
func post(ctx context.Context, s *server, rooms []int64, posters int, dur time.Duration, mu *sync.Mutex, acks *[]ack, lat *hist.H) (n, failed int64) {
	var wg sync.WaitGroup
	var ok, bad atomic.Int64
	deadline := time.Now().Add(dur)
	for p := range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			room := rooms[p%len(rooms)]
			user := fmt.Sprintf("u%d", p+1)
			url := s.url("/api/v1/rooms/" + strconv.FormatInt(room, 10) + "/messages")
			var mine []ack
			for time.Now().Before(deadline) {
				k := postSerial.Add(1)
				cid := "bench-" + strconv.FormatInt(k, 10)
				body, _ := json.Marshal(map[string]string{
					"body":              fmt.Sprintf("Message %d from poster %d: the quick brown fox **jumps** over the lazy dog, see https://example.com/%d", k, p, k),
					"client_message_id": cid,
				})
				req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Bench-User", user)
				t := time.Now()
				resp, err := postHTTP.Do(req)
				if err != nil {
					bad.Add(1)
					continue
				}
				var out struct {
					Message struct {
						ID              int64  `json:"id"`
						ClientMessageID string `json:"client_message_id"`
					} `json:"message"`
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &out) != nil || out.Message.ID == 0 {
					bad.Add(1)
					continue
				}
				if lat != nil {
					lat.Record(time.Since(t))
				}
				ok.Add(1)
				mine = append(mine, ack{id: out.Message.ID, room: room, cid: cid})
			}
			mu.Lock()
			*acks = append(*acks, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return ok.Load(), bad.Load()
}

// verifyAcks opens the database the killed server left and checks that
// every acknowledged message is there, in its room, with its client id.
func verifyAcks(path string, acks []ack) (PostingCheck, error) {
	check := PostingCheck{Acked: len(acks), How: "server killed with SIGKILL after the runs; the SQLite file then read directly"}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return check, err
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id, room_id, client_message_id FROM messages WHERE deleted_at IS NULL`)
	if err != nil {
		return check, err
	}
	defer rows.Close()
	type row struct {
		room int64
		cid  string
	}
	stored := map[int64]row{}
	for rows.Next() {
		var id int64
		var r row
		if err := rows.Scan(&id, &r.room, &r.cid); err != nil {
			return check, err
		}
		stored[id] = r
	}
	if err := rows.Err(); err != nil {
		return check, err
	}
	for _, a := range acks {
		if r, ok := stored[a.id]; ok && r.room == a.room && r.cid == a.cid {
			check.Verified++
		} else {
			check.Missing++
		}
	}
	return check, nil
}
