package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/brokerly/accounts/adapters/postgres"
)

// The audit's pace when the database was not ready at start.
const (
	auditRetryInterval = 250 * time.Millisecond
	auditTimeout       = 10 * time.Second
)

// registerAudit makes `serve` refuse to run on a database whose row-level security it
// cannot rely on (design rule 1, test 16). The audit and the gate it opens live in the
// postgres adapter: until the audit has passed, every transaction and /readyz answer 503.
// It runs in a start hook, after --migrate's and before the HTTP server listens, and a
// failed audit stops the start with exit code 1. The service must still start while the
// database is down or not yet migrated (test 33): then the audit is retried in the
// background until it has a verdict, and a failed one stops the service with exit code 1.
// Requests never run it, and never stop the process.
func registerAudit(lc fx.Lifecycle, db *postgres.DB, shutdown fx.Shutdowner, log *zap.Logger) {
	log = log.Named("audit")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(startCtx context.Context) error {
			attempt, cancelAttempt := context.WithTimeout(startCtx, auditTimeout)
			defer cancelAttempt()
			report, err := db.Audit(attempt)
			switch {
			case err == nil:
				logPassed(log, report)
				close(done)
				return nil
			case errors.Is(err, postgres.ErrAuditFailed):
				logFailed(log, report, err)
				close(done)
				return fmt.Errorf("refusing to start: %w", err)
			}
			log.Warn("database not ready at start: the row-level security audit runs once it is; until then /readyz and the API answer 503",
				zap.Error(err))
			go func() {
				defer close(done)
				report, err := db.AwaitAudit(ctx, auditRetryInterval, auditTimeout)
				switch {
				case err == nil:
					logPassed(log, report)
				case errors.Is(err, postgres.ErrAuditFailed):
					logFailed(log, report, err)
					_ = shutdown.Shutdown(fx.ExitCode(1))
				}
			}()
			return nil
		},
		OnStop: func(context.Context) error {
			cancel()
			<-done
			return nil
		},
	})
}

func logPassed(log *zap.Logger, report postgres.AuditReport) {
	log.Info("row-level security audit passed", zap.String("login_role", report.LoginRole),
		// A superuser or BYPASSRLS login is fine only because the audit has just proven that
		// every transaction's role switch drops those rights.
		zap.Bool("login_bypasses_rls_without_the_switch", report.LoginBypassesRLS))
}

func logFailed(log *zap.Logger, report postgres.AuditReport, err error) {
	log.Error("row-level security audit failed: the service refuses to serve on this database; fix the problems listed and start it again",
		zap.String("login_role", report.LoginRole), zap.Error(err))
}
