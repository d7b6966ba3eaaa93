package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/brokerly/accounts/adapters/betterauth"
	"github.com/jackc/pgx/v5"
)

// benchSecret is BETTER_AUTH_SECRET of the benchmarked service, and signs the tokens wrk
// sends. It protects nothing: the database it opens is the bench's own.
const benchSecret = "bench-only-secret-not-for-production-0123456789"

// benchRole is the LOGIN role pgbench runs as: not a superuser, owning nothing, member of
// accounts_app (to SET ROLE to it, as the service does) without inheriting its rights.
const benchRole = "accounts_bench"

// Seeded rows are deterministic: user i has id usr<i>, session token tok<i> (both
// zero-padded to Better Auth's 32 characters) and one account. The pgbench scripts build
// the same strings.
func userID(i int) string { return fmt.Sprintf("usr%029d", i) }
func token(i int) string  { return fmt.Sprintf("tok%029d", i) }

// signedToken is the bearer value Better Auth issues for a token: token.base64(HMAC), not
// URL-encoded.
func signedToken(tok string) string { return betterauth.SignToken(benchSecret, tok) }

// tokenWidth is the width of one record of a tokens file: a signed bearer (32 + 1 + 44
// characters) and a newline.
const tokenWidth = 78

// writeTokens writes the signed bearer of every seeded user for a wrk run with t threads:
// file prefix.k (k = 1..t) holds the users k, k+t, k+2t, ... in that order, one a line of
// tokenWidth bytes, so that bench/wrk/accounts.lua keeps each thread's file as one string
// (no table for the garbage collector to walk) and cuts every request's bearer out of it.
func writeTokens(prefix string, users, t int) error {
	for k := 1; k <= t; k++ {
		f, err := os.Create(fmt.Sprintf("%s.%d", prefix, k))
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(f, 1<<20)
		for i := k; i <= users; i += t {
			w.WriteString(signedToken(token(i)))
			w.WriteByte('\n')
		}
		// Synced, so that the kernel does not write them back during a measured step.
		if err := errors.Join(w.Flush(), f.Sync()); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

type benchDB struct {
	admin string // the maintenance database, as the administrator
	url   string // the bench database, as the administrator (the service logs in with it)
	name  string
	host  string
	port  string
}

// newBenchDB creates a uniquely named database on the administrator's server.
func newBenchDB(ctx context.Context, adminURL string) (*benchDB, error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return nil, fmt.Errorf("admin URL: %w", err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := fmt.Sprintf("accounts_bench_%s_%s", time.Now().Format("20060102_150405"), hex.EncodeToString(b[:]))
	admin := *u
	admin.Path = "/postgres"
	bench := *u
	bench.Path = "/" + name
	db := &benchDB{admin: admin.String(), url: bench.String(), name: name, host: u.Hostname(), port: u.Port()}
	if db.host == "" {
		db.host = "127.0.0.1"
	}
	if db.port == "" {
		db.port = "5432"
	}
	if err := db.execOn(ctx, db.admin, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("create the bench database: %w", err)
	}
	return db, nil
}

func (db *benchDB) drop(ctx context.Context) error {
	if err := db.execOn(ctx, db.admin, "DROP DATABASE IF EXISTS "+pgx.Identifier{db.name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop the bench database %s: %w", db.name, err)
	}
	return nil
}

func (db *benchDB) execOn(ctx context.Context, dbURL string, statements ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, s := range statements {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%w\nin: %s", err, firstLine(s))
		}
	}
	return nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// seed writes users, sessions and accounts with set-based SQL, then vacuums and analyzes
// (index-only scans and fresh statistics, as a long-running database has) and checkpoints
// (so a checkpoint of the seed's writes does not land in a measured step). The
// administrator is a superuser, so FORCE ROW LEVEL SECURITY does not stop it.
func (db *benchDB) seed(ctx context.Context, users int) error {
	n := fmt.Sprint(users)
	return db.execOn(ctx, db.url,
		`SET synchronous_commit = off`,
		`SET maintenance_work_mem = '256MB'`,
		`INSERT INTO "user" (id, name, email, "emailVerified", "createdAt", "updatedAt")
		 SELECT 'usr' || lpad(i::text, 29, '0'), 'Bench User ' || i, 'bench' || i || '@example.test', true, now(), now()
		 FROM generate_series(1, `+n+`) AS i`,
		`INSERT INTO "session" (id, "expiresAt", token, "createdAt", "updatedAt", "ipAddress", "userAgent", "userId")
		 SELECT 'ses' || lpad(i::text, 29, '0'), now() + interval '7 days', 'tok' || lpad(i::text, 29, '0'),
		        now(), now(), '127.0.0.1', 'accounts-bench', 'usr' || lpad(i::text, 29, '0')
		 FROM generate_series(1, `+n+`) AS i`,
		// Time-ordered ids, like the service's UUIDv7s.
		`INSERT INTO user_accounts (id, user_id, account_name, is_active, created_at, updated_at)
		 SELECT ('01900000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'usr' || lpad(i::text, 29, '0'),
		        'Default Alpaca Account', true, now(), now()
		 FROM generate_series(1, `+n+`) AS i`,
		`VACUUM ANALYZE "user", "session", user_accounts`,
		`CHECKPOINT`,
	)
}

// setupBenchRole makes sure the cluster-global LOGIN role pgbench uses exists with safe
// attributes, gives it a fresh random password (for servers that do not trust local TCP)
// and grants it, in the bench database only, what the naive script needs. It returns the
// connection settings for pgbench.
func (db *benchDB) setupBenchRole(ctx context.Context) (pgRole, error) {
	var b [18]byte
	_, _ = rand.Read(b[:])
	password := hex.EncodeToString(b[:])
	err := db.execOn(ctx, db.admin,
		`DO $$
		BEGIN
		  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '`+benchRole+`') THEN
		    BEGIN
		      CREATE ROLE `+benchRole+` LOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT NOCREATEDB NOCREATEROLE NOREPLICATION;
		    EXCEPTION WHEN duplicate_object OR unique_violation THEN
		      NULL;
		    END;
		  END IF;
		  IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '`+benchRole+`'
		             AND (rolsuper OR rolbypassrls OR rolcreaterole OR rolreplication)) THEN
		    RAISE EXCEPTION 'role `+benchRole+` exists as a privileged role; the bench needs an ordinary one';
		  END IF;
		END
		$$`,
		`ALTER ROLE `+benchRole+` PASSWORD '`+password+`'`,
		`GRANT accounts_app TO `+benchRole,
	)
	if err != nil {
		return pgRole{}, fmt.Errorf("set up the role %s: %w", benchRole, err)
	}
	// Table-level SELECT on Better Auth's two tables, as a service that reads them directly
	// (the naive path) would hold; nothing on user_accounts, which it reaches only as
	// accounts_app, under row-level security.
	err = db.execOn(ctx, db.url,
		`GRANT SELECT ON "session", "user" TO `+benchRole,
	)
	if err != nil {
		return pgRole{}, fmt.Errorf("grant %s the naive lookup: %w", benchRole, err)
	}
	return pgRole{host: db.host, port: db.port, user: benchRole, password: password, database: db.name}, nil
}

// checkUnchanged fails when the run created accounts: every seeded user has one, so
// get-or-create must only ever have found it.
func (db *benchDB) checkUnchanged(ctx context.Context, users int) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, db.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM user_accounts`).Scan(&n); err != nil {
		return fmt.Errorf("count accounts: %w", err)
	}
	if n != users {
		return fmt.Errorf("user_accounts has %d rows after the run, want %d: get-or-create created accounts", n, users)
	}
	return nil
}

func (db *benchDB) serverVersion(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, db.admin)
	if err != nil {
		return "?"
	}
	defer conn.Close(context.Background())
	var v, sb string
	if conn.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('shared_buffers')`).Scan(&v, &sb) != nil {
		return "?"
	}
	return fmt.Sprintf("PostgreSQL %s (shared_buffers %s)", v, sb)
}

// pgRole is how pgbench logs in.
type pgRole struct {
	host, port, user, password, database string
}

func (r pgRole) url() string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(r.user, r.password), Host: net.JoinHostPort(r.host, r.port),
		Path: "/" + r.database, RawQuery: "sslmode=disable"}
	return u.String()
}

// checkPipelineScript runs a pipeline script's statements once for user 1, as pgbench's
// role and in one implicit transaction as pgbench does, and checks that they return that
// user's account: a lookup that found nothing would return no row without an error, and
// pgbench would measure nothing.
func checkPipelineScript(ctx context.Context, role pgRole, path string) error {
	stmts, err := scriptStatements(path, 1)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, role.url())
	if err != nil {
		return fmt.Errorf("connect as %s: %w", role.user, err)
	}
	defer conn.Close(context.Background())
	batch := &pgx.Batch{}
	for _, s := range stmts {
		batch.Queue(s)
	}
	br := conn.SendBatch(ctx, batch)
	for range stmts[:len(stmts)-1] {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	var owners []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil || len(vals) < 2 {
			rows.Close()
			br.Close()
			return fmt.Errorf("%s: the last statement's row: %v", filepath.Base(path), err)
		}
		owners = append(owners, fmt.Sprint(vals[1]))
	}
	rows.Close()
	if err := errors.Join(rows.Err(), br.Close()); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	if len(owners) != 1 || owners[0] != userID(1) {
		return fmt.Errorf("%s returned the accounts of %v for user 1, want exactly one of %s", filepath.Base(path), owners, userID(1))
	}
	return nil
}

// scriptStatements reads the SQL statements of a pgbench script (one a line; comments,
// meta-commands and blank lines skipped) with :uid replaced by the user's number.
func scriptStatements(path string, uid int) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var stmts []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "--") || strings.HasPrefix(line, `\`) {
			continue
		}
		if !strings.HasSuffix(line, ";") {
			return nil, fmt.Errorf("%s: a statement per line, ending in ';': %q", filepath.Base(path), line)
		}
		stmts = append(stmts, strings.ReplaceAll(line, ":uid", fmt.Sprint(uid)))
	}
	if len(stmts) == 0 {
		return nil, fmt.Errorf("%s has no statement", filepath.Base(path))
	}
	return stmts, nil
}
