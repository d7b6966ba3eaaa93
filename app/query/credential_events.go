package query

import (
	"context"
	"fmt"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// CredentialEvents returns a page of one credential's audit trail, newest first. The
// owner sees it even after deleting the credential; for anyone else it does not exist.
type CredentialEvents struct {
	Session      user.Session
	CredentialID string
	Limit        *int   // nil: credential.DefaultEventPageSize
	Before       string // "" for the newest, else the id of the last event of the page before
}

// EventPage is one page of events, and whether older ones follow.
type EventPage struct {
	Events []credential.Event
	More   bool
}

type CredentialEventsHandler struct {
	trail ports.CredentialTrail
}

func NewCredentialEventsHandler(trail ports.CredentialTrail) CredentialEventsHandler {
	if trail == nil {
		panic("query: CredentialEventsHandler needs a credential trail")
	}
	return CredentialEventsHandler{trail: trail}
}

// Handle fails with a *domain.ValidationError for a limit outside 1 to
// credential.MaxEventPageSize or a before that is not an event id, and domain.ErrNotFound
// for a credential the user never had.
func (h CredentialEventsHandler) Handle(ctx context.Context, q CredentialEvents) (EventPage, error) {
	page, err := credential.NewEventPage(q.Limit, q.Before)
	if err != nil {
		return EventPage{}, err
	}
	id, err := domain.ParseID(q.CredentialID)
	if err != nil {
		return EventPage{}, fmt.Errorf("credential events: %w", domain.ErrNotFound)
	}
	events, more, err := h.trail.Events(ctx, q.Session, id, page)
	if err != nil {
		return EventPage{}, fmt.Errorf("credential events: %w", err)
	}
	return EventPage{Events: events, More: more}, nil
}
