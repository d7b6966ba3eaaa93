package postgres_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/ports"
)

func TestTranslate(t *testing.T) {
	pg := func(code string) error {
		return fmt.Errorf("driver: %w", &pgconn.PgError{Severity: "ERROR", Code: code, Message: "server says no"})
	}
	fk := func(constraint string) error {
		return fmt.Errorf("driver: %w", &pgconn.PgError{Severity: "ERROR", Code: "23503", ConstraintName: constraint, Message: "server says no"})
	}
	sentinels := []error{domain.ErrNotFound, domain.ErrAlreadyExists, ports.ErrUnavailable, ports.ErrTimeout}
	for _, tc := range []struct {
		name string
		err  error
		want error // nil: none of the sentinels
	}{
		{"unique violation", pg("23505"), domain.ErrAlreadyExists},
		{"RLS refusal", pg("42501"), domain.ErrNotFound},
		{"credential under an account that is not the user's", fk("user_credentials_account_fkey"), domain.ErrNotFound},
		// Any other foreign key is a bug, not the caller's doing: an internal error, not a 404.
		{"other foreign key", fk("user_accounts_user_id_fkey"), nil},
		{"foreign key without a name", pg("23503"), nil},
		{"statement timeout", pg("57014"), ports.ErrTimeout},
		{"lock timeout", pg("55P03"), ports.ErrTimeout},
		{"admin shutdown", pg("57P01"), ports.ErrUnavailable},
		{"cannot connect now", pg("57P03"), ports.ErrUnavailable},
		{"connection failure", pg("08006"), ports.ErrUnavailable},
		{"too many connections", pg("53300"), ports.ErrUnavailable},
		{"idle in transaction timeout", pg("25P03"), ports.ErrUnavailable},
		{"other server error", pg("22P02"), nil},
		{"bad connection", driver.ErrBadConn, ports.ErrUnavailable},
		{"connection done", sql.ErrConnDone, ports.ErrUnavailable},
		{"pgx connection closed", pgconn.ErrConnClosed, ports.ErrUnavailable},
		{"pool closed", errors.New("sql: database is closed"), ports.ErrUnavailable},
		{"network", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, ports.ErrUnavailable},
		{"unexpected EOF", io.ErrUnexpectedEOF, ports.ErrUnavailable},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), ports.ErrTimeout},
		{"already translated", fmt.Errorf("account: %w", domain.ErrNotFound), domain.ErrNotFound},
		{"unknown", errors.New("something else"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := postgres.Translate("do something", tc.err)
			require.ErrorIs(t, got, tc.err, "the original stays in the chain for logs")
			require.Contains(t, got.Error(), "do something")
			for _, s := range sentinels {
				if s == tc.want {
					require.ErrorIs(t, got, s)
				} else {
					require.NotErrorIs(t, got, s)
				}
			}
		})
	}
	require.NoError(t, postgres.Translate("nothing", nil))
}
