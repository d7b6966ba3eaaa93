// Package postgres implements the repository ports on PostgreSQL with bun over pgx. Every
// user-scoped query runs inside Transactor.Within, which switches to the restricted role and
// sets the row-level security context first; nothing else touches the service's tables.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jackc/puddle/v2"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/brokerly/accounts/ports"
)

// Config bounds the connection pool. Zero values take the defaults below.
type Config struct {
	URL          string // postgres://user:password@host:port/database?sslmode=...
	MaxOpenConns int    // the most connections open at once, idle or busy
	// MaxIdleConns is accepted and ignored: the pool keeps up to MaxOpenConns idle
	// connections and closes each after ConnMaxIdleTime.
	MaxIdleConns    int
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

// Open builds the pool without connecting: the service must start while the database is
// down and report it through Ready instead. Only a malformed URL fails here.
//
// The pool is pgxpool, not database/sql's: database/sql waits for a free connection for as
// long as the caller's context lives and has no acquire timeout, so a pool exhausted by
// stuck queries would hold every further request until its own deadline. Here
// database/sql only borrows: it keeps no idle connections and opens as many as callers ask
// for, and each "open" is an acquire from pgxpool (which holds the bound, MaxOpenConns)
// under AcquireTimeout. Closing the returned DB closes the pgxpool too.
func Open(_ context.Context, cfg Config) (*bun.DB, error) {
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

	sqldb := sql.OpenDB(&poolConnector{
		Connector:      stdlib.GetPoolConnector(pool),
		pool:           pool,
		acquireTimeout: orDefault(cfg.AcquireTimeout, defaultAcquireTimeout),
	})
	sqldb.SetMaxIdleConns(0) // idle connections live in pgxpool, which checks them on reuse
	sqldb.SetMaxOpenConns(0) // the bound is pgxpool's, where waiting has a timeout
	return bun.NewDB(sqldb, pgdialect.New()), nil
}

// errAcquireTimeout is what a caller gets when no connection became free in time: a
// timeout (504), not an outage, because the database may be fine and merely saturated.
var errAcquireTimeout = fmt.Errorf("postgres: no pooled connection became free in time: %w", ports.ErrTimeout)

// errPoolClosed is an acquire after Close (a request racing shutdown): unavailable.
var errPoolClosed = fmt.Errorf("postgres: the connection pool is closed: %w", ports.ErrUnavailable)

// poolConnector is database/sql's view of the pgxpool: every connection database/sql opens
// is an acquire from the pool, bounded by acquireTimeout, and every close a release.
// database/sql closes the connector (and so the pool) in DB.Close.
type poolConnector struct {
	driver.Connector
	pool           *pgxpool.Pool
	acquireTimeout time.Duration
}

func (c *poolConnector) Connect(ctx context.Context) (driver.Conn, error) {
	acquireCtx, cancel := context.WithTimeoutCause(ctx, c.acquireTimeout, errAcquireTimeout)
	defer cancel()
	conn, err := c.Connector.Connect(acquireCtx)
	switch {
	case err == nil:
		return conn, nil
	case errors.Is(err, puddle.ErrClosedPool):
		return nil, errPoolClosed
	case ctx.Err() == nil && errors.Is(context.Cause(acquireCtx), errAcquireTimeout):
		// Only our own deadline fired; the caller's deadline or cancellation is reported
		// as it is.
		return nil, fmt.Errorf("%w (waited %s): %w", errAcquireTimeout, c.acquireTimeout, err)
	}
	return nil, err
}

// closeWait bounds DB.Close. pgxpool's Close waits for every borrowed connection to come
// back, where database/sql's returned at once and closed them on release; a connection
// leaked by a bug (or held by a request that outlived the HTTP shutdown) must not turn the
// service's exit, or a test's cleanup, into a hang. Such connections still close on release.
const closeWait = 2 * time.Second

func (c *poolConnector) Close() error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.pool.Close() // closes the idle connections at once
	}()
	timer := time.NewTimer(closeWait)
	defer timer.Stop()
	select {
	case <-done:
		return nil
	case <-timer.C:
		return fmt.Errorf("postgres: %d connections still in use after %s; each closes when released",
			c.pool.Stat().AcquiredConns(), closeWait)
	}
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
