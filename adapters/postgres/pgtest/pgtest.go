// Package pgtest gives each test its own freshly created and migrated PostgreSQL database,
// dropped when the test ends, plus fixtures for Better Auth's tables. Tests fail (never
// skip) when PostgreSQL is unreachable: a skipped RLS test is a silent hole.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
	"go.uber.org/zap"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/domain/user"
)

// DefaultAdminURL is used when TEST_DATABASE_URL is unset. The admin role must be able to
// create databases; the RLS tests also rely on it being a superuser, to prove that the
// chokepoint's role switch takes a superuser's rights away.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

const setupTimeout = 30 * time.Second

// AdminURL is the URL of the maintenance database tests connect to as an administrator.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultAdminURL
}

// NewDB creates a uniquely named database, migrates it with postgres.Migrate and returns a
// pool on it (logged in as the admin role) and its URL. Cleanup closes the pool and drops
// the database.
func NewDB(t testing.TB) (*bun.DB, string) {
	t.Helper()
	db, dbURL := NewEmptyDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := postgres.Migrate(ctx, db, zap.NewNop()); err != nil {
		t.Fatalf("pgtest: migrate: %v", err)
	}
	return db, dbURL
}

// NewEmptyDB is NewDB without the migrations.
func NewEmptyDB(t testing.TB) (*bun.DB, string) {
	t.Helper()
	name := UniqueName(t)
	dbURL := CreateDatabase(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	db, err := postgres.Open(ctx, postgres.Config{URL: dbURL})
	if err != nil {
		t.Fatalf("pgtest: open %s: %v", name, err)
	}
	// Registered after CreateDatabase's cleanup, so it runs first: close, then drop.
	t.Cleanup(func() { _ = db.Close() })
	return db, dbURL
}

// UniqueName returns a database name no other test (or test process) uses.
func UniqueName(t testing.TB) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return fmt.Sprintf("accounts_test_%d_%s", os.Getpid(), hex.EncodeToString(b[:]))
}

// CreateDatabase creates an empty database called name, drops it (WITH (FORCE), so leftover
// connections cannot block it) when the test ends, and returns its URL.
func CreateDatabase(t testing.TB, name string) string {
	t.Helper()
	ident := pgx.Identifier{name}.Sanitize()
	Admin(t, "CREATE DATABASE "+ident)
	t.Cleanup(func() { Admin(t, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)") })
	return DatabaseURL(t, name)
}

// DatabaseURL is AdminURL pointing at database name instead.
func DatabaseURL(t testing.TB, name string) string {
	t.Helper()
	u, err := url.Parse(AdminURL())
	if err != nil || u.Scheme == "" {
		t.Fatalf("pgtest: TEST_DATABASE_URL must be a postgres:// URL")
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
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("pgtest: PostgreSQL is required for this test (set TEST_DATABASE_URL): %v", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}

// CreateUser inserts a Better Auth user (as the admin role, the way Better Auth would) and
// returns its id: 32 random alphanumerics, like Better Auth's generateId.
func CreateUser(t testing.TB, db bun.IDB) user.ID {
	t.Helper()
	raw := RandomToken()
	id, err := user.ParseID(raw)
	if err != nil {
		t.Fatalf("pgtest: user id: %v", err)
	}
	InsertUser(t, db, id)
	return id
}

// InsertUser inserts a Better Auth user with the given id.
func InsertUser(t testing.TB, db bun.IDB, id user.ID) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	_, err := db.NewRaw(`INSERT INTO "user" (id, name, email, "emailVerified") VALUES (?, ?, ?, false)`,
		id.String(), "Test "+id.String(), id.String()+"@example.test").Exec(ctx)
	if err != nil {
		t.Fatalf("pgtest: insert user: %v", err)
	}
}

// CreateSession inserts a Better Auth session for u with the given token and expiry.
func CreateSession(t testing.TB, db bun.IDB, u user.ID, token string, expiresAt time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	_, err := db.NewRaw(`INSERT INTO "session" (id, "expiresAt", token, "updatedAt", "userId") VALUES (?, ?, ?, now(), ?)`,
		RandomToken(), expiresAt, token, u.String()).Exec(ctx)
	if err != nil {
		t.Fatalf("pgtest: insert session: %v", err)
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
