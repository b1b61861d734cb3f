// Command server-campfire is the campfire server under test: the library
// on SQLite with the WebSocket and SSE transports, users authenticated by
// the host-identity hook from an X-Bench-User header (so that no password
// hashing is timed), and the bench endpoints of internal/benchsrv.
//
//	server-campfire -addr 127.0.0.1:9100 [-db file] [-users 100] [-rooms 100] [-room-size 0] [-pprof]
//
// On a new database it creates the users u1..uN and the rooms: open rooms
// (every user a member) by default, or with -room-size M closed rooms of M
// members each (room i holds users i*M+1..i*M+M). GET /bench/setup lists the
// room ids in order.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/bench/internal/benchsrv"
	"github.com/opencampfire/campfire/bench/internal/wire"
	"github.com/opencampfire/campfire/store/sqlite"
	"github.com/opencampfire/campfire/transport/sse"
	"github.com/opencampfire/campfire/transport/websocket"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "server-campfire:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:9100", "listen address (loopback)")
	dbPath := flag.String("db", "", "SQLite file (default: a new one in a temporary directory)")
	users := flag.Int("users", 100, "users to create on a new database")
	rooms := flag.Int("rooms", 100, "rooms to create on a new database")
	roomSize := flag.Int("room-size", 0, "0: open rooms; M: closed rooms of M members each")
	withPprof := flag.Bool("pprof", false, "serve net/http/pprof under /debug/pprof/")
	sync := flag.String("sync", "normal", "SQLite synchronous setting: normal or full (sqlite.Options.Synchronous)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	if *dbPath == "" {
		dir, err := os.MkdirTemp("", "campfire-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*dbPath = filepath.Join(dir, "campfire.db")
	}
	db, err := sqlite.Open(ctx, *dbPath, &sqlite.Options{Logger: logger, Synchronous: *sync})
	if err != nil {
		return err
	}
	defer db.Close()
	roomIDs, err := seed(ctx, db, *users, *rooms, *roomSize)
	if err != nil {
		return err
	}

	chat, err := campfire.New(campfire.Config{
		Store:      db,
		Transports: []campfire.Transport{websocket.New(&websocket.Options{Logger: logger}), sse.New(&sse.Options{Logger: logger})},
		Authenticate: func(r *http.Request) (campfire.Identity, error) {
			id := r.Header.Get("X-Bench-User")
			if id == "" {
				return campfire.Identity{}, campfire.ErrUnauthenticated
			}
			return campfire.Identity{ExternalID: id, Name: id}, nil
		},
		PostRate: -1, // the load is many posts per user: no per-user limit
		Logger:   logger,
	})
	if err != nil {
		return err
	}
	target := &target{hub: chat.Hub()}
	mux := http.NewServeMux()
	mux.Handle("/api/", chat)
	bench := benchsrv.Handler(target, *withPprof)
	mux.Handle("/bench/", bench)
	mux.Handle("/debug/", bench)
	mux.HandleFunc("GET /bench/setup", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"rooms": roomIDs, "db": *dbPath})
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Printf("ready %s\n", ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	chatErr := chat.Shutdown(sctx)
	srv.Shutdown(sctx)
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return chatErr
}

// seed creates the users and rooms on a database that has no rooms yet, and
// returns the ids of the rooms, in order.
func seed(ctx context.Context, db *sqlite.Store, users, rooms, roomSize int) ([]int64, error) {
	var ids []int64
	for id := int64(1); ; id++ {
		if _, err := db.Room(ctx, id); err != nil {
			break
		}
		ids = append(ids, id)
	}
	if len(ids) > 0 {
		return ids, nil
	}
	if roomSize > 0 {
		users = max(users, rooms*roomSize)
	}
	userIDs := make([]int64, users)
	for i := range users {
		name := fmt.Sprintf("u%d", i+1)
		u, err := db.CreateUser(ctx, campfire.NewUser{Name: name, Role: campfire.RoleMember, ExternalID: name})
		if err != nil {
			return nil, err
		}
		userIDs[i] = u.ID
	}
	for i := range rooms {
		nr := campfire.NewRoom{Kind: campfire.RoomOpen, Name: fmt.Sprintf("room %d", i+1), CreatorID: userIDs[0]}
		if roomSize > 0 {
			members := userIDs[i*roomSize : (i+1)*roomSize]
			nr = campfire.NewRoom{Kind: campfire.RoomClosed, Name: nr.Name, CreatorID: members[0], UserIDs: members[1:]}
		}
		room, err := db.CreateRoom(ctx, nr)
		if err != nil {
			return nil, err
		}
		ids = append(ids, room.ID)
	}
	return ids, nil
}

// target publishes through the Hub, as the library does after a commit:
// a durable message.created event with the room's next sequence number.
type target struct{ hub *campfire.Hub }

func (t *target) Publish(roomID, seq, ts int64, bodySize int) {
	t.hub.Publish(campfire.Event{
		Type: campfire.EventMessageCreated, RoomID: roomID, Seq: seq,
		Data: wire.AppendData(make([]byte, 0, bodySize+40), ts, bodySize),
	})
}

func (t *target) Probe(roomID int64) {
	t.hub.Publish(campfire.Event{Type: "probe", RoomID: roomID})
}
