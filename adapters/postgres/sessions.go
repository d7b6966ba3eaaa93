package postgres

import (
	"context"

	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// SessionRepo implements ports.Sessions: the context statement alone, one round trip.
type SessionRepo struct{ db *DB }

var _ ports.Sessions = (*SessionRepo)(nil)

func NewSessionRepo(db *DB) *SessionRepo { return &SessionRepo{db: db} }

func (r *SessionRepo) Resolve(ctx context.Context, s user.Session) (user.ID, error) {
	var owner user.ID
	err := r.db.transact(ctx, asUser(s), eachRun, func(ctx context.Context, tx *txn) error {
		if err := tx.run(ctx, "resolve session"); err != nil {
			return err
		}
		owner = tx.actor.User
		return nil
	})
	return owner, err
}
