package postgres

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/brokerly/accounts/domain/user"
)

// RunAs exposes the chokepoint below the ports, so the external tests can run raw SQL with
// exactly the setup every repository call gets.
func (t *Transactor) RunAs(ctx context.Context, actor user.ID, fn func(context.Context, bun.Tx) error) error {
	return t.run(ctx, actor, fn)
}

// Translate exposes the error mapping to the table-driven test.
var Translate = translate

const AppRole = appRole
