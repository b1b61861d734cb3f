package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// Backup writes a consistent copy of the database to path while the store
// stays in use. The copy is one snapshot: every write committed before
// Backup was called is in it, and of the writes that commit while it runs,
// each is either wholly in it or wholly absent. Writes are not held up: the
// copy is made by VACUUM INTO on a connection of its own, inside a read
// transaction, which WAL lets run beside the writer. (While it runs, the WAL
// is not checkpointed past the snapshot, so it may grow.)
//
// Backup refuses a path that exists, with an error matching [fs.ErrExist]:
// a backup never overwrites anything. The copy is written beside path under
// a temporary name, flushed to disk, and only then given its name, so path
// holds either a complete backup or nothing, even if the process dies on
// the way. The copy is compacted (free pages dropped) and opens with [Open]
// like any store; restoring is putting it where the server's database was,
// with the server stopped.
func (s *Store) Backup(ctx context.Context, path string) error {
	if path == "" {
		return errors.New("sqlite: backup: empty path")
	}
	if err := notExisting(path); err != nil {
		return err
	}
	src, err := s.mainFile(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	// VACUUM INTO takes a file that does not exist or is empty; a fresh
	// temporary file in the destination's directory (the same file system,
	// so that it can be linked into place) is empty.
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".backup-*")
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName) // after the link below, path keeps the file

	if err := vacuumInto(ctx, src, tmpName); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	// SQLite does not sync the file VACUUM INTO writes.
	if err := syncFile(tmpName); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	// A hard link fails if path appeared meanwhile, where a rename would
	// replace it.
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("sqlite: backup: %s exists: %w", path, fs.ErrExist)
		}
		// A file system without hard links: check once more, then rename.
		if err := notExisting(path); err != nil {
			return err
		}
		if err := os.Rename(tmpName, path); err != nil {
			return fmt.Errorf("sqlite: backup: %w", err)
		}
	}
	// The new name is an entry in dir: sync it too, or a power cut could
	// lose the name of a synced file.
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	return nil
}

// notExisting returns an error matching fs.ErrExist if path exists.
func notExisting(path string) error {
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return fmt.Errorf("sqlite: backup: %s exists: %w", path, fs.ErrExist)
	case errors.Is(err, fs.ErrNotExist):
		return nil
	default:
		return fmt.Errorf("sqlite: backup: %w", err)
	}
}

// mainFile is the path of the store's database file, as SQLite opened it.
func (s *Store) mainFile(ctx context.Context) (string, error) {
	var file string
	err := s.get(ctx, &file, `SELECT file FROM pragma_database_list WHERE name = 'main'`)
	if err == nil && file == "" {
		err = errors.New("the store has no database file")
	}
	return file, err
}

// vacuumInto copies the database at src into dst through a connection of
// its own. The readers cannot do it (they are query_only, which refuses
// VACUUM), and the writer should not: writes would queue behind the copy.
func vacuumInto(ctx context.Context, src, dst string) error {
	db, err := sql.Open("sqlite", dsn(src, "NORMAL", false))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	_, err = db.ExecContext(ctx, `VACUUM INTO ?`, dst)
	return err
}

func syncFile(name string) error {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	return errors.Join(err, f.Close())
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if runtime.GOOS == "windows" {
		err = nil // a directory cannot be synced there; NTFS journals its entries
	}
	return errors.Join(err, d.Close())
}
