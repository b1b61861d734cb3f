// Command server runs a complete Campfire on an embedded SQLite database.
//
//	go run ./examples/server [-addr localhost:8080] [-db ./campfire.db] [-sync normal|full]
//
// The flags can also be set with CAMPFIRE_ADDR, CAMPFIRE_DB and
// CAMPFIRE_SYNC. -sync full makes every acknowledged post survive a power
// loss, at the cost of an fsync per commit; normal, the default, keeps them
// through a crash of the process only (see sqlite.Options.Synchronous).
// The first visitor sets up the admin account (POST /api/v1/setup, or the
// web client).
//
//	go run ./examples/server backup [-db ./campfire.db] DEST
//
// takes a consistent backup of the database, the server running or not.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/opencampfire/campfire"
	"github.com/opencampfire/campfire/store/sqlite"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "campfire:", err)
		os.Exit(1)
	}
}

// run starts the server and blocks until SIGINT or SIGTERM, then shuts down
// cleanly: connections are told the server is going away and the database
// is closed after the last request.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "backup" {
		return backup(ctx, args[1:], getenv, stdout)
	}
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	addr := fs.String("addr", envOr(getenv, "CAMPFIRE_ADDR", "localhost:8080"), "address to listen on (env CAMPFIRE_ADDR)")
	dbPath := fs.String("db", envOr(getenv, "CAMPFIRE_DB", "./campfire.db"), "SQLite database file (env CAMPFIRE_DB)")
	sync := fs.String("sync", envOr(getenv, "CAMPFIRE_SYNC", "normal"),
		"what an acknowledged post survives: normal, a crash of the process; full, a power loss too, at an fsync per commit (env CAMPFIRE_SYNC)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if s := strings.ToLower(*sync); s != "normal" && s != "full" {
		return fmt.Errorf("-sync %q: want normal or full", *sync)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	db, err := sqlite.Open(ctx, *dbPath, &sqlite.Options{Logger: logger, Synchronous: *sync})
	if err != nil {
		return err
	}
	defer db.Close()

	chat, err := campfire.New(campfire.Config{
		Store:      db,
		Transports: transports(),
		Logger:     logger,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           routes(chat),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stdout, "campfire listening on http://%s (database %s, synchronous %s)\n", ln.Addr(), *dbPath, db.Synchronous())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Close live connections first: Server.Shutdown would wait for them.
	chatErr := chat.Shutdown(shutdownCtx)
	srvErr := srv.Shutdown(shutdownCtx)
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return errors.Join(chatErr, srvErr)
}

// routes mounts the chat at the root; the API lives under /api/v1, and
// every other path is the web client.
func routes(chat http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/", chat)
	mux.HandleFunc("GET /up", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.Handle("/", webApp())
	return mux
}

func envOr(getenv func(string) string, key, fallback string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return fallback
}
