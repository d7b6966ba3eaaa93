// Package postgres implements the repository ports on PostgreSQL. Every statement on the
// service's tables goes through one transaction helper (tx.go) whose first statement
// switches to a restricted role and sets the row-level security context — for a user, by
// resolving the request's session in that same statement. Nothing else touches those
// tables. Bun (pgdialect) runs the schema's own bookkeeping (migrations, readiness); the
// transactions run on pgx underneath it, which can pipeline the context statement with
// the first query in one round trip.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Config bounds the connection pool. Zero values take the defaults below.
type Config struct {
	URL          string // postgres://user:password@host:port/database?sslmode=...
	MaxOpenConns int    // the most connections open at once, idle or busy
	// ConnMaxLifetime and ConnMaxIdleTime retire connections, so none outlives a failover
	// or holds server memory forever.
	ConnMaxLifetime time.Duration
	ConnMaxIdleTime time.Duration
	// AcquireTimeout bounds the wait for a free connection when all MaxOpenConns are busy
	// (or a new one is still being dialled); it then fails with ports.ErrTimeout. It should
	// be well under the request deadline, so an exhausted pool answers quickly.
	AcquireTimeout time.Duration
	// ConnectTimeout bounds dialling and the startup handshake of one new connection, so
	// a black-holed server cannot hang a dial. A connect_timeout in URL takes precedence.
	ConnectTimeout time.Duration
}

const (
	defaultMaxOpenConns    = 8
	defaultConnMaxLifetime = 30 * time.Minute
	defaultConnMaxIdleTime = 5 * time.Minute
	defaultAcquireTimeout  = 2 * time.Second
	defaultConnectTimeout  = 3 * time.Second
)

// DB is the service's one connection pool (pgxpool, bounded by MaxOpenConns), with Bun on
// top of the same pool, and the gate that keeps transactions off the service's tables
// until the row-level security audit has passed (gate.go).
type DB struct {
	pool           *pgxpool.Pool
	orm            *bun.DB
	acquireTimeout time.Duration
	gate           gate
	// session is the session context statement fitted to Better Auth's tables
	// (session_shape.go); the generic one until they have been read.
	session atomic.Pointer[contextStatements]
}

// Open builds the pool without connecting: the service must start while the database is
// down and report it through Ready instead. Only a malformed URL fails here.
func Open(_ context.Context, cfg Config) (*DB, error) {
	if cfg.URL == "" {
		return nil, errors.New("postgres: database URL is empty")
	}
	poolConfig, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		// The parse error may quote the URL, password included: keep it out of logs.
		return nil, errors.New("postgres: database URL is not a valid connection string")
	}
	if poolConfig.ConnConfig.ConnectTimeout == 0 { // the URL has no connect_timeout
		poolConfig.ConnConfig.ConnectTimeout = orDefault(cfg.ConnectTimeout, defaultConnectTimeout)
	}
	poolConfig.MaxConns = int32(min(orDefault(cfg.MaxOpenConns, defaultMaxOpenConns), math.MaxInt32))
	poolConfig.MinConns = 0 // connect on demand: nothing is dialled before the first query
	poolConfig.MaxConnLifetime = orDefault(cfg.ConnMaxLifetime, defaultConnMaxLifetime)
	poolConfig.MaxConnIdleTime = orDefault(cfg.ConnMaxIdleTime, defaultConnMaxIdleTime)
	pool, err := pgxpool.NewWithConfig(context.Background(), poolConfig)
	if err != nil {
		return nil, fmt.Errorf("postgres: create the connection pool: %w", err)
	}
	// database/sql under Bun keeps no connections of its own: each one it opens is borrowed
	// from the pool and given back when released, so the pool's bound is the only one.
	sqldb := stdlib.OpenDBFromPool(pool)
	sqldb.SetMaxIdleConns(0)
	db := &DB{
		pool:           pool,
		orm:            bun.NewDB(sqldb, pgdialect.New()),
		acquireTimeout: orDefault(cfg.AcquireTimeout, defaultAcquireTimeout),
	}
	db.session.Store(genericStatements)
	return db, nil
}

// Bun is the Bun handle on the pool, for schema work and test fixtures. Statements on the
// service's tables never go through it: they go through the transaction helper.
func (db *DB) Bun() *bun.DB { return db.orm }

// closeWait bounds Close. pgxpool's Close waits for every borrowed connection to come
// back; a connection leaked by a bug (or held by a request that outlived the HTTP
// shutdown) must not turn the service's exit, or a test's cleanup, into a hang. Such
// connections still close on release.
const closeWait = 2 * time.Second

// Close closes the pool, waiting at most closeWait for borrowed connections.
func (db *DB) Close() error {
	_ = db.orm.Close() // database/sql's side holds no connections (no idle ones)
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.pool.Close() // closes the idle connections at once
	}()
	timer := time.NewTimer(closeWait)
	defer timer.Stop()
	select {
	case <-done:
		return nil
	case <-timer.C:
		return fmt.Errorf("postgres: %d connections still in use after %s; each closes when released",
			db.pool.Stat().AcquiredConns(), closeWait)
	}
}

// PoolStats is what the pool is doing now, for operators and metrics.
type PoolStats struct {
	Max, InUse, Idle, Constructing int
	// Acquires counts every connection handed out; Waits those that found none idle, and
	// WaitTime how long they waited in all; Canceled those given up while waiting.
	Acquires, Waits, Canceled int64
	WaitTime                  time.Duration
}

func (db *DB) PoolStats() PoolStats {
	s := db.pool.Stat()
	return PoolStats{Max: int(s.MaxConns()), InUse: int(s.AcquiredConns()), Idle: int(s.IdleConns()),
		Constructing: int(s.ConstructingConns()), Acquires: s.AcquireCount(), Waits: s.EmptyAcquireCount(),
		Canceled: s.CanceledAcquireCount(), WaitTime: s.EmptyAcquireWaitTime()}
}

// orDefault returns v, or def when v is not positive.
func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Ready reports whether the row-level security audit has passed and the database answers,
// carrying every migration this binary embeds, for /readyz. The caller bounds it with a
// short deadline.
func (db *DB) Ready(ctx context.Context) error {
	if err := db.gate.admit(); err != nil {
		return err
	}
	return db.migrated(ctx)
}

// migrated reports whether the database answers and carries every embedded migration.
func (db *DB) migrated(ctx context.Context) error {
	want, err := migrationVersions()
	if err != nil {
		return err
	}
	applied, err := appliedVersions(ctx, db.orm)
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

// appliedVersions reads schema_migrations; a database never migrated has none.
func appliedVersions(ctx context.Context, orm bun.IDB) (map[string]struct{}, error) {
	var versions []string
	err := orm.NewSelect().Table("schema_migrations").Column("version").Scan(ctx, &versions)
	switch {
	case sqlState(err) == codeUndefinedTable:
		return map[string]struct{}{}, nil
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, translate("read applied migrations", err)
	}
	applied := make(map[string]struct{}, len(versions))
	for _, v := range versions {
		applied[v] = struct{}{}
	}
	return applied, nil
}
