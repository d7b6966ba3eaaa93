package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// selfCheckModule makes `serve` refuse to run on a database whose row-level security it
// cannot rely on (design rule 1, reliability test 16): postgres.AuditRLS runs in a start
// hook before the HTTP server listens (after --migrate's), and a failed audit stops the
// start with a non-zero exit. The service must still start while the database is down or
// not yet migrated (reliability test 33), so then the audit is deferred: /readyz and every
// transaction answer 503 until it has passed, and each of them retries it (at most every
// auditRetryInterval). A deferred audit that fails stops the service with exit code 1.
var selfCheckModule = fx.Options(
	fx.Provide(newSelfCheck),
	fx.Decorate(func(tx ports.Transactor, check *selfCheck) ports.Transactor {
		return auditedTransactor{inner: tx, check: check}
	}),
	fx.Invoke(func(lc fx.Lifecycle, check *selfCheck) {
		lc.Append(fx.Hook{OnStart: check.atStart})
	}),
)

const (
	auditTimeout       = 10 * time.Second
	auditRetryInterval = 200 * time.Millisecond
)

// errNotAudited is a 503 while the audit has not passed.
var errNotAudited = fmt.Errorf("the database's row-level security is not verified yet: %w", ports.ErrUnavailable)

type selfCheck struct {
	db       *bun.DB
	log      *zap.Logger
	shutdown fx.Shutdowner

	passed, failed atomic.Bool
	mu             sync.Mutex // one audit at a time; held only while one runs
	lastTry        time.Time  // under mu
}

func newSelfCheck(db *bun.DB, log *zap.Logger, shutdown fx.Shutdowner) *selfCheck {
	return &selfCheck{db: db, log: log.Named("selfcheck"), shutdown: shutdown}
}

// atStart runs the audit before anything listens. Only a verdict fails the start; a
// database that cannot answer yet defers the audit.
func (c *selfCheck) atStart(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.run(ctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, postgres.ErrAuditFailed):
		return fmt.Errorf("refusing to start: %w", err)
	default:
		c.log.Warn("database not ready at start: the row-level security audit runs once it is; until then /readyz and the API answer 503",
			zap.Error(err))
		return nil
	}
}

// admit returns nil once the audit has passed. Before that it tries the audit, unless one is
// running or the last try was too recent, and returns errNotAudited.
func (c *selfCheck) admit(ctx context.Context) error {
	if c.passed.Load() {
		return nil
	}
	if c.failed.Load() || !c.mu.TryLock() {
		return errNotAudited
	}
	defer c.mu.Unlock()
	if c.passed.Load() {
		return nil
	}
	if time.Since(c.lastTry) < auditRetryInterval {
		return errNotAudited
	}
	err := c.run(ctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, postgres.ErrAuditFailed):
		_ = c.shutdown.Shutdown(fx.ExitCode(1))
		return errNotAudited
	default:
		return fmt.Errorf("%w (%v)", errNotAudited, err) //nolint:errorlint // a pending audit is a 503, whatever the cause
	}
}

// run audits once; the caller holds mu.
func (c *selfCheck) run(ctx context.Context) error {
	c.lastTry = time.Now()
	ctx, cancel := context.WithTimeout(ctx, auditTimeout)
	defer cancel()
	// Unreachable or not migrated yet: no verdict, the audit waits.
	if err := postgres.Ready(ctx, c.db); err != nil {
		return err
	}
	report, err := postgres.AuditRLS(ctx, c.db)
	if errors.Is(err, postgres.ErrAuditFailed) {
		c.failed.Store(true)
		c.log.Error("row-level security audit failed: the service refuses to serve on this database; fix the problems listed and start it again",
			zap.String("login_role", report.LoginRole), zap.Error(err))
		return err
	}
	if err != nil {
		return err
	}
	c.passed.Store(true)
	c.log.Info("row-level security audit passed", zap.String("login_role", report.LoginRole),
		// A superuser or BYPASSRLS login is fine only because the audit has just proven that
		// every transaction's role switch drops those rights.
		zap.Bool("login_bypasses_rls_without_the_switch", report.LoginBypassesRLS))
	return nil
}

// ready is /readyz: the audit has passed and the database answers, migrated.
func (c *selfCheck) ready(ctx context.Context) error {
	if err := c.admit(ctx); err != nil {
		return err
	}
	return postgres.Ready(ctx, c.db)
}

// auditedTransactor opens no transaction on the service's tables before the audit passed.
// It does not embed the port on purpose: a method added to ports.Transactor must be gated
// here too, or this stops compiling.
type auditedTransactor struct {
	inner ports.Transactor
	check *selfCheck
}

func (t auditedTransactor) Within(ctx context.Context, actor user.ID, fn func(context.Context, ports.Repositories) error) error {
	if err := t.check.admit(ctx); err != nil {
		return err
	}
	return t.inner.Within(ctx, actor, fn)
}

func (t auditedTransactor) EachCall(ctx context.Context, actor user.ID, fn func(context.Context, ports.Repositories) error) error {
	if err := t.check.admit(ctx); err != nil {
		return err
	}
	return t.inner.EachCall(ctx, actor, fn)
}

func (t auditedTransactor) Read(ctx context.Context, actor user.ID, fn func(context.Context, ports.Repositories) error) error {
	if err := t.check.admit(ctx); err != nil {
		return err
	}
	return t.inner.Read(ctx, actor, fn)
}
