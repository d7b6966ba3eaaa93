// Package postgres implements the repository ports on PostgreSQL with bun over pgx. Every
// user-scoped query runs inside Transactor.Within, which switches to the restricted role and
// sets the row-level security context first; nothing else touches the service's tables.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Config bounds the connection pool. Zero values take the defaults below.
type Config struct {
	URL             string // postgres://user:password@host:port/database?sslmode=...
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	ConnMaxIdleTime time.Duration
}

const (
	defaultMaxOpenConns    = 8
	defaultConnMaxLifetime = 30 * time.Minute
	defaultConnMaxIdleTime = 5 * time.Minute
)

// Open builds the pool without connecting: the service must start while the database is
// down and report it through Ready instead. Only a malformed URL fails here.
func Open(_ context.Context, cfg Config) (*bun.DB, error) {
	if cfg.URL == "" {
		return nil, errors.New("postgres: database URL is empty")
	}
	connConfig, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		// The parse error may quote the URL, password included: keep it out of logs.
		return nil, errors.New("postgres: database URL is not a valid connection string")
	}

	sqldb := stdlib.OpenDB(*connConfig)
	maxOpen := orDefault(cfg.MaxOpenConns, defaultMaxOpenConns)
	sqldb.SetMaxOpenConns(maxOpen)
	sqldb.SetMaxIdleConns(orDefault(cfg.MaxIdleConns, maxOpen))
	sqldb.SetConnMaxLifetime(orDefault(cfg.ConnMaxLifetime, defaultConnMaxLifetime))
	sqldb.SetConnMaxIdleTime(orDefault(cfg.ConnMaxIdleTime, defaultConnMaxIdleTime))

	return bun.NewDB(sqldb, pgdialect.New()), nil
}

// orDefault returns v, or def when v is not positive.
func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Ready reports whether the database answers and carries every migration this binary
// embeds, for /readyz. The caller bounds it with a short deadline.
func Ready(ctx context.Context, db *bun.DB) error {
	var one int
	if err := db.DB.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return translate("readiness probe", err)
	}
	want, err := migrationVersions()
	if err != nil {
		return err
	}
	applied, err := appliedVersions(ctx, db.DB)
	if err != nil {
		return err
	}
	for _, v := range want {
		if _, ok := applied[v]; !ok {
			return fmt.Errorf("postgres: migration %s is not applied", v)
		}
	}
	return nil
}
