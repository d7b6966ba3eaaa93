package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// auditSQL returns one line per problem with the row-level security setup: the attributes
// and ownership of each restricted role in $1, every table in the service's schema that
// lacks ENABLE or FORCE ROW LEVEL SECURITY, tables missing a policy for one of the four
// commands, and policies that apply to PUBLIC (a permissive one would be OR'ed into every
// role's view). Better Auth's tables and schema_migrations hold no per-user rows of the
// service: they are skipped. Any other table, including one added later, must pass.
const auditSQL = `
WITH wanted AS (
	SELECT unnest($1::text[]) AS rolname
), role AS (
	SELECT r.oid, r.rolname, r.rolsuper, r.rolbypassrls, r.rolcanlogin, r.rolinherit
	FROM pg_roles r JOIN wanted w ON w.rolname = r.rolname
), tenant AS (
	SELECT c.oid, c.relname, c.relrowsecurity, c.relforcerowsecurity
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
	  AND c.relname NOT IN ('user', 'session', 'account', 'verification', 'jwks', 'schema_migrations')
)
SELECT 'role ' || w.rolname || ' does not exist' FROM wanted w WHERE NOT EXISTS (SELECT 1 FROM role r WHERE r.rolname = w.rolname)
UNION ALL SELECT 'role ' || rolname || ' is a superuser' FROM role WHERE rolsuper
UNION ALL SELECT 'role ' || rolname || ' bypasses RLS' FROM role WHERE rolbypassrls
UNION ALL SELECT 'role ' || rolname || ' can log in' FROM role WHERE rolcanlogin
UNION ALL SELECT 'role ' || rolname || ' inherits' FROM role WHERE rolinherit
UNION ALL SELECT 'role ' || r.rolname || ' owns relation ' || c.relname FROM pg_class c JOIN role r ON c.relowner = r.oid
UNION ALL SELECT 'role ' || r.rolname || ' owns function ' || p.proname FROM pg_proc p JOIN role r ON p.proowner = r.oid
UNION ALL SELECT 'role ' || r.rolname || ' owns schema ' || n.nspname FROM pg_namespace n JOIN role r ON n.nspowner = r.oid
UNION ALL SELECT 'table ' || relname || ' has RLS disabled' FROM tenant WHERE NOT relrowsecurity
UNION ALL SELECT 'table ' || relname || ' does not force RLS' FROM tenant WHERE NOT relforcerowsecurity
UNION ALL SELECT 'table ' || t.relname || ' has no ' || cmd.name || ' policy'
	FROM tenant t CROSS JOIN (VALUES ('r', 'SELECT'), ('a', 'INSERT'), ('w', 'UPDATE'), ('d', 'DELETE')) AS cmd(code, name)
	WHERE NOT EXISTS (
		SELECT 1 FROM pg_policy p
		WHERE p.polrelid = t.oid AND p.polcmd IN (cmd.code, '*')
	)
UNION ALL SELECT 'table ' || t.relname || ' policy ' || p.polname || ' applies to PUBLIC'
	FROM tenant t JOIN pg_policy p ON p.polrelid = t.oid
	WHERE 0 = ANY (p.polroles)`

// auditedRoles are the roles the service's transactions switch to: the user-scoped one and
// the rotation-only one. Each must be unable to sidestep the policies.
var auditedRoles = []string{string(appRole), string(rotatorRole)}

// ErrAuditFailed marks a database setup the service must not run on. Any other error from
// AuditRLS means the database could not answer (ports.ErrUnavailable, ports.ErrTimeout):
// try again later.
var ErrAuditFailed = errors.New("postgres: row-level security audit failed")

// AuditReport describes the login role the audit found, for the start-up log.
type AuditReport struct {
	LoginRole string
	// LoginBypassesRLS is true for a superuser or BYPASSRLS login. That is allowed (the
	// default DATABASE_URL is the postgres superuser) only because every query on a
	// service table runs after the role switch, which the audit has just proven to work and
	// to drop those rights; TestRel21_OneChokepointBeginsTransactions keeps every query behind it.
	LoginBypassesRLS bool
}

// auditRLS checks the row-level security setup the service depends on (design rule 1,
// test 16), for the given restricted roles (tests point it at a deliberately unsafe
// scratch role rather than altering the real, cluster-wide ones), and fails with
// ErrAuditFailed, naming every problem, when the service must refuse to run:
//   - the catalogs (auditSQL): the roles are NOLOGIN, NOSUPERUSER, NOBYPASSRLS, NOINHERIT
//     and own nothing; every tenant table has RLS enabled and forced, and a policy for each
//     command that is not granted to PUBLIC;
//   - the switch, proven from the login role the service really connects as, through the
//     same transaction helper and context statement every transaction uses: the
//     transaction runs as accounts_app, which is neither a superuser nor BYPASSRLS, and
//     with no user it sees no row of any tenant table;
//   - the session context statement works from the login role: a token that resolves to
//     no one is refused (28000), not a permission error on Better Auth's tables.
func auditRLS(ctx context.Context, db *DB, roles []string) (AuditReport, error) {
	var report AuditReport
	var problems []string
	err := db.transact(ctx, asLogin, eachRun, func(ctx context.Context, tx *txn) error {
		return tx.run(ctx, "audit row-level security",
			&statement{sql: `SELECT session_user::text, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = session_user`,
				read: func(rows pgx.Rows) error {
					for rows.Next() {
						if err := rows.Scan(&report.LoginRole, &report.LoginBypassesRLS); err != nil {
							return err
						}
					}
					return nil
				}},
			&statement{sql: auditSQL, args: []any{roles}, read: appendStrings(&problems)},
		)
	})
	if err != nil {
		return report, err
	}
	switchProblems, err := probeRoleSwitch(ctx, db)
	if err != nil {
		return report, err
	}
	problems = append(problems, switchProblems...)
	sessionProblems, err := probeSessionContext(ctx, db, report.LoginRole)
	if err != nil {
		return report, err
	}
	problems = append(problems, sessionProblems...)
	if len(problems) > 0 {
		return report, fmt.Errorf("%w: %s", ErrAuditFailed, strings.Join(problems, "; "))
	}
	return report, nil
}

// appendStrings collects a one-column text result.
func appendStrings(out *[]string) func(pgx.Rows) error {
	return func(rows pgx.Rows) error {
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				return err
			}
			*out = append(*out, v)
		}
		return nil
	}
}

// tenantTablesSQL lists, as the switched-to role, the tenant tables it can read at all.
const tenantTablesSQL = `SELECT format('%I.%I', n.nspname, c.relname)
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
	  AND c.relname NOT IN ('user', 'session', 'account', 'verification', 'jwks', 'schema_migrations')
	  AND has_any_column_privilege(c.oid, 'SELECT')
	ORDER BY 1`

// probeRoleSwitch opens a transaction through the transaction helper, switched to
// accounts_app for no user exactly as key rotation's are to its role, and reports what is
// wrong with it. Its errors are only those of a database that cannot answer; a switch
// that fails (the login role is not a member of accounts_app) is a problem, not an error.
func probeRoleSwitch(ctx context.Context, db *DB) ([]string, error) {
	var problems []string
	err := db.transact(ctx, asNobody, oneTx, func(ctx context.Context, tx *txn) error {
		var current string
		var bypasses bool
		var tables []string
		err := tx.run(ctx, "audit row-level security: role switch",
			&statement{sql: `SELECT current_user::text, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user`,
				read: func(rows pgx.Rows) error {
					for rows.Next() {
						if err := rows.Scan(&current, &bypasses); err != nil {
							return err
						}
					}
					return nil
				}},
			&statement{sql: tenantTablesSQL, read: appendStrings(&tables)},
		)
		if err != nil {
			return err
		}
		if current != string(appRole) || bypasses {
			problems = append(problems, fmt.Sprintf("after the role switch the transaction runs as %s (superuser or BYPASSRLS: %t), not as a restricted %s", current, bypasses, appRole))
			return nil
		}
		for _, t := range tables {
			// A bounded look: the TID range (leakproof, so usable under RLS) stops the scan
			// after the first 8 MB, where a leaking policy shows its rows whatever the size of
			// the table. t comes from the catalog, quoted by format('%I').
			var visible []string
			err := tx.run(ctx, "audit row-level security: probe "+t, &statement{
				sql:  `SELECT 'x' FROM (SELECT 1 FROM ` + t + ` WHERE ctid < '(1024,0)'::tid LIMIT 1) probe`,
				read: appendStrings(&visible),
			})
			if err != nil {
				return err
			}
			if len(visible) > 0 {
				problems = append(problems, fmt.Sprintf("%s sees rows of %s without a user context", appRole, t))
			}
		}
		return nil
	})
	if err == nil {
		return problems, nil
	}
	if noAnswer(err) {
		return nil, err
	}
	return append(problems, fmt.Sprintf("the login role cannot run a transaction as %s: %s", appRole, sqlMessage(err))), nil
}

// probeSessionContext runs the session context statement for a token no session has: it
// must be refused as "no session" (ErrUnauthenticated), which proves the login role may
// read what the statement reads and switch to accounts_app after it.
func probeSessionContext(ctx context.Context, db *DB, loginRole string) ([]string, error) {
	probe, err := user.NewSession("accounts-audit-probe-" + rand.Text())
	if err != nil {
		return nil, err
	}
	err = db.transact(ctx, scope{role: appRole, session: probe}, eachRun, func(ctx context.Context, tx *txn) error {
		return tx.run(ctx, "audit the session context")
	})
	switch {
	case errors.Is(err, ports.ErrUnauthenticated):
		return nil, nil
	case err == nil:
		return []string{"the session context statement accepted a token no session has"}, nil
	case noAnswer(err):
		return nil, err
	}
	return []string{fmt.Sprintf("login role %s cannot resolve sessions (it needs SELECT on Better Auth's \"session\" and \"user\" and membership in %s): %s",
		loginRole, appRole, sqlMessage(err))}, nil
}

// noAnswer reports whether err only says that the database did not answer, so the audit
// has no verdict yet.
func noAnswer(err error) bool {
	kind := classify(err)
	for _, e := range []error{ports.ErrUnavailable, ports.ErrTimeout, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, e) || errors.Is(kind, e) {
			return true
		}
	}
	return false
}

// sqlMessage is the server's message for err without the driver's decoration, or err's text.
func sqlMessage(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Message + " (SQLSTATE " + pgErr.Code + ")"
	}
	return err.Error()
}
