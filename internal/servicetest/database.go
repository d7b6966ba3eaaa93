package servicetest

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/brokerly/accounts/adapters/postgres/pgtest"
)

// NewDatabaseURL names a database that does not exist yet (the service's --migrate creates
// it) and drops it when the test ends.
func NewDatabaseURL(t testing.TB) string {
	t.Helper()
	name := pgtest.UniqueName(t)
	t.Cleanup(func() { pgtest.Admin(t, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)") })
	return pgtest.DatabaseURL(t, name)
}

// MigratedDatabase is a fresh clone of the migrated template, dropped when the test ends:
// what `serve` (without --migrate) expects to find.
func MigratedDatabase(t testing.TB) string {
	t.Helper()
	return pgtest.CloneTemplate(t)
}

// CreateDatabase creates the (empty) database dbURL names.
func CreateDatabase(t testing.TB, dbURL string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	pgtest.Admin(t, "CREATE DATABASE "+pgx.Identifier{u.Path[1:]}.Sanitize())
}

// Exec runs statements on dbURL as the superuser, for fixtures only.
func Exec(t testing.TB, dbURL, sql string, args ...any) {
	t.Helper()
	withConn(t, dbURL, func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, sql, args...)
		return err
	})
}

// QueryRow reads one row on dbURL as the superuser, for checks only.
func QueryRow(t testing.TB, dbURL, sql string, dest ...any) {
	t.Helper()
	withConn(t, dbURL, func(ctx context.Context, conn *pgx.Conn) error {
		return conn.QueryRow(ctx, sql).Scan(dest...)
	})
}

// Count runs a count(*) query on dbURL as the superuser.
func Count(t testing.TB, dbURL, query string, args ...any) int {
	t.Helper()
	var n int
	withConn(t, dbURL, func(ctx context.Context, conn *pgx.Conn) error {
		return conn.QueryRow(ctx, query, args...).Scan(&n)
	})
	return n
}

// TableDigest is md5 over every row of table as the superuser sees it: "unchanged" means
// equal.
func TableDigest(t testing.TB, dbURL, table string) string {
	t.Helper()
	var d string
	QueryRow(t, dbURL, `SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM `+table+` r`, &d)
	return d
}

// Backends counts the client sessions on dbURL's database other than this helper's own:
// it connects under its own application_name, so that a backend of an earlier call that is
// still exiting is not counted either.
func Backends(t testing.TB, dbURL string) int {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", "servicetest-backends-probe")
	u.RawQuery = q.Encode()
	return Count(t, u.String(), `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND backend_type = 'client backend' AND application_name <> 'servicetest-backends-probe'`)
}

func withConn(t testing.TB, dbURL string, fn func(context.Context, *pgx.Conn) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if err := fn(ctx, conn); err != nil {
		t.Fatal(err)
	}
}
