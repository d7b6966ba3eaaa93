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

// dbRole is a role a transaction switches to. Only the constants below exist: the role is
// never built from input.
type dbRole string

const (
	// appRole is the restricted role of migration 002: no BYPASSRLS, owns nothing. Every
	// user-scoped transaction runs as it.
	appRole dbRole = "accounts_app"
	// rotatorRole is migration 005's rotation-only role: every user's rows, but only the
	// sealed columns and the ids they are bound to.
	rotatorRole dbRole = "accounts_rotator"
)

// Transaction-local guards (design rule 11). A role's own settings (ALTER ROLE ... SET) are
// applied only at login, never by SET ROLE, so they are set here, in the same statement as
// the RLS context.
const (
	txStatementTimeout = 5 * time.Second  // the HTTP request deadline
	txLockTimeout      = 3 * time.Second  // a blocked row lock fails instead of hanging
	txIdleTimeout      = 10 * time.Second // a stalled client cannot pin locks and a connection
)

// setContextSQL is the first statement of every transaction on the service's tables, one
// round trip. set_config(..., true) is SET LOCAL: it ends with the transaction, so nothing
// leaks through the pool, and set_config('role', ...) drops even a superuser login's rights
// until then. A zero user id sets the empty string, which the policies treat as "no rows";
// it is not special-cased.
const setContextSQL = `SELECT set_config('role', $1, true),
	set_config('app.current_user_id', $2, true),
	set_config('statement_timeout', $3, true),
	set_config('lock_timeout', $4, true),
	set_config('idle_in_transaction_session_timeout', $5, true)`

// Transactor is the one way user-scoped code reaches the service's tables. It and the
// RotationStore both begin their transactions in inRoleTx, below.
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
			Accounts:    &accountRepo{db: tx, actor: actor},
			Credentials: &credentialRepo{db: tx, actor: actor},
		})
	})
}

// run is Within below the ports: fn gets the bun.Tx after the context is set. Tests use it
// (through export_test.go) to check the policies with raw SQL under the real setup.
func (t *Transactor) run(ctx context.Context, actor user.ID, fn func(context.Context, bun.Tx) error) error {
	return inRoleTx(ctx, t.db, appRole, actor.String(), fn)
}

// inRoleTx is the one place a transaction on the service's tables begins (the Transactor
// for users, the RotationStore for key rotation): it runs fn in bun's RunInTx after
// setContextSQL has switched to role and set the user context and the timeouts. userID ""
// is no user at all. Errors from fn come back unchanged; a failure to begin, set up or
// commit is translated.
func inRoleTx(ctx context.Context, db *bun.DB, role dbRole, userID string, fn func(context.Context, bun.Tx) error) error {
	var fnErr error
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// tx.Tx is the plain *sql.Tx, so $n are real bind parameters, not bun formatting.
		if _, err := tx.Tx.ExecContext(ctx, setContextSQL, string(role), userID,
			millis(txStatementTimeout), millis(txLockTimeout), millis(txIdleTimeout)); err != nil {
			return fmt.Errorf("set the transaction context: %w", err)
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
