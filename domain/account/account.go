// Package account is the broker account record a user owns: one per user.
package account

import (
	"errors"
	"time"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/user"
)

// Account is the aggregate. Its fields are private so that every Account in the program
// went through New or Rehydrate.
type Account struct {
	id        domain.ID
	owner     user.ID
	name      Name
	active    bool
	createdAt time.Time
	updatedAt time.Time
}

// New opens an active account for owner. Timestamps are cut to microseconds, the
// precision PostgreSQL keeps, so an account reads back exactly as it was written.
func New(owner user.ID, name Name, now time.Time) (Account, error) {
	if owner.IsZero() {
		return Account{}, errors.New("account: owner is required")
	}
	if name == (Name{}) {
		return Account{}, errors.New("account: name is required")
	}
	now = now.UTC().Truncate(time.Microsecond)
	return Account{
		id:        domain.NewID(now),
		owner:     owner,
		name:      name,
		active:    true,
		createdAt: now,
		updatedAt: now,
	}, nil
}

// Rehydrate rebuilds an account from storage. Only repositories should call it: it trusts
// its input, which was validated when the account was created.
func Rehydrate(id domain.ID, owner user.ID, name string, active bool, createdAt, updatedAt time.Time) Account {
	return Account{
		id:        id,
		owner:     owner,
		name:      Name{value: name},
		active:    active,
		createdAt: createdAt.UTC(),
		updatedAt: updatedAt.UTC(),
	}
}

func (a Account) ID() domain.ID        { return a.id }
func (a Account) Owner() user.ID       { return a.owner }
func (a Account) Name() Name           { return a.name }
func (a Account) Active() bool         { return a.active }
func (a Account) CreatedAt() time.Time { return a.createdAt }
func (a Account) UpdatedAt() time.Time { return a.updatedAt }
