package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"

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
// applied only at login, never by a role switch, so they are set in the context statement.
const (
	txStatementTimeout = 5 * time.Second  // the HTTP request deadline
	txLockTimeout      = 3 * time.Second  // a blocked row lock fails instead of hanging
	txIdleTimeout      = 10 * time.Second // a stalled client cannot pin locks and a connection
)

// guards sets the guards above as constants of the statement's text (in milliseconds, the
// unit these settings default to), so they cost no bind parameter. An implicit transaction
// is one pipelined round trip and cannot sit idle inside it, so only an explicit one sets
// idle_in_transaction_session_timeout: every set_config has its cost, paid per request.
func guards(mode txMode) string {
	sql := fmt.Sprintf(`,
	set_config('statement_timeout', '%d', true),
	set_config('lock_timeout', '%d', true)`, txStatementTimeout.Milliseconds(), txLockTimeout.Milliseconds())
	if mode == oneTx {
		sql += fmt.Sprintf(`,
	set_config('idle_in_transaction_session_timeout', '%d', true)`, txIdleTimeout.Milliseconds())
	}
	return sql
}

// The session context statement (session_shape.go builds its texts) is the first
// statement of every transaction a user's session acts in, and the only place a session is
// resolved. Its subquery runs as the login role (permissions are checked when the statement
// starts): it finds the session with the token $1 and its user, and the statement goes on
// only if the session is unexpired and the user not banned (Better Auth's admin plugin: a
// banned user has "banned" true and "banExpires" null or still to come). Otherwise
// accounts_no_session (migration 010) raises SQLSTATE 28000 with the reason, which the
// service counts but never shows; the error aborts the transaction, so nothing queued after
// the statement runs. The user becomes app.current_user_id and the impersonating admin
// (the admin plugin's "impersonatedBy") app.impersonated_by, empty for none; only then does
// the role drop to accounts_app for the rest of the transaction. set_config(..., true) is
// SET LOCAL: everything ends with the transaction, so nothing leaks through the pool or a
// transaction-pooling PgBouncer. The left join to one constant row gives exactly one row:
// the session's (the token is unique) or, for none, NULLs. CASE evaluates only the branch it
// takes. A join and not an aggregate (max, bool_or) over the subquery: the aggregate cost
// the database about 2.5 µs more per request (docs/benchmarks.md).

// sessionContext is the statement around a subquery live (user_id, expires_at, banned,
// impersonated_by) of the session with the token $1 and its user.
func sessionContext(mode txMode, live string) string {
	return `SELECT set_config('app.current_user_id', CASE
		WHEN live.user_id IS NULL THEN public.accounts_no_session('` + ports.SessionUnknown + `')
		WHEN live.expires_at <= now() THEN public.accounts_no_session('` + ports.SessionExpired + `')
		WHEN live.banned THEN public.accounts_no_session('` + ports.SessionBanned + `')
		ELSE live.user_id END, true),
	set_config('app.impersonated_by', coalesce(live.impersonated_by, ''), true),
	set_config('role', 'accounts_app', true)` + guards(mode) + `
	FROM (VALUES (1)) one LEFT JOIN (` + live + `
	) live ON true`
}

// roleContextSQL starts the transactions that act for no user (key rotation, the audit's
// probe): the role $1, and an empty user and impersonator, which the policies treat as
// "no rows" and "nobody".
var roleContextSQL = [...]string{eachRun: roleContext(eachRun), oneTx: roleContext(oneTx)}

func roleContext(mode txMode) string {
	return `SELECT set_config('role', $1, true),
	set_config('app.current_user_id', '', true),
	set_config('app.impersonated_by', '', true)` + guards(mode)
}

// contextColumns is how many columns the session context statement returns in each mode.
var contextColumns = [...]int{eachRun: 5, oneTx: 6}

// currentUserSQL is how every user-scoped query filters on its own user, besides the
// policies (design rule 4): the value the context statement set.
const currentUserSQL = `current_setting('app.current_user_id', true)`

// scope is whom a transaction acts as.
type scope struct {
	role    dbRole
	session user.Session // resolved by the context statement; zero for role-only scopes
	// gated transactions wait for the row-level security audit (gate.go); only the audit's
	// own probe runs before it.
	gated bool
}

// asUser acts as the user the session resolves to.
func asUser(s user.Session) scope { return scope{role: appRole, session: s, gated: true} }

// asRotator acts as key rotation: every row's sealed columns, no user.
var asRotator = scope{role: rotatorRole, gated: true}

// asNobody is accounts_app with no user, for the audit's probe.
var asNobody = scope{role: appRole}

// asLogin stays the login role, for the audit's reading of the catalogs: it touches no
// table of the service, and runs before the gate is open.
var asLogin = scope{}

// txMode is how a transaction's runs map onto PostgreSQL transactions.
type txMode int

const (
	// eachRun makes every run an implicit transaction of its own (the extended protocol
	// runs everything up to Sync as one), context statement first: one round trip for one
	// run, and no BEGIN or COMMIT to parse. Runs of one call need no common snapshot.
	eachRun txMode = iota
	// oneTx wraps all runs in BEGIN ... COMMIT: for work that must read, decide and write on
	// one locked state. BEGIN and the context statement go out with the first run.
	oneTx
)

// statement is one query of a pipelined run. read consumes its rows; without it only the
// command tag is kept, in tag.
type statement struct {
	sql  string
	args []any
	read func(pgx.Rows) error
	tag  pgconn.CommandTag
}

// txn is one transaction on the service's tables, on one pooled connection.
type txn struct {
	conn  *pgx.Conn
	scope scope
	mode  txMode
	// actor is whom the session resolved to, once a context statement has run.
	actor user.Actor
	// statements are the session context statement's texts for this transaction;
	// shapeChanged says the statement no longer fit Better Auth's tables.
	statements   *contextStatements
	shapeChanged bool
	open         bool // oneTx: BEGIN has been sent and neither COMMIT nor ROLLBACK yet
}

// transact is the one way to the service's tables: it waits for the audit's gate (for
// gated scopes), borrows a connection under the acquire timeout, and runs fn, whose
// statements all go through tx.run, so each transaction starts with its context
// statement. In oneTx mode it commits when fn returns nil and rolls back otherwise (also
// when fn panics). Errors from fn come back as fn returned them.
func (db *DB) transact(ctx context.Context, sc scope, mode txMode, fn func(ctx context.Context, tx *txn) error) error {
	used := db.session.Load()
	err := db.transactOnce(ctx, sc, mode, used, fn)
	if errors.Is(err, errShapeChanged) {
		// Better Auth's tables changed under the context statement, whose batch then ran
		// nothing: read them again and run fn once more, from the start.
		db.relearnSessionShape(ctx, used)
		err = db.transactOnce(ctx, sc, mode, db.session.Load(), fn)
	}
	return err
}

func (db *DB) transactOnce(ctx context.Context, sc scope, mode txMode, statements *contextStatements, fn func(ctx context.Context, tx *txn) error) error {
	if sc.gated {
		if err := db.gate.admit(); err != nil {
			return err
		}
	}
	if sc.role == appRole && sc.gated && sc.session.IsZero() {
		return fmt.Errorf("postgres: no session: %w", ports.ErrUnauthenticated)
	}
	conn, err := db.acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release() // a connection left inside a transaction is destroyed, not reused
	tx := &txn{conn: conn.Conn(), scope: sc, mode: mode, statements: statements}
	defer tx.abandon()
	if err := fn(ctx, tx); err != nil {
		return err
	}
	if tx.open {
		return tx.commit(ctx)
	}
	return nil
}

// errAcquireTimeout is what a caller gets when no connection became free in time: a
// timeout (504), not an outage, because the database may be fine and merely saturated.
var errAcquireTimeout = fmt.Errorf("postgres: no pooled connection became free in time: %w", ports.ErrTimeout)

// errPoolClosed is an acquire after Close (a request racing shutdown): unavailable.
var errPoolClosed = fmt.Errorf("postgres: the connection pool is closed: %w", ports.ErrUnavailable)

func (db *DB) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	acquireCtx, cancel := context.WithTimeoutCause(ctx, db.acquireTimeout, errAcquireTimeout)
	defer cancel()
	conn, err := db.pool.Acquire(acquireCtx)
	switch {
	case err == nil:
		return conn, nil
	case errors.Is(err, puddle.ErrClosedPool):
		return nil, errPoolClosed
	case ctx.Err() == nil && errors.Is(context.Cause(acquireCtx), errAcquireTimeout):
		// Only our own deadline fired; the caller's deadline or cancellation is reported
		// as it is.
		return nil, fmt.Errorf("%w (waited %s): %w", errAcquireTimeout, db.acquireTimeout, err)
	}
	return nil, translate("acquire a connection", err)
}

// run sends stmts in one round trip, preceded by what the transaction needs first: in
// eachRun mode the context statement every time; in oneTx mode BEGIN and the context
// statement the first time. Errors are translated into the service's vocabulary, op
// naming the operation.
func (tx *txn) run(ctx context.Context, op string, stmts ...*statement) error {
	return tx.send(ctx, op, false, stmts)
}

// commit sends stmts and COMMIT in one round trip (oneTx only), ending the transaction.
func (tx *txn) commit(ctx context.Context, stmts ...*statement) error {
	if tx.mode != oneTx {
		return fmt.Errorf("postgres: commit outside an explicit transaction")
	}
	return tx.send(ctx, "commit", true, stmts)
}

func (tx *txn) send(ctx context.Context, op string, commit bool, stmts []*statement) error {
	var b pgx.Batch
	withContext := tx.mode == eachRun || !tx.open
	if withContext {
		if tx.mode == oneTx {
			b.Queue("BEGIN")
			tx.open = true
		}
		tx.queueContext(&b)
	}
	for _, st := range stmts {
		q := b.Queue(st.sql, st.args...)
		if st.read != nil {
			q.Query(st.read)
		} else {
			q.Exec(func(tag pgconn.CommandTag) error { st.tag = tag; return nil })
		}
	}
	if commit {
		b.Queue("COMMIT").Exec(func(tag pgconn.CommandTag) error {
			tx.open = false
			if tag.String() != "COMMIT" { // the server rolled back instead (an aborted transaction)
				return fmt.Errorf("postgres: commit answered %q", tag.String())
			}
			return nil
		})
	}
	if err := tx.conn.SendBatch(ctx, &b).Close(); err != nil {
		// A statement by name that no longer fits fails when it runs (the callback saw it)
		// or, on a connection that prepares it afresh, already when it is prepared; either
		// way its batch ran nothing. Other batches, and the generic statement, which fits any
		// tables, are never retried.
		byName := withContext && !tx.scope.session.IsZero() && tx.statements.shape != nil
		if byName && (tx.shapeChanged || shapeChanged(err)) {
			return fmt.Errorf("%w: %w", errShapeChanged, translate(op, err))
		}
		// A failed commit is ambiguous (it may have been applied): the caller must not
		// blindly retry a non-idempotent write.
		return translate(op, err)
	}
	return nil
}

// queueContext queues the scope's context statement. For a session it also learns, from
// the statement's result, whom the session resolved to.
func (tx *txn) queueContext(b *pgx.Batch) {
	switch {
	case tx.scope.role == "":
		return
	case tx.scope.session.IsZero():
		b.Queue(roleContextSQL[tx.mode], string(tx.scope.role))
		return
	}
	b.Queue(tx.statements.sql[tx.mode], tx.scope.session.Token()).QueryRow(func(row pgx.Row) error {
		var owner, admin string
		dest := [6]any{&owner, &admin} // the other columns echo the settings: skipped
		if err := row.Scan(dest[:contextColumns[tx.mode]]...); err != nil {
			tx.shapeChanged = shapeChanged(err)
			return err
		}
		actor, err := parseActor(owner, admin)
		if err != nil {
			return err
		}
		if !tx.actor.User.IsZero() && tx.actor != actor {
			return fmt.Errorf("postgres: the session resolved to another user than before")
		}
		tx.actor = actor
		tx.scope.session.Resolved(actor)
		return nil
	})
}

func parseActor(owner, admin string) (user.Actor, error) {
	id, err := user.ParseID(owner)
	if err != nil {
		return user.Actor{}, fmt.Errorf("postgres: the session resolved to an unusable user id: %w", err)
	}
	a := user.Actor{User: id}
	if admin != "" {
		if a.ImpersonatedBy, err = user.ParseID(admin); err != nil {
			return user.Actor{}, fmt.Errorf("postgres: the session's impersonatedBy is an unusable user id: %w", err)
		}
	}
	return a, nil
}

// abandon rolls back a transaction that was neither committed nor rolled back: fn failed
// or panicked. It gets a fresh deadline, since the request's may be what ended it; if the
// rollback fails, the connection is broken and the pool destroys it on release.
func (tx *txn) abandon() {
	if !tx.open {
		return
	}
	tx.open = false
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, _ = tx.conn.Exec(ctx, "ROLLBACK")
}
