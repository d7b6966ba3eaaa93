package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/brokerly/accounts/ports"
)

// gate keeps every transaction on the service's tables closed until the row-level security
// audit (audit.go) has passed on this database. It is one atomic load on the hot path.
type gate struct {
	state atomic.Int32
}

const (
	auditPending int32 = iota // not audited yet: the database was down or not migrated
	auditPassed
	auditFailed // a verdict: the service must not serve on this database
)

var (
	errNotAudited = fmt.Errorf("postgres: the database's row-level security is not verified yet: %w", ports.ErrUnavailable)
	errRefused    = fmt.Errorf("postgres: the database failed the row-level security audit: %w", ports.ErrUnavailable)
)

// admit returns nil once the audit has passed; until then every caller gets a 503.
func (g *gate) admit() error {
	switch g.state.Load() {
	case auditPassed:
		return nil
	case auditFailed:
		return errRefused
	default:
		return errNotAudited
	}
}

// Audit runs the row-level security audit once and opens the gate when it passes. An
// ErrAuditFailed verdict closes the gate for good; any other error means the database
// could not answer (ports.ErrUnavailable, ports.ErrTimeout, or not migrated yet) and the
// gate stays pending.
func (db *DB) Audit(ctx context.Context) (AuditReport, error) {
	if err := db.migrated(ctx); err != nil {
		return AuditReport{}, err // unreachable or not migrated yet: no verdict
	}
	// Before the audit, so that its probe runs the statement requests will run, and the
	// first requests already read Better Auth's optional columns by name; if the catalogs
	// cannot be read, the generic statement serves.
	_ = db.learnSessionShape(ctx)
	report, err := auditRLS(ctx, db, auditedRoles)
	switch {
	case errors.Is(err, ErrAuditFailed):
		db.gate.state.Store(auditFailed)
	case err == nil:
		db.gate.state.Store(auditPassed)
	}
	return report, err
}

// AwaitAudit retries Audit every interval until it reaches a verdict or ctx ends, and
// returns the verdict: nil (passed) or ErrAuditFailed. It is for a service that started
// while its database was down; requests never run the audit themselves.
func (db *DB) AwaitAudit(ctx context.Context, interval time.Duration, attemptTimeout time.Duration) (AuditReport, error) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		attempt, cancel := context.WithTimeout(ctx, attemptTimeout)
		report, err := db.Audit(attempt)
		cancel()
		if err == nil || errors.Is(err, ErrAuditFailed) {
			return report, err
		}
		select {
		case <-ctx.Done():
			return report, ctx.Err()
		case <-ticker.C:
		}
	}
}
