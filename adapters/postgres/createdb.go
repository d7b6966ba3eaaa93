package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// maintenanceDatabase is where CREATE DATABASE is issued from: it exists on every server.
const maintenanceDatabase = "postgres"

// EnsureDatabase creates the database named in url unless it exists, connecting to the
// server's maintenance database with the same credentials. Concurrent callers are fine: the
// loser of a creation race sees duplicate_database, which counts as success.
func EnsureDatabase(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return errors.New("postgres: database URL is not a valid connection string")
	}
	name := cfg.Database
	if name == "" {
		name = cfg.User // what the server would pick
	}
	if name == "" || name == maintenanceDatabase {
		return nil
	}

	cfg.Database = maintenanceDatabase
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return translate("ensure database: connect to the maintenance database", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()

	var exists bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil {
		return translate("ensure database: look it up", err)
	}
	if exists {
		return nil
	}
	// CREATE DATABASE takes no parameters; the identifier is quoted (embedded quotes
	// doubled) so that any name is created literally and nothing else runs.
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	switch code := sqlState(err); {
	case err == nil:
		return nil
	case code == codeDuplicateDatabase, code == codeUniqueViolation:
		return nil // created concurrently
	default:
		return translate(fmt.Sprintf("ensure database: create %q", name), err)
	}
}
