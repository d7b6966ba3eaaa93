package postgres

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/brokerly/accounts/domain/user"
)

// RunAs exposes the chokepoint below the ports, so the external tests can run raw SQL with
// exactly the setup every repository call gets.
func (t *Transactor) RunAs(ctx context.Context, actor user.ID, fn func(context.Context, bun.Tx) error) error {
	return inRoleTx(ctx, t.db, appRole, actor.String(), fn)
}

// AuditRLSForRoles exposes the audit with its role list, for a test with a scratch role.
var AuditRLSForRoles = auditRLS

// Translate exposes the error mapping to the table-driven test.
var Translate = translate

// The role names as the catalogs spell them.
const (
	AppRole     = string(appRole)
	RotatorRole = string(rotatorRole)
)

// RunAsRotator exposes the rotation store's transaction setup, so a test can check what
// role and settings its statements run under.
func (s *RotationStore) RunAsRotator(ctx context.Context, fn func(context.Context, bun.Tx) error) error {
	return inRoleTx(ctx, s.db, rotatorRole, "", fn)
}

// The repositories' list queries, for the plan test.
const (
	ListAccountsSQL    = listAccountsSQL
	ListCredentialsSQL = listCredentialsSQL
)
