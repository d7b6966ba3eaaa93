package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
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

// readOnlySQL ends setContextSQL in read-only transactions: whatever fn tries, nothing in
// them can write.
const readOnlySQL = `,
	set_config('transaction_read_only', 'on', true)`

// Transactor is the one way user-scoped code reaches the service's tables. Its
// transactions run on a pgx connection borrowed from bun's pool (Conn.Raw), so that the
// context statement travels in the same round trip as the first query (see pgTx); the
// RotationStore and the audit begin theirs in inRoleTx, below.
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
	return t.withTx(ctx, actor, explicitTx, fn)
}

// EachCall runs each repository call of fn in an implicit transaction of its own (the
// extended protocol runs everything up to Sync as one) whose first statement sets the
// context: a one-call fn costs one round trip and no BEGIN or COMMIT.
func (t *Transactor) EachCall(ctx context.Context, actor user.ID, fn func(context.Context, ports.Repositories) error) error {
	return t.withTx(ctx, actor, implicitTx, fn)
}

// Read is EachCall with every transaction read-only.
func (t *Transactor) Read(ctx context.Context, actor user.ID, fn func(context.Context, ports.Repositories) error) error {
	return t.withTx(ctx, actor, readOnlyTx, fn)
}

// txMode is how a pgTx groups its statements into transactions.
type txMode int

const (
	explicitTx txMode = iota // BEGIN ... COMMIT around all of fn
	implicitTx               // each batch of statements is its own transaction
	readOnlyTx               // implicitTx, read-only
)

func (t *Transactor) withTx(ctx context.Context, actor user.ID, mode txMode, fn func(context.Context, ports.Repositories) error) error {
	conn, err := t.db.Conn(ctx) // bounded by the pool's acquire timeout
	if err != nil {
		return translate("acquire a connection", err)
	}
	defer conn.Close()
	var fnErr error
	err = conn.Raw(func(driverConn any) error {
		tx := &pgTx{conn: driverConn.(*stdlib.Conn).Conn(), actor: actor.String(), mode: mode}
		defer tx.abandon() // a panic in fn must not leave the transaction open
		fnErr = fn(ctx, ports.Repositories{
			Accounts:    &accountRepo{tx: tx, actor: actor},
			Credentials: &credentialRepo{tx: tx, actor: actor},
		})
		return tx.end(ctx, fnErr)
	})
	if fnErr != nil {
		return fnErr // rolled back; already in the service's vocabulary
	}
	// The commit failed. It is ambiguous (it may have been applied); the caller must not
	// blindly retry a non-idempotent write.
	return translate("transaction", err)
}

// statement is one query of a pipelined batch. read consumes its rows; without it only
// the command tag is kept, in tag.
type statement struct {
	sql  string
	args []any
	read func(pgx.Rows) error
	tag  pgconn.CommandTag
}

// pgTx is one user-scoped transaction on a pgx connection. Nothing is sent until the first
// statement, which goes out in a single round trip behind BEGIN and setContextSQL: the
// context is always the transaction's first statement, and costs no round trip of its own.
// In the implicit modes there is no BEGIN: every batch is its own implicit transaction,
// context first.
type pgTx struct {
	conn   *pgx.Conn
	actor  string
	mode   txMode
	begun  bool
	failed bool
}

// run sends stmts, with the transaction's setup if it has not begun, in one round trip.
func (tx *pgTx) run(ctx context.Context, stmts ...*statement) error {
	var b pgx.Batch
	setup := 0
	switch {
	case tx.mode == readOnlyTx:
		b.Queue(setContextSQL+readOnlySQL, tx.contextArgs()...)
		setup = 1
	case tx.mode == implicitTx:
		b.Queue(setContextSQL, tx.contextArgs()...)
		setup = 1
	case !tx.begun:
		b.Queue("BEGIN")
		b.Queue(setContextSQL, tx.contextArgs()...)
		setup, tx.begun = 2, true
	}
	for _, st := range stmts {
		b.Queue(st.sql, st.args...)
	}
	results := tx.conn.SendBatch(ctx, &b)
	err := tx.readResults(results, setup, stmts)
	if closeErr := results.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		tx.failed = true
	}
	return err
}

func (tx *pgTx) readResults(results pgx.BatchResults, setup int, stmts []*statement) error {
	for range setup {
		if _, err := results.Exec(); err != nil {
			return fmt.Errorf("set the transaction context: %w", err)
		}
	}
	for _, st := range stmts {
		if st.read == nil {
			tag, err := results.Exec()
			if err != nil {
				return err
			}
			st.tag = tag
			continue
		}
		rows, err := results.Query()
		if err != nil {
			return err
		}
		err = st.read(rows)
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (tx *pgTx) contextArgs() []any {
	return []any{string(appRole), tx.actor, millis(txStatementTimeout), millis(txLockTimeout), millis(txIdleTimeout)}
}

// end commits when fn succeeded and rolls back otherwise.
func (tx *pgTx) end(ctx context.Context, fnErr error) error {
	if !tx.begun {
		return nil
	}
	tx.begun = false
	if fnErr != nil || tx.failed {
		tx.rollback()
		return nil
	}
	tag, err := tx.conn.Exec(ctx, "COMMIT")
	if err != nil {
		return err
	}
	if tag.String() != "COMMIT" { // the server rolled back instead (an aborted transaction)
		return fmt.Errorf("postgres: commit answered %q", tag.String())
	}
	return nil
}

// abandon rolls back a transaction that end never finished (fn panicked).
func (tx *pgTx) abandon() {
	if tx.begun {
		tx.rollback()
	}
}

// rollback gets a fresh deadline: the request's may be what ended the transaction. If it
// fails the connection is broken, and the pool discards connections left in a transaction.
func (tx *pgTx) rollback() {
	tx.begun = false
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, _ = tx.conn.Exec(ctx, "ROLLBACK")
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
