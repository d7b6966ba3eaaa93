package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// appRole is the restricted role of migration 002: no BYPASSRLS, owns nothing.
const appRole = "accounts_app"

// Transaction-local guards (design rule 11). A role's own settings (ALTER ROLE ... SET) are
// applied only at login, never by SET ROLE, so they are set here, in the same statement as
// the RLS context.
const (
	txStatementTimeout = 5 * time.Second  // the HTTP request deadline
	txLockTimeout      = 3 * time.Second  // a blocked row lock fails instead of hanging
	txIdleTimeout      = 10 * time.Second // a stalled client cannot pin locks and a connection
)

// setContextSQL is the first statement of every user-scoped transaction, one round trip.
// set_config(..., true) is SET LOCAL: it ends with the transaction, so nothing leaks through
// the pool, and set_config('role', ...) drops even a superuser login's rights until then.
// A zero user id sets the empty string, which the policies treat as "no rows"; it is not
// special-cased.
const setContextSQL = `SELECT set_config('role', '` + appRole + `', true),
	set_config('app.current_user_id', $1, true),
	set_config('statement_timeout', $2, true),
	set_config('lock_timeout', $3, true),
	set_config('idle_in_transaction_session_timeout', $4, true)`

// Transactor is the one chokepoint through which the service reaches its tables.
type Transactor struct {
	db *bun.DB
}

var _ ports.Transactor = (*Transactor)(nil)

func NewTransactor(db *bun.DB) *Transactor {
	return &Transactor{db: db}
}

// Within runs fn in one transaction as actor. Errors from fn come back unchanged (the
// repositories translate their own); a failure to begin, set up or commit is translated.
func (t *Transactor) Within(ctx context.Context, actor user.ID, fn func(context.Context, ports.Repositories) error) error {
	return t.run(ctx, actor, func(ctx context.Context, tx bun.Tx) error {
		return fn(ctx, ports.Repositories{
			Accounts: &accountRepo{db: tx, actor: actor},
		})
	})
}

// run is Within below the ports: fn gets the bun.Tx after the context is set. Tests use it
// (through export_test.go) to check the policies with raw SQL under the real setup.
func (t *Transactor) run(ctx context.Context, actor user.ID, fn func(context.Context, bun.Tx) error) error {
	var fnErr error
	err := t.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// tx.Tx is the plain *sql.Tx, so $n are real bind parameters, not bun formatting.
		if _, err := tx.Tx.ExecContext(ctx, setContextSQL, actor.String(),
			millis(txStatementTimeout), millis(txLockTimeout), millis(txIdleTimeout)); err != nil {
			return fmt.Errorf("set the user context: %w", err)
		}
		fnErr = fn(ctx, tx)
		return fnErr
	})
	if fnErr != nil {
		return fnErr // rolled back; already in the service's vocabulary
	}
	// Begin, the context statement or commit failed. A failed commit is ambiguous (it may
	// have been applied); the caller must not blindly retry a non-idempotent write.
	return translate("transaction", err)
}

// millis renders d as a GUC value in milliseconds, the unit the timeouts default to.
func millis(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10)
}
