// Package pgtest gives each test its own PostgreSQL database, cloned from a template that
// is migrated once per test process and dropped with the database when the test ends,
// plus fixtures for Better Auth's tables. Tests fail (never skip) when PostgreSQL is
// unreachable: a skipped RLS test is a silent hole.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/domain/user"
)

// DefaultAdminURL is used when TEST_DATABASE_URL is unset. The admin role must be able to
// create databases; the RLS tests also rely on it being a superuser, to prove that the
// chokepoint's role switch takes a superuser's rights away.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

const setupTimeout = 30 * time.Second

// Names of the databases this package creates: <prefix><pid>_<random>. The pid lets a
// later run drop what a killed one left behind.
const (
	testPrefix     = "accounts_test_"
	templatePrefix = "accounts_tmpl_"
)

// AdminURL is the URL of the maintenance database tests connect to as an administrator.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultAdminURL
}

// Main runs a package's tests and then drops the migrated template, if one was made; call
// it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	DropTemplate()
	os.Exit(code)
}

// DropTemplate drops this process's migrated template, if it made one.
func DropTemplate() {
	if tmpl.name == "" {
		return
	}
	if err := adminExec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{tmpl.name}.Sanitize()+" WITH (FORCE)"); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: drop template %s: %v\n", tmpl.name, err)
	}
}

// tmpl is this process's migrated template database, made on first use.
var tmpl struct {
	once sync.Once
	name string
	err  error
}

// TemplateName returns the migrated template, creating it on first use.
func TemplateName(t testing.TB) string {
	t.Helper()
	tmpl.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		dropOrphans(ctx)
		name := templatePrefix + uniqueSuffix()
		if err := adminExec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			tmpl.err = err
			return
		}
		tmpl.name = name
		db, err := postgres.Open(ctx, postgres.Config{URL: urlFor(name)})
		if err != nil {
			tmpl.err = err
			return
		}
		defer func() { _ = db.Close() }() // a template must have no connections to be copied
		tmpl.err = postgres.Migrate(ctx, db, zap.NewNop())
	})
	if tmpl.err != nil {
		t.Fatalf("pgtest: PostgreSQL is required for this test (set TEST_DATABASE_URL): migrated template: %v", tmpl.err)
	}
	return tmpl.name
}

// NewDB returns a pool (logged in as the admin role) on a fresh clone of the migrated
// template, audited so that the repositories may use it, and its URL. Cleanup closes the
// pool and drops the database.
func NewDB(t testing.TB) (*postgres.DB, string) {
	t.Helper()
	dbURL := CloneTemplate(t)
	db := open(t, dbURL)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if _, err := db.Audit(ctx); err != nil {
		t.Fatalf("pgtest: audit the migrated database: %v", err)
	}
	return db, dbURL
}

// NewEmptyDB is a pool on a fresh database without the migrations (and not audited).
func NewEmptyDB(t testing.TB) (*postgres.DB, string) {
	t.Helper()
	dbURL := CreateDatabase(t, testPrefix+uniqueSuffix())
	return open(t, dbURL), dbURL
}

// CloneTemplate creates a migrated database from the template, drops it when the test
// ends, and returns its URL.
func CloneTemplate(t testing.TB) string {
	t.Helper()
	return createDatabase(t, testPrefix+uniqueSuffix(), TemplateName(t))
}

func open(t testing.TB, dbURL string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), postgres.Config{URL: dbURL})
	if err != nil {
		t.Fatalf("pgtest: open: %v", err)
	}
	// Registered after the database's cleanup, so it runs first: close, then drop.
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// UniqueName returns a database name no other test (or test process) uses.
func UniqueName(t testing.TB) string {
	t.Helper()
	return testPrefix + uniqueSuffix()
}

func uniqueSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return fmt.Sprintf("%d_%s", os.Getpid(), hex.EncodeToString(b[:]))
}

// CreateDatabase creates an empty database called name, drops it (WITH (FORCE), so leftover
// connections cannot block it) when the test ends, and returns its URL.
func CreateDatabase(t testing.TB, name string) string {
	t.Helper()
	return createDatabase(t, name, "")
}

func createDatabase(t testing.TB, name, template string) string {
	t.Helper()
	ident := pgx.Identifier{name}.Sanitize()
	create := "CREATE DATABASE " + ident
	if template != "" {
		create += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	Admin(t, create)
	t.Cleanup(func() { Admin(t, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)") })
	return urlFor(name)
}

// DatabaseURL is AdminURL pointing at database name instead.
func DatabaseURL(t testing.TB, name string) string {
	t.Helper()
	if _, err := url.Parse(AdminURL()); err != nil {
		t.Fatalf("pgtest: TEST_DATABASE_URL must be a postgres:// URL")
	}
	return urlFor(name)
}

func urlFor(name string) string {
	u, err := url.Parse(AdminURL())
	if err != nil {
		return ""
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// Admin runs one statement on the maintenance database as the admin role. PostgreSQL
// unreachable is a test failure.
func Admin(t testing.TB, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := adminExec(ctx, sql, args...); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}

func adminExec(ctx context.Context, sql string, args ...any) error {
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	_, err = conn.Exec(ctx, sql, args...)
	return err
}

// dropOrphans drops the test databases and templates of test processes that no longer
// run (killed before their cleanup): their names carry the pid.
func dropOrphans(ctx context.Context) {
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return
	}
	defer func() { _ = conn.Close(context.Background()) }()
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'accounts\_test\_%' OR datname LIKE 'accounts\_tmpl\_%'`)
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range names {
		rest := strings.TrimPrefix(strings.TrimPrefix(name, testPrefix), templatePrefix)
		pid, err := strconv.Atoi(strings.SplitN(rest, "_", 2)[0])
		if err != nil || pid <= 0 || !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			continue // not ours, or its process still runs
		}
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
}

// CreateUser inserts a Better Auth user (as the admin role, the way Better Auth would) and
// returns its id: 32 random alphanumerics, like Better Auth's generateId.
func CreateUser(t testing.TB, db *postgres.DB) user.ID {
	t.Helper()
	id, err := user.ParseID(RandomToken())
	if err != nil {
		t.Fatalf("pgtest: user id: %v", err)
	}
	InsertUser(t, db, id)
	return id
}

// InsertUser inserts a Better Auth user with the given id.
func InsertUser(t testing.TB, db *postgres.DB, id user.ID) {
	t.Helper()
	Exec(t, db, `INSERT INTO "user" (id, name, email, "emailVerified") VALUES (?, ?, ?, false)`,
		id.String(), "Test "+id.String(), id.String()+"@example.test")
}

// CreateSession inserts a Better Auth session for u with the given token and expiry.
func CreateSession(t testing.TB, db *postgres.DB, u user.ID, token string, expiresAt time.Time) {
	t.Helper()
	Exec(t, db, `INSERT INTO "session" (id, "expiresAt", token, "updatedAt", "userId") VALUES (?, ?, ?, now(), ?)`,
		RandomToken(), expiresAt, token, u.String())
}

// SignIn creates a Better Auth user with a session valid for an hour, as signing up does,
// and returns both.
func SignIn(t testing.TB, db *postgres.DB) (user.ID, user.Session) {
	t.Helper()
	u := CreateUser(t, db)
	return u, NewSession(t, db, u)
}

// NewSession creates another session, valid for an hour, for an existing user u.
func NewSession(t testing.TB, db *postgres.DB, u user.ID) user.Session {
	t.Helper()
	token := RandomToken()
	CreateSession(t, db, u, token, time.Now().Add(time.Hour))
	s, err := user.NewSession(token)
	if err != nil {
		t.Fatalf("pgtest: session: %v", err)
	}
	return s
}

// AdminPluginColumns is what Better Auth's admin plugin adds to its tables.
const AdminPluginColumns = `ALTER TABLE "user" ADD COLUMN IF NOT EXISTS role text, ADD COLUMN IF NOT EXISTS banned boolean,
	ADD COLUMN IF NOT EXISTS "banReason" text, ADD COLUMN IF NOT EXISTS "banExpires" timestamptz;
	ALTER TABLE "session" ADD COLUMN IF NOT EXISTS "impersonatedBy" text`

// Impersonate creates an admin (adding the admin plugin's columns first, as its
// migration does) and a session in which that admin acts as u, the row
// auth.api.impersonateUser writes; it returns the admin and the session.
func Impersonate(t testing.TB, db *postgres.DB, u user.ID) (user.ID, user.Session) {
	t.Helper()
	Exec(t, db, AdminPluginColumns)
	admin := CreateUser(t, db)
	Exec(t, db, `UPDATE "user" SET role = 'admin' WHERE id = ?`, admin.String())
	token := RandomToken()
	Exec(t, db, `INSERT INTO "session" (id, "expiresAt", token, "updatedAt", "userId", "impersonatedBy") VALUES (?, ?, ?, now(), ?, ?)`,
		RandomToken(), time.Now().Add(time.Hour), token, u.String(), admin.String())
	s, err := user.NewSession(token)
	if err != nil {
		t.Fatalf("pgtest: session: %v", err)
	}
	return admin, s
}

// EndSession deletes a session, as Better Auth's sign-out does.
func EndSession(t testing.TB, db *postgres.DB, s user.Session) {
	t.Helper()
	Exec(t, db, `DELETE FROM "session" WHERE token = ?`, s.Token())
}

// Exec runs one fixture statement on db as the admin role (Bun placeholders: ?).
func Exec(t testing.TB, db *postgres.DB, query string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if _, err := db.Bun().NewRaw(query, args...).Exec(ctx); err != nil {
		t.Fatalf("pgtest: %s: %v", query, err)
	}
}

// RandomToken returns 32 characters from [A-Za-z0-9], the shape of Better Auth's ids and
// session tokens.
func RandomToken() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)] // the slight bias does not matter in tests
	}
	return string(b)
}
