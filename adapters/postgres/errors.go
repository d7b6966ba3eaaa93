package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/ports"
)

// SQLSTATE codes the service reacts to (PostgreSQL manual, appendix A).
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	codeInsufficientPrivs   = "42501" // also what a row-level security refusal raises
	codeQueryCanceled       = "57014" // statement_timeout, or a cancel request
	codeLockNotAvailable    = "55P03" // lock_timeout, NOWAIT
	codeAdminShutdown       = "57P01"
	codeCrashShutdown       = "57P02"
	codeCannotConnectNow    = "57P03"
	codeTooManyConnections  = "53300"
	codeIdleInTxTimeout     = "25P03"
	codeDuplicateDatabase   = "42P04"
	codeUndefinedTable      = "42P01"
	codeUndefinedFunction   = "42883"
	codeNoSession           = "28000" // accounts_no_session(reason): the session resolves to no one
	classConnectionProblems = "08"
)

// ownershipKeys are the foreign keys that tie a row to a parent its own user owns. Violating
// one means the parent is another user's or does not exist, which to the caller is simply
// not found (design rule 4). Any other foreign key violation is not the caller's doing but
// a bug or a broken fixture: it stays an internal error instead of hiding behind a 404.
var ownershipKeys = map[string]bool{
	"user_credentials_account_fkey": true, // (user_account_id, user_id) → user_accounts (id, user_id)
}

// errDBClosed is database/sql's unexported "pool closed" error, which can only be matched by
// its text.
const errDBClosed = "sql: database is closed"

// translate is the one place where database errors become the service's vocabulary, so that
// callers (and the HTTP layer, through errors.Is) never look at SQLSTATEs. The result wraps
// both the sentinel and the original error: the sentinel decides the response, the original
// stays available to logs. op names the operation in words, never as SQL.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	if kind := classify(err); kind != nil {
		return fmt.Errorf("postgres: %s: %w: %w", op, kind, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// classify returns the sentinel err belongs to, or nil for errors the service has no
// specific answer to (they end up as internal errors).
func classify(err error) error {
	for _, known := range []error{domain.ErrNotFound, domain.ErrAlreadyExists, ports.ErrUnavailable, ports.ErrTimeout, ports.ErrUnauthenticated} {
		if errors.Is(err, known) {
			return nil // already translated further down; wrapping again would only repeat it
		}
	}

	// A deadline wins over whatever the driver made of it (a cancel request's 57014, a
	// closed connection).
	if errors.Is(err, context.DeadlineExceeded) {
		return ports.ErrTimeout
	}

	var pgErr *pgconn.PgError
	var connectErr *pgconn.ConnectError
	switch {
	case errors.As(err, &connectErr):
		// Checked before PgError: a refused login (28P01, 3D000) is also "cannot reach the
		// database" from the service's point of view.
		return ports.ErrUnavailable
	case errors.As(err, &pgErr):
		return classifyPgError(pgErr)
	}

	var netErr net.Error
	switch {
	case errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone),
		errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &netErr),
		strings.Contains(err.Error(), errDBClosed):
		return ports.ErrUnavailable
	}
	return nil
}

func classifyPgError(pgErr *pgconn.PgError) error {
	switch code := pgErr.Code; {
	case code == codeNoSession:
		switch pgErr.Detail {
		case ports.SessionUnknown, ports.SessionExpired, ports.SessionBanned:
			return &ports.SessionRefusedError{Reason: pgErr.Detail}
		}
		return ports.ErrUnauthenticated
	case code == codeUniqueViolation:
		return domain.ErrAlreadyExists
	case code == codeForeignKeyViolation:
		if ownershipKeys[pgErr.ConstraintName] {
			return domain.ErrNotFound
		}
		return nil
	case code == codeInsufficientPrivs:
		// Row-level security refused the row: to the caller it simply is not there.
		return domain.ErrNotFound
	case code == codeQueryCanceled, code == codeLockNotAvailable:
		return ports.ErrTimeout
	case code == codeAdminShutdown, code == codeCrashShutdown, code == codeCannotConnectNow,
		code == codeTooManyConnections, code == codeIdleInTxTimeout,
		strings.HasPrefix(code, classConnectionProblems):
		return ports.ErrUnavailable
	}
	return nil
}

// sqlState returns err's SQLSTATE, or "" when it did not come from the server.
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}
