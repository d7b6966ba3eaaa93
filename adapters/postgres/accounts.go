package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// accountRow is the user_accounts row; it never leaves this package.
type accountRow struct {
	bun.BaseModel `bun:"table:user_accounts,alias:ua"`

	ID          string    `bun:"id,pk,type:uuid"`
	UserID      string    `bun:"user_id,notnull"`
	AccountName string    `bun:"account_name,notnull"`
	IsActive    bool      `bun:"is_active,notnull"`
	CreatedAt   time.Time `bun:"created_at,notnull"`
	UpdatedAt   time.Time `bun:"updated_at,notnull"`
}

func toAccountRow(a account.Account) accountRow {
	return accountRow{
		ID:          a.ID().String(),
		UserID:      a.Owner().String(),
		AccountName: a.Name().String(),
		IsActive:    a.Active(),
		CreatedAt:   a.CreatedAt(),
		UpdatedAt:   a.UpdatedAt(),
	}
}

func (r accountRow) toDomain() (account.Account, error) {
	id, err := domain.ParseID(r.ID)
	if err != nil {
		return account.Account{}, fmt.Errorf("postgres: stored account id %q: %w", r.ID, err)
	}
	owner, err := user.ParseID(r.UserID)
	if err != nil {
		return account.Account{}, fmt.Errorf("postgres: stored owner of account %s: %w", r.ID, err)
	}
	return account.Rehydrate(id, owner, r.AccountName, r.IsActive, r.CreatedAt, r.UpdatedAt), nil
}

// accountRepo is bound to one transaction and its actor. Row-level security already limits
// it to the actor's rows; every query filters on user_id as well, so that a policy mistake
// alone cannot expose anything (and the planner gets the index condition spelled out).
type accountRepo struct {
	db    bun.IDB
	actor user.ID
}

var _ ports.AccountRepository = (*accountRepo)(nil)

func (r *accountRepo) List(ctx context.Context) ([]account.Account, error) {
	var rows []accountRow
	err := r.db.NewSelect().Model(&rows).
		Where("user_id = ?", r.actor.String()).
		OrderExpr("created_at DESC, id DESC").
		Scan(ctx)
	if err != nil {
		return nil, translate("list accounts", err)
	}
	out := make([]account.Account, 0, len(rows))
	for _, row := range rows {
		a, err := row.toDomain()
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func (r *accountRepo) Get(ctx context.Context, id domain.ID) (account.Account, error) {
	var row accountRow
	err := r.db.NewSelect().Model(&row).
		Where("id = ?", id.String()).
		Where("user_id = ?", r.actor.String()).
		Limit(1).
		Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return account.Account{}, fmt.Errorf("account %s: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return account.Account{}, translate("get account", err)
	}
	return row.toDomain()
}

func (r *accountRepo) Add(ctx context.Context, a account.Account) error {
	if err := r.ownedByActor(a); err != nil {
		return err
	}
	row := toAccountRow(a)
	// Returning("NULL") keeps bun from adding a RETURNING clause of its own.
	if _, err := r.db.NewInsert().Model(&row).Returning("NULL").Exec(ctx); err != nil {
		return translate("add account", err)
	}
	return nil
}

// AddIfAbsent never checks and then inserts: the insert itself decides, so concurrent calls
// agree. When another transaction won, ON CONFLICT waits for it and inserts nothing, and the
// SELECT that follows (a new snapshot under READ COMMITTED) sees the winner's row.
func (r *accountRepo) AddIfAbsent(ctx context.Context, a account.Account) (account.Account, bool, error) {
	if err := r.ownedByActor(a); err != nil {
		return account.Account{}, false, err
	}
	row := toAccountRow(a)
	var inserted []accountRow
	err := r.db.NewInsert().Model(&row).
		On("CONFLICT (user_id) DO NOTHING").
		Returning("*").
		Scan(ctx, &inserted)
	if err != nil {
		return account.Account{}, false, translate("add account if absent", err)
	}
	if len(inserted) == 1 {
		stored, err := inserted[0].toDomain()
		return stored, err == nil, err
	}

	var existing accountRow
	err = r.db.NewSelect().Model(&existing).
		Where("user_id = ?", r.actor.String()).
		Limit(1).
		Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		// The conflicting row exists but is not visible: it cannot be the actor's.
		return account.Account{}, false, fmt.Errorf("postgres: add account if absent: %w", domain.ErrNotFound)
	}
	if err != nil {
		return account.Account{}, false, translate("read the existing account", err)
	}
	stored, err := existing.toDomain()
	return stored, false, err
}

// ownedByActor refuses to write another user's account before the database has to. It is
// the same answer RLS would give (42501, mapped to ErrNotFound).
func (r *accountRepo) ownedByActor(a account.Account) error {
	if r.actor.IsZero() || a.Owner() != r.actor {
		return fmt.Errorf("postgres: account for another user: %w", domain.ErrNotFound)
	}
	return nil
}
