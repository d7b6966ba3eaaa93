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

// The account queries. Row-level security already limits them to the session's user; each
// filters on that user as well (currentUserSQL), so that a policy mistake alone cannot
// expose anything. They are constant texts, so pgx prepares each once per connection.
const (
	accountColumns = `id, user_id, account_name, is_active, created_at, updated_at`

	// One account per user: at most one row, so "newest first" needs no sort.
	listAccountsSQL = `SELECT ` + accountColumns + ` FROM user_accounts
		WHERE user_id = ` + currentUserSQL
	insertAccountSQL = `INSERT INTO user_accounts (` + accountColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6)`
	insertAccountIfAbsentSQL = insertAccountSQL + `
		ON CONFLICT (user_id) DO NOTHING RETURNING ` + accountColumns
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

// AccountRepo implements ports.AccountRepository. Each method is one transaction of its
// own, the session resolved in its first statement.
type AccountRepo struct{ db *DB }

var _ ports.AccountRepository = (*AccountRepo)(nil)

func NewAccountRepo(db *DB) *AccountRepo { return &AccountRepo{db: db} }

// List is one round trip.
func (r *AccountRepo) List(ctx context.Context, s user.Session) ([]account.Account, error) {
	out := []account.Account{}
	err := r.db.transact(ctx, asUser(s), eachRun, func(ctx context.Context, tx *txn) error {
		return tx.run(ctx, "list accounts", &statement{sql: listAccountsSQL, read: readAccounts(&out)})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Add needs the owner before it can build the account: one round trip resolves the
// session, the next inserts (and resolves it again). The unique user_id decides a race:
// the loser's 23505 is domain.ErrAlreadyExists.
func (r *AccountRepo) Add(ctx context.Context, s user.Session, open ports.OpenAccount) (account.Account, error) {
	var added account.Account
	err := r.db.transact(ctx, asUser(s), eachRun, func(ctx context.Context, tx *txn) error {
		if err := tx.run(ctx, "resolve session"); err != nil {
			return err
		}
		a, err := open(tx.actor.User)
		if err != nil {
			return err
		}
		if err := ownedBy(a, tx.actor.User); err != nil {
			return err
		}
		if err := tx.run(ctx, "add account", &statement{sql: insertAccountSQL, args: accountArgs(a)}); err != nil {
			return err
		}
		added = a
		return nil
	})
	return added, err
}

// AddIfAbsent reads first: for a user who has an account (every call but the first) that
// is the whole of it, one round trip. Otherwise it never checks and then inserts: the
// insert itself decides, so concurrent calls agree. When another transaction won, ON
// CONFLICT waits for it and inserts nothing, and the SELECT that follows (a new snapshot
// under READ COMMITTED) sees the winner's row; both go out in one round trip.
func (r *AccountRepo) AddIfAbsent(ctx context.Context, s user.Session, open ports.OpenAccount) (account.Account, bool, error) {
	var stored account.Account
	var created bool
	err := r.db.transact(ctx, asUser(s), eachRun, func(ctx context.Context, tx *txn) error {
		var existing []account.Account
		if err := tx.run(ctx, "get account", &statement{sql: listAccountsSQL, read: readAccounts(&existing)}); err != nil {
			return err
		}
		if len(existing) > 0 {
			stored = existing[0]
			return nil
		}
		a, err := open(tx.actor.User)
		if err != nil {
			return err
		}
		if err := ownedBy(a, tx.actor.User); err != nil {
			return err
		}
		var inserted []account.Account
		err = tx.run(ctx, "add account if absent",
			&statement{sql: insertAccountIfAbsentSQL, args: accountArgs(a), read: readAccounts(&inserted)},
			&statement{sql: listAccountsSQL, read: readAccounts(&existing)},
		)
		switch {
		case err != nil:
			return err
		case len(inserted) == 1:
			stored, created = inserted[0], true
		case len(existing) == 0:
			// The conflicting row exists but is not visible: it cannot be the user's.
			return fmt.Errorf("postgres: add account if absent: %w", domain.ErrNotFound)
		default:
			stored = existing[0]
		}
		return nil
	})
	return stored, created, err
}

// ownedBy refuses to write another user's account before the database has to. It is the
// same answer row-level security would give (42501, mapped to ErrNotFound).
func ownedBy(a account.Account, owner user.ID) error {
	if owner.IsZero() || a.Owner() != owner {
		return fmt.Errorf("postgres: account for another user: %w", domain.ErrNotFound)
	}
	return nil
}
