package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/store/sqlite"
)

// The store's hot paths: posting, reading a page, searching. Compare runs
// with benchstat:
//
//	go test -run '^$' -bench . -count 10 ./store/sqlite > new.txt
//	benchstat old.txt new.txt
//
// bench/ (its own module) measures the same paths end to end, over HTTP.

const benchText = "Message from the benchmark: the quick brown fox **jumps** over the lazy dog, see https://example.com/"

func BenchmarkCreateMessage(b *testing.B) { benchPostOneByOne(b, mustOpen(b)) }

// benchPostOneByOne posts one message at a time: a commit each.
func benchPostOneByOne(b *testing.B, s *sqlite.Store) {
	fx := setUp(b, s)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := fx.s.CreateMessage(ctx, campfire.NewMessage{
			RoomID: fx.room.ID, CreatorID: fx.member.ID, ClientMessageID: "c" + strconv.Itoa(i),
			Body: campfire.Body{Markdown: benchText, HTML: "<p>" + benchText + "</p>", PlainText: benchText},
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateMessageParallel posts from GOMAXPROCS*4 goroutines at
// once: the one writer connection serializes them.
func BenchmarkCreateMessageParallel(b *testing.B) { benchPostAtOnce(b, mustOpen(b)) }

func benchPostAtOnce(b *testing.B, s *sqlite.Store) {
	fx := setUp(b, s)
	ctx := context.Background()
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := fx.s.CreateMessage(ctx, campfire.NewMessage{
				RoomID: fx.room.ID, CreatorID: fx.member.ID, ClientMessageID: "c" + strconv.FormatInt(n.Add(1), 10),
				Body: campfire.Body{Markdown: benchText, HTML: "<p>" + benchText + "</p>", PlainText: benchText},
			}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkSynchronous is what Options.Synchronous "FULL" costs a post
// against "NORMAL", the two run in turn: one post at a time (an fsync for
// each with FULL) and GOMAXPROCS*4 at once (an fsync for each group the
// writer commits). The database is a file in the temporary directory: put
// TMPDIR on the disk to be measured, as a tmpfs never syncs.
//
//	go test -run '^$' -bench Synchronous -count 6 ./store/sqlite
func BenchmarkSynchronous(b *testing.B) {
	for _, sync := range []string{"NORMAL", "FULL"} {
		b.Run(sync+"/one-by-one", func(b *testing.B) {
			s, _ := openStore(b, &sqlite.Options{Synchronous: sync})
			benchPostOneByOne(b, s)
		})
		b.Run(sync+"/at-once", func(b *testing.B) {
			s, _ := openStore(b, &sqlite.Options{Synchronous: sync})
			benchPostAtOnce(b, s)
		})
	}
}

func mustOpen(b *testing.B) *sqlite.Store {
	s, _ := openStore(b, nil)
	return s
}

// bigRoom is a store holding benchMessages messages in 10 rooms, half of
// them in the first, with a Zipf-distributed vocabulary for search.
type bigRoom struct {
	s     *sqlite.Store
	user  campfire.User
	room  int64
	deep  int64 // a cursor 1% from the oldest message of room
	words []string
}

const benchMessages = 100_000

func openBigRoom(b *testing.B) bigRoom {
	b.Helper()
	s, path := openStore(b, nil)
	fx := setUp(b, s)
	ctx := context.Background()
	rooms := []int64{fx.room.ID}
	for i := range 9 {
		r, err := s.CreateRoom(ctx, campfire.NewRoom{Kind: campfire.RoomOpen, Name: fmt.Sprint("room ", i), CreatorID: fx.admin.ID})
		if err != nil {
			b.Fatal(err)
		}
		rooms = append(rooms, r.ID)
	}
	syl := []string{"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "pe", "do", "fi", "gu", "ha", "je", "zu", "bo"}
	words := make([]string, 4096)
	for i := range words {
		words[i] = syl[i%16] + syl[(i/16)%16] + syl[i/256] + "x"
	}
	// Bulk insert, with the columns CreateMessage writes: one transaction
	// per message would take a minute.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(len(words)-1))
	seqs := map[int64]int64{}
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	for i := range benchMessages {
		room := rooms[0]
		if rng.IntN(2) == 1 {
			room = rooms[1+rng.IntN(len(rooms)-1)]
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
		var id int64
		if err := tx.QueryRow(`INSERT INTO messages (room_id, creator_id, seq, markdown, html, plain_text, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, room, fx.member.ID, seqs[room], text, "<p>"+text+"</p>", text, i, i).Scan(&id); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT INTO messages_fts (rowid, plain_text) VALUES (?, ?)`, id, text); err != nil {
			b.Fatal(err)
		}
	}
	for room, seq := range seqs {
		if _, err := tx.Exec(`UPDATE rooms SET last_seq = ? WHERE id = ?`, seq, room); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	br := bigRoom{s: s, user: fx.member, room: rooms[0], words: words}
	if err := db.QueryRow(`SELECT id FROM messages WHERE room_id = ? ORDER BY id LIMIT 1 OFFSET ?`, br.room, seqs[br.room]/100).Scan(&br.deep); err != nil {
		b.Fatal(err)
	}
	return br
}

func BenchmarkMessages(b *testing.B) {
	br := openBigRoom(b)
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		before int64
	}{{"Newest", 0}, {"BeforeDeep", br.deep}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := br.s.Messages(ctx, campfire.MessageQuery{RoomID: br.room, Before: c.before, Limit: 50})
				if err != nil || len(p.Messages) != 50 {
					b.Fatal(len(p.Messages), err)
				}
			}
		})
	}
}

func BenchmarkSearch(b *testing.B) {
	br := openBigRoom(b)
	ctx := context.Background()
	for _, c := range []struct{ name, query string }{
		{"CommonWord", br.words[50]},
		{"RareWord", br.words[3000]},
		{"TwoWords", br.words[20] + " " + br.words[200]},
		{"Prefix", br.words[7][:4]},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := br.s.Search(ctx, br.user.ID, c.query, 100); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
