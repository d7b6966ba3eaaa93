package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// auditSQL returns one line per problem with the row-level security setup: the restricted
// role's attributes and ownership, every table in the service's schema that lacks ENABLE or
// FORCE ROW LEVEL SECURITY, and tables missing a policy for one of the four commands.
// Better Auth's tables and schema_migrations hold no per-user rows of the service: they are
// skipped. Any other table, including one added later, must pass.
const auditSQL = `
WITH role AS (
	SELECT oid, rolsuper, rolbypassrls, rolcanlogin, rolinherit FROM pg_roles WHERE rolname = $1
), tenant AS (
	SELECT c.oid, c.relname, c.relrowsecurity, c.relforcerowsecurity
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
	  AND c.relname NOT IN ('user', 'session', 'account', 'verification', 'jwks', 'schema_migrations')
)
SELECT 'role ' || $1 || ' does not exist' FROM (SELECT 1) x WHERE NOT EXISTS (SELECT 1 FROM role)
UNION ALL SELECT 'role ' || $1 || ' is a superuser' FROM role WHERE rolsuper
UNION ALL SELECT 'role ' || $1 || ' bypasses RLS' FROM role WHERE rolbypassrls
UNION ALL SELECT 'role ' || $1 || ' can log in' FROM role WHERE rolcanlogin
UNION ALL SELECT 'role ' || $1 || ' inherits' FROM role WHERE rolinherit
UNION ALL SELECT 'role ' || $1 || ' owns relation ' || c.relname FROM pg_class c JOIN role r ON c.relowner = r.oid
UNION ALL SELECT 'role ' || $1 || ' owns function ' || p.proname FROM pg_proc p JOIN role r ON p.proowner = r.oid
UNION ALL SELECT 'role ' || $1 || ' owns schema ' || n.nspname FROM pg_namespace n JOIN role r ON n.nspowner = r.oid
UNION ALL SELECT 'table ' || relname || ' has RLS disabled' FROM tenant WHERE NOT relrowsecurity
UNION ALL SELECT 'table ' || relname || ' does not force RLS' FROM tenant WHERE NOT relforcerowsecurity
UNION ALL SELECT 'table ' || t.relname || ' has no ' || cmd.name || ' policy'
	FROM tenant t CROSS JOIN (VALUES ('r', 'SELECT'), ('a', 'INSERT'), ('w', 'UPDATE'), ('d', 'DELETE')) AS cmd(code, name)
	WHERE NOT EXISTS (
		SELECT 1 FROM pg_policy p
		WHERE p.polrelid = t.oid AND p.polcmd IN (cmd.code, '*')
	)`

// AuditRLS checks the row-level security setup the service depends on (design rule 1, test
// 16). The service should refuse to start when it fails: without it, the policies may not
// apply to anything.
func AuditRLS(ctx context.Context, db *bun.DB) error {
	rows, err := db.DB.QueryContext(ctx, auditSQL, appRole)
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
