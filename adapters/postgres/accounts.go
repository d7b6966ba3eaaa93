package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// The account queries. Row-level security already limits them to the actor's rows; each
// filters on user_id as well, so that a policy mistake alone cannot expose anything (and
// the planner gets the index condition spelled out). They are constant texts with bind
// parameters, so pgx prepares each once per connection.
const (
	accountColumns = `id, user_id, account_name, is_active, created_at, updated_at`

	listAccountsSQL = `SELECT ` + accountColumns + ` FROM user_accounts
		WHERE user_id = $1 ORDER BY created_at DESC, id DESC`
	getAccountSQL = `SELECT ` + accountColumns + ` FROM user_accounts
		WHERE id = $1 AND user_id = $2`
	insertAccountSQL = `INSERT INTO user_accounts (` + accountColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6)`
	insertAccountIfAbsentSQL = insertAccountSQL + `
		ON CONFLICT (user_id) DO NOTHING RETURNING ` + accountColumns
	accountOfUserSQL = `SELECT ` + accountColumns + ` FROM user_accounts WHERE user_id = $1`
)

// accountRow is the user_accounts row; it never leaves this package.
type accountRow struct {
	ID          pgtype.UUID
	UserID      string
	AccountName string
	IsActive    bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func accountArgs(a account.Account) []any {
	return []any{pgtype.UUID{Bytes: a.ID(), Valid: true}, a.Owner().String(), a.Name().String(), a.Active(), a.CreatedAt(), a.UpdatedAt()}
}

func (r *accountRow) fields() []any {
	return []any{&r.ID, &r.UserID, &r.AccountName, &r.IsActive, &r.CreatedAt, &r.UpdatedAt}
}

func (r accountRow) toDomain() (account.Account, error) {
	id := domain.ID(r.ID.Bytes)
	owner, err := user.ParseID(r.UserID)
	if err != nil {
		return account.Account{}, fmt.Errorf("postgres: stored owner of account %s: %w", id, err)
	}
	return account.Rehydrate(id, owner, r.AccountName, r.IsActive, r.CreatedAt, r.UpdatedAt), nil
}

// readAccounts collects every row into out.
func readAccounts(out *[]account.Account) func(pgx.Rows) error {
	return func(rows pgx.Rows) error {
		for rows.Next() {
			var row accountRow
			if err := rows.Scan(row.fields()...); err != nil {
				return err
			}
			a, err := row.toDomain()
			if err != nil {
				return err
			}
			*out = append(*out, a)
		}
		return nil
	}
}

// accountRepo is bound to one transaction and its actor.
type accountRepo struct {
	tx    *pgTx
	actor user.ID
}

var _ ports.AccountRepository = (*accountRepo)(nil)

func (r *accountRepo) List(ctx context.Context) ([]account.Account, error) {
	out := []account.Account{}
	if err := r.tx.run(ctx, &statement{sql: listAccountsSQL, args: []any{r.actor.String()}, read: readAccounts(&out)}); err != nil {
		return nil, translate("list accounts", err)
	}
	return out, nil
}

func (r *accountRepo) Get(ctx context.Context, id domain.ID) (account.Account, error) {
	var found []account.Account
	st := &statement{sql: getAccountSQL, args: []any{pgtype.UUID{Bytes: id, Valid: true}, r.actor.String()}, read: readAccounts(&found)}
	if err := r.tx.run(ctx, st); err != nil {
		return account.Account{}, translate("get account", err)
	}
	if len(found) == 0 {
		return account.Account{}, fmt.Errorf("account %s: %w", id, domain.ErrNotFound)
	}
	return found[0], nil
}

func (r *accountRepo) Add(ctx context.Context, a account.Account) error {
	if err := r.ownedByActor(a); err != nil {
		return err
	}
	if err := r.tx.run(ctx, &statement{sql: insertAccountSQL, args: accountArgs(a)}); err != nil {
		return translate("add account", err)
	}
	return nil
}

// AddIfAbsent never checks and then inserts: the insert itself decides, so concurrent calls
// agree. When another transaction won, ON CONFLICT waits for it and inserts nothing, and the
// SELECT that follows (a new snapshot under READ COMMITTED) sees the winner's row. Both go
// out in one round trip.
func (r *accountRepo) AddIfAbsent(ctx context.Context, a account.Account) (account.Account, bool, error) {
	if err := r.ownedByActor(a); err != nil {
		return account.Account{}, false, err
	}
	var inserted, existing []account.Account
	err := r.tx.run(ctx,
		&statement{sql: insertAccountIfAbsentSQL, args: accountArgs(a), read: readAccounts(&inserted)},
		&statement{sql: accountOfUserSQL, args: []any{r.actor.String()}, read: readAccounts(&existing)},
	)
	switch {
	case err != nil:
		return account.Account{}, false, translate("add account if absent", err)
	case len(inserted) == 1:
		return inserted[0], true, nil
	case len(existing) == 0:
		// The conflicting row exists but is not visible: it cannot be the actor's.
		return account.Account{}, false, fmt.Errorf("postgres: add account if absent: %w", domain.ErrNotFound)
	}
	return existing[0], false, nil
}

// ownedByActor refuses to write another user's account before the database has to. It is
// the same answer RLS would give (42501, mapped to ErrNotFound).
func (r *accountRepo) ownedByActor(a account.Account) error {
	if r.actor.IsZero() || a.Owner() != r.actor {
		return fmt.Errorf("postgres: account for another user: %w", domain.ErrNotFound)
	}
	return nil
}
