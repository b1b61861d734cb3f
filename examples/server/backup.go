package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/opencampfire/campfire/store/sqlite"
)

// backup writes one consistent copy of the database to DEST and exits. It
// works while the server runs (from another process, on the same machine):
// SQLite's WAL lets it read a snapshot while the server goes on writing.
// DEST must not exist.
func backup(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	dbPath := fs.String("db", envOr(getenv, "CAMPFIRE_DB", "./campfire.db"), "SQLite database file to back up (env CAMPFIRE_DB)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: server backup [-db ./campfire.db] DEST")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("backup: name one destination file")
	}
	dest := fs.Arg(0)
	// Opening a missing file would create an empty database: refuse.
	if _, err := os.Stat(*dbPath); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := sqlite.Open(ctx, *dbPath, &sqlite.Options{Logger: logger})
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	if err := db.Backup(ctx, dest); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s in %v\n", *dbPath, dest, time.Since(start).Round(time.Millisecond))
	return nil
}
