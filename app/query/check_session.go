package query

import (
	"context"
	"fmt"

	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// CheckSession asks whether a session is live, and whose it is.
type CheckSession struct {
	Session user.Session
}

type CheckSessionHandler struct {
	sessions ports.Sessions
}

func NewCheckSessionHandler(sessions ports.Sessions) CheckSessionHandler {
	if sessions == nil {
		panic("query: CheckSessionHandler needs sessions")
	}
	return CheckSessionHandler{sessions: sessions}
}

// Handle fails with ports.ErrUnauthenticated for a session that resolves to no one.
func (h CheckSessionHandler) Handle(ctx context.Context, q CheckSession) (user.ID, error) {
	id, err := h.sessions.Resolve(ctx, q.Session)
	if err != nil {
		return user.ID{}, fmt.Errorf("check session: %w", err)
	}
	return id, nil
}
