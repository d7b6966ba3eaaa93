package postgres

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/zap"

	"github.com/brokerly/accounts/migrations"
)

// migrationLockKey is the pg_advisory_lock key that serialises migrators across processes:
// the first 8 bytes of "accounts" read as a big-endian integer. Any fixed value works as long
// as nothing else on the cluster uses it.
const migrationLockKey int64 = 0x6163636f756e7473

// lockRetryDelay paces re-attempts when statement_timeout cuts a wait for the lock short.
const lockRetryDelay = 100 * time.Millisecond

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    text        NOT NULL PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// Migrate applies the embedded migrations that are not yet recorded, in name order, each in
// its own transaction. It is safe to run twice (the second run changes nothing) and from
// several processes at once: an advisory lock, held on one dedicated connection for the
// whole run, lets one migrator work while the others wait and then find nothing to do.
func Migrate(ctx context.Context, db *DB, log *zap.Logger) (err error) {
	if log == nil {
		log = zap.NewNop()
	}
	versions, err := migrationVersions()
	if err != nil {
		return err
	}

	conn, err := db.orm.Conn(ctx)
	if err != nil {
		return translate("migrate: connect", err)
	}
	defer func() {
		// The advisory lock is session-level: release it before the connection goes back to
		// the pool, and if that fails, make the pool discard the connection so the lock (or a
		// half-done session state) can never outlive this run.
		if unlockErr := releaseMigrationLock(conn); unlockErr != nil {
			log.Warn("migration lock release failed; discarding the connection", zap.Error(unlockErr))
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		_ = conn.Close()
	}()

	if err := acquireMigrationLock(ctx, conn, log); err != nil {
		return err
	}
	if _, err := conn.Conn.ExecContext(ctx, createMigrationsTable); err != nil {
		return translate("migrate: create schema_migrations", err)
	}

	applied := 0
	for _, version := range versions {
		done, err := applyMigration(ctx, conn, version)
		if err != nil {
			return err
		}
		if done {
			applied++
			log.Info("migration applied", zap.String("version", version))
		}
	}
	log.Info("database schema up to date", zap.Int("applied", applied), zap.Int("total", len(versions)))
	return nil
}

// acquireMigrationLock waits for the lock as long as ctx allows. A statement_timeout set on
// the login role would end a single long wait with 57014; that is not a reason to give up.
func acquireMigrationLock(ctx context.Context, conn bun.Conn, log *zap.Logger) error {
	for {
		_, err := conn.Conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey)
		if err == nil {
			return nil
		}
		if sqlState(err) != codeQueryCanceled || ctx.Err() != nil {
			return translate("migrate: wait for the migration lock", err)
		}
		log.Info("still waiting for another migrator to finish")
		select {
		case <-ctx.Done():
			return translate("migrate: wait for the migration lock", ctx.Err())
		case <-time.After(lockRetryDelay):
		}
	}
}

func releaseMigrationLock(conn bun.Conn) error {
	// The caller's context may be cancelled by now; the unlock must still be attempted.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var released bool
	err := conn.Conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock($1)", migrationLockKey).Scan(&released)
	if err != nil {
		return err
	}
	if !released {
		return errors.New("the migration lock was not held")
	}
	return nil
}

// applyMigration runs one file and records it in the same transaction, so a failure leaves
// neither half a schema nor a record of it. It reports whether the file was new.
func applyMigration(ctx context.Context, conn bun.Conn, version string) (applied bool, err error) {
	body, err := fs.ReadFile(migrations.FS(), version+".sql")
	if err != nil {
		return false, fmt.Errorf("postgres: migrate: read %s: %w", version, err)
	}
	err = conn.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var seen bool
		// tx.Tx is the plain *sql.Tx: the SQL goes to the server verbatim, without bun's
		// '?' placeholder formatting, which a migration's text must not be subjected to.
		err := tx.Tx.QueryRowContext(ctx,
			"SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)", version).Scan(&seen)
		if err != nil {
			return fmt.Errorf("check: %w", err)
		}
		if seen {
			return nil
		}
		// No arguments: pgx sends the file with the simple protocol, so it may hold several
		// statements.
		if _, err := tx.Tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("apply: %w", err)
		}
		if _, err := tx.Tx.ExecContext(ctx,
			"INSERT INTO schema_migrations (version) VALUES ($1)", version); err != nil {
			return fmt.Errorf("record: %w", err)
		}
		applied = true
		return nil
	})
	if err != nil {
		return false, translate("migrate "+version, err)
	}
	return applied, nil
}

// migrationVersions lists the embedded migrations by name without ".sql", in the order they
// apply.
func migrationVersions() ([]string, error) {
	names, err := fs.Glob(migrations.FS(), "*.sql")
	if err != nil {
		return nil, fmt.Errorf("postgres: list migrations: %w", err)
	}
	if len(names) == 0 {
		return nil, errors.New("postgres: no migrations embedded")
	}
	slices.Sort(names)
	versions := make([]string, len(names))
	for i, name := range names {
		versions[i] = strings.TrimSuffix(path.Base(name), ".sql")
	}
	return versions, nil
}
