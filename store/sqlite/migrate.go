package sqlite

import (
	"cmp"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
)

// migrations are the schema's steps, named NNNN_what.sql and applied in
// the order of their numbers. A step once released never changes: the next
// change is a new file.
//
//go:embed migrations/*.sql
var migrations embed.FS

type migration struct {
	version int
	name    string
}

// migrate applies, each in its own transaction, the migrations that
// schema_migrations does not list. Each checks the list inside its
// transaction, so two processes opening one file at once apply it once.
func (s *Store) migrate(ctx context.Context, logger *slog.Logger) error {
	steps, err := readMigrations()
	if err != nil {
		return err
	}
	var newest int
	err = s.write(ctx, func(tx *conn) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			applied_at INTEGER NOT NULL
		)`); err != nil {
			return err
		}
		return tx.GetContext(ctx, &newest, `SELECT coalesce(max(version), 0) FROM schema_migrations`)
	})
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	if latest := steps[len(steps)-1].version; newest > latest {
		return fmt.Errorf("sqlite: the database is at schema version %d, newer than this build knows (%d)", newest, latest)
	}
	for _, m := range steps {
		applied := false
		err := s.write(ctx, func(tx *conn) error {
			var done bool
			if err := tx.GetContext(ctx, &done, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, m.version); err != nil || done {
				return err
			}
			script, err := migrations.ReadFile(m.name)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(script)); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.version, s.stamp().UnixNano())
			applied = err == nil
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", path.Base(m.name), err)
		}
		if applied {
			logger.DebugContext(ctx, "sqlite: migration applied", "migration", path.Base(m.name))
		}
	}
	return nil
}

// readMigrations lists the embedded migrations by version.
func readMigrations() ([]migration, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var steps []migration
	for _, name := range names {
		prefix, _, _ := strings.Cut(path.Base(name), "_")
		v, err := strconv.Atoi(prefix)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlite: migration %s: name must start with its number", name)
		}
		steps = append(steps, migration{v, name})
	}
	slices.SortFunc(steps, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	for i := 1; i < len(steps); i++ {
		if steps[i].version == steps[i-1].version {
			return nil, fmt.Errorf("sqlite: migrations %s and %s share a number", steps[i-1].name, steps[i].name)
		}
	}
	return steps, nil
}
