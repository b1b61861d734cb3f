package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/bench/internal/hist"
	"github.com/opencampfire/campfire/store/sqlite"
)

// ReadResult is the latency of one kind of read on the big database.
type ReadResult struct {
	Query    string  `json:"query"`
	Path     string  `json:"path"`
	Requests int     `json:"requests"`
	Results  int     `json:"results"` // messages in the last answer
	P50MS    float64 `json:"p50_ms"`
	P99MS    float64 `json:"p99_ms"`
	MaxMS    float64 `json:"max_ms"`
	// The same query straight on the Store, in the load process, after the
	// server stopped: what HTTP, auth and JSON add is the difference.
	StoreP50MS float64 `json:"store_p50_ms"`
	StoreP99MS float64 `json:"store_p99_ms"`
}

// ReadsInfo describes the database.
type ReadsInfo struct {
	Messages   int     `json:"messages"`
	Rooms      int     `json:"rooms"`
	BigRoom    int     `json:"big_room_messages"`
	SeedS      float64 `json:"seed_s"` // 0: reused from an earlier run
	FileMB     float64 `json:"file_mb"`
	Vocabulary int     `json:"vocabulary"`
}

const readsRooms = 100

// vocabulary is a list of made-up words; messages draw them with a Zipf
// distribution, so that some words are common and most are rare.
func vocabulary() []string {
	syl := []string{"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "pe", "do", "fi", "gu", "ha", "je", "zu", "bo"}
	words := make([]string, 0, 4096)
	for i := range 4096 {
		words = append(words, syl[i%16]+syl[(i/16)%16]+syl[i/256]+"x")
	}
	return words
}

func runReads(ctx context.Context, rep *Report) error {
	info, err := seedReads(ctx, cfg.readsDB, cfg.readsN)
	if err != nil {
		return fmt.Errorf("seeding: %w", err)
	}
	words := vocabulary()
	deep := func(room int64) (int64, error) {
		db, err := sql.Open("sqlite", "file:"+cfg.readsDB+"?mode=ro")
		if err != nil {
			return 0, err
		}
		defer db.Close()
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM messages WHERE room_id = ?`, room).Scan(&n); err != nil {
			return 0, err
		}
		var id int64
		err = db.QueryRow(`SELECT id FROM messages WHERE room_id = ? ORDER BY id LIMIT 1 OFFSET ?`, room, n/100).Scan(&id)
		return id, err
	}
	deepBig, err := deep(1)
	if err != nil {
		return err
	}
	if db, err := sql.Open("sqlite", "file:"+cfg.readsDB+"?mode=ro"); err == nil {
		db.QueryRow(`SELECT count(*) FROM messages WHERE room_id = 1`).Scan(&info.BigRoom)
		db.Close()
	}
	deepSmall, err := deep(readsRooms / 2)
	if err != nil {
		return err
	}
	type query struct {
		name, path string
		store      func(campfire.Store) (int, error)
	}
	page := func(room, before int64) func(campfire.Store) (int, error) {
		return func(st campfire.Store) (int, error) {
			p, err := st.Messages(ctx, campfire.MessageQuery{RoomID: room, Before: before, Limit: 50})
			return len(p.Messages), err
		}
	}
	search := func(q string) func(campfire.Store) (int, error) {
		return func(st campfire.Store) (int, error) {
			m, err := st.Search(ctx, 1, q, 100)
			return len(m), err
		}
	}
	small := strconv.Itoa(readsRooms / 2)
	queries := []query{
		{"page of 50, newest, big room", "/api/v1/rooms/1/messages", page(1, 0)},
		{"page of 50, before= 1% from the oldest, big room", "/api/v1/rooms/1/messages?before=" + strconv.FormatInt(deepBig, 10), page(1, deepBig)},
		{"page of 50, newest, small room", "/api/v1/rooms/" + small + "/messages", page(readsRooms/2, 0)},
		{"page of 50, before= 1% from the oldest, small room", "/api/v1/rooms/" + small + "/messages?before=" + strconv.FormatInt(deepSmall, 10), page(readsRooms/2, deepSmall)},
		{"search, common word (~2% of messages)", "/api/v1/search?q=" + words[50], search(words[50])},
		{"search, rare word", "/api/v1/search?q=" + words[3000], search(words[3000])},
		{"search, two words", "/api/v1/search?q=" + url.QueryEscape(words[20]+" "+words[200]), search(words[20] + " " + words[200])},
		{"search, prefix of the last word", "/api/v1/search?q=" + url.QueryEscape(words[7][:4]), search(words[7][:4])},
	}
	budget, maxN := 4*time.Second, 2000
	if cfg.quick {
		budget, maxN = time.Second, 300
	}

	s, err := startServer("campfire", "-db", cfg.readsDB)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 30 * time.Second}
	var results []ReadResult
	for _, q := range queries {
		r := ReadResult{Query: q.name, Path: q.path}
		var lat hist.H
		get := func() (int, error) {
			req, _ := http.NewRequestWithContext(ctx, "GET", s.url(q.path), nil)
			req.Header.Set("X-Bench-User", "u1")
			resp, err := client.Do(req)
			if err != nil {
				return 0, err
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return 0, fmt.Errorf("%s: %d %s", q.path, resp.StatusCode, b)
			}
			return strings.Count(string(b), `"client_message_id"`), nil
		}
		for range 20 {
			if _, err := get(); err != nil {
				s.stop()
				return err
			}
		}
		start := time.Now()
		for r.Requests < maxN && time.Since(start) < budget {
			t := time.Now()
			n, err := get()
			if err != nil {
				s.stop()
				return err
			}
			lat.Record(time.Since(t))
			r.Requests++
			r.Results = n
		}
		r.P50MS, r.P99MS, r.MaxMS = ms(lat.Quantile(0.5)), ms(lat.Quantile(0.99)), ms(lat.Max())
		results = append(results, r)
	}
	s.stop()

	st, err := sqlite.Open(ctx, cfg.readsDB, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	for i, q := range queries {
		var lat hist.H
		for range 20 {
			q.store(st)
		}
		start := time.Now()
		for n := 0; n < maxN && time.Since(start) < budget; n++ {
			t := time.Now()
			if _, err := q.store(st); err != nil {
				return err
			}
			lat.Record(time.Since(t))
		}
		results[i].StoreP50MS, results[i].StoreP99MS = ms(lat.Quantile(0.5)), ms(lat.Quantile(0.99))
	}
	for _, r := range results {
		logf("reads %s: p50 %.3fms p99 %.3fms (store p50 %.3fms p99 %.3fms), %d results, %d requests",
			r.Query, r.P50MS, r.P99MS, r.StoreP50MS, r.StoreP99MS, r.Results, r.Requests)
	}
	rep.Reads = results
	rep.ReadsInfo = &info
	return nil
}

// seedReads makes (or reuses) a database of n messages in 100 open rooms:
// half of them in room 1, the rest spread over the other rooms, in one
// interleaved history. Users and rooms go through the Store; messages, which
// would take minutes one transaction at a time, are bulk-inserted with the
// same SQL the Store uses, in large transactions.
func seedReads(ctx context.Context, path string, n int) (ReadsInfo, error) {
	info := ReadsInfo{Messages: n, Rooms: readsRooms, Vocabulary: 4096}
	marker := path + ".seeded"
	if b, err := os.ReadFile(marker); err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(n) {
		if fi, err := os.Stat(path); err == nil {
			info.FileMB = float64(fi.Size()) / 1e6
		}
		logf("reads: reusing %s", path)
		return info, nil
	}
	logf("reads: seeding %d messages into %s", n, path)
	t := time.Now()
	for _, suffix := range []string{"", "-wal", "-shm", ".seeded"} {
		os.Remove(path + suffix)
	}
	st, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		return info, err
	}
	var userIDs []int64
	for i := range 10 {
		name := fmt.Sprintf("u%d", i+1)
		u, err := st.CreateUser(ctx, campfire.NewUser{Name: name, Role: campfire.RoleMember, ExternalID: name})
		if err != nil {
			st.Close()
			return info, err
		}
		userIDs = append(userIDs, u.ID)
	}
	for i := range readsRooms {
		if _, err := st.CreateRoom(ctx, campfire.NewRoom{Kind: campfire.RoomOpen, Name: fmt.Sprintf("room %d", i+1), CreatorID: userIDs[0]}); err != nil {
			st.Close()
			return info, err
		}
	}
	st.Close()

	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)&_pragma=foreign_keys(1)")
	if err != nil {
		return info, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	words := vocabulary()
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(len(words)-1))
	seqs := make([]int64, readsRooms+1)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	const batch = 20_000
	var sb strings.Builder
	for done := 0; done < n; {
		tx, err := db.Begin()
		if err != nil {
			return info, err
		}
		insMsg, err := tx.Prepare(`INSERT INTO messages (room_id, creator_id, client_message_id, seq, markdown, html, plain_text, mentions, sound, created_at, updated_at)
			VALUES (?, ?, '', ?, ?, ?, ?, '[]', '', ?, ?) RETURNING id`)
		if err != nil {
			return info, err
		}
		insFTS, err := tx.Prepare(`INSERT INTO messages_fts (rowid, plain_text) VALUES (?, ?)`)
		if err != nil {
			return info, err
		}
		for end := min(n, done+batch); done < end; done++ {
			room := int64(1)
			if rng.IntN(2) == 1 {
				room = 2 + rng.Int64N(readsRooms-1)
			}
			seqs[room]++
			sb.Reset()
			for w := range 8 + rng.IntN(16) {
				if w > 0 {
					sb.WriteByte(' ')
				}
				sb.WriteString(words[zipf.Uint64()])
			}
			text := sb.String()
			at := base + int64(done)*int64(time.Second)
			var id int64
			if err := insMsg.QueryRow(room, userIDs[rng.IntN(len(userIDs))], seqs[room], text, "<p>"+text+"</p>", text, at, at).Scan(&id); err != nil {
				return info, err
			}
			if _, err := insFTS.Exec(id, text); err != nil {
				return info, err
			}
		}
		insMsg.Close()
		insFTS.Close()
		if err := tx.Commit(); err != nil {
			return info, err
		}
		if done%200_000 == 0 {
			logf("reads: %d messages", done)
		}
	}
	// The rooms' sequence numbers, and each room's latest event, as a log
	// pruned down to its last entry would leave them.
	for room := int64(1); room <= readsRooms; room++ {
		if _, err := db.Exec(`UPDATE rooms SET last_seq = ? WHERE id = ?`, seqs[room], room); err != nil {
			return info, err
		}
		if seqs[room] > 0 {
			if _, err := db.Exec(`INSERT INTO room_events (room_id, seq, type, data, created_at) VALUES (?, ?, 'message.created', '{}', ?)`,
				room, seqs[room], base); err != nil {
				return info, err
			}
		}
	}
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return info, err
	}
	info.BigRoom = int(seqs[1])
	info.SeedS = time.Since(t).Seconds()
	if fi, err := os.Stat(path); err == nil {
		info.FileMB = float64(fi.Size()) / 1e6
	}
	logf("reads: seeded in %.0fs", info.SeedS)
	return info, os.WriteFile(marker, []byte(strconv.Itoa(n)+"\n"), 0o644)
}
