package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
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

// AuditRLS checks the row-level security setup the service depends on (design rule 1, test
// 16). The service should refuse to start when it fails: without it, the policies may not
// apply to anything. It covers both roles the service switches to, accounts_app and
// accounts_rotator.
func AuditRLS(ctx context.Context, db *bun.DB) error {
	return auditRLS(ctx, db, auditedRoles)
}

// auditRLS is AuditRLS for the given roles; tests point it at a deliberately unsafe one
// rather than altering the real, cluster-wide roles.
func auditRLS(ctx context.Context, db *bun.DB, roles []string) error {
	rows, err := db.DB.QueryContext(ctx, auditSQL, roles)
	if err != nil {
		return translate("audit row-level security", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return translate("audit row-level security", err)
		}
		problems = append(problems, p)
	}
	if err := rows.Err(); err != nil {
		return translate("audit row-level security", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("postgres: row-level security audit failed: %w", errors.New(strings.Join(problems, "; ")))
	}
	return nil
}
