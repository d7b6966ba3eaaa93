package memory

import (
	"context"
	"fmt"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

type trail struct{ s *Store }

var _ ports.CredentialTrail = trail{}

// Record holds the event to the session's user, as the database's policy does.
func (r trail) Record(ctx context.Context, sess user.Session, c credential.Credential, action credential.Action, outcome credential.Outcome) error {
	return r.s.transact(ctx, sess, func(t *txn) error {
		if !t.visible(c.Owner()) {
			return fmt.Errorf("memory: record an event of another user's credential: %w", ports.ErrUnauthenticated)
		}
		t.record(c.ID(), c.AccountID(), action, outcome)
		return nil
	})
}

func (r trail) Events(ctx context.Context, sess user.Session, credentialID domain.ID, page credential.EventPage) ([]credential.Event, bool, error) {
	out := []credential.Event{}
	more := false
	err := r.s.transact(ctx, sess, func(t *txn) error {
		c, exists := t.credentials[credentialID]
		exists = exists && t.visible(c.Owner())
		mine := []credential.Event{}
		for _, e := range t.store.events { // oldest first
			if e.CredentialID == credentialID && t.visible(e.Owner) {
				mine = append(mine, e)
				exists = true
			}
		}
		if !exists {
			return fmt.Errorf("credential %s: %w", credentialID, domain.ErrNotFound)
		}
		end := len(mine) // events before end are older than the cursor
		if !page.Before.IsZero() {
			end = 0
			for i, e := range mine {
				if e.ID == page.Before {
					end = i
				}
			}
		}
		for i := end - 1; i >= 0; i-- {
			if len(out) == page.Size {
				more = true
				break
			}
			out = append(out, mine[i])
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, more, nil
}
