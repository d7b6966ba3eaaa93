package httpadapter

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/brokerly/accounts/app/query"
	"github.com/brokerly/accounts/domain/credential"
)

// credentialEvents: GET /api/credentials/{id}/events?limit=...&before=...
func (s *Server) credentialEvents(c *fiber.Ctx) error {
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	page, err := s.uc.Queries.CredentialEvents.Handle(c.UserContext(), query.CredentialEvents{
		Session:      sessionOf(c),
		CredentialID: credentialID(c),
		Limit:        limit,
		Before:       strings.Clone(c.Query("before")),
	})
	if err != nil {
		return err
	}
	out := EventList{Status: "success", Events: make([]Event, 0, len(page.Events)), Count: len(page.Events)}
	for _, e := range page.Events {
		out.Events = append(out.Events, toEvent(e))
	}
	if page.More {
		last := out.Events[len(out.Events)-1].ID
		out.NextBefore = &last
	}
	return c.JSON(out)
}

// EventList is the body of GET /api/credentials/{id}/events: one page, newest first, and
// the before of the next page (null after the last).
type EventList struct {
	Status     string  `json:"status"`
	Events     []Event `json:"events"`
	Count      int     `json:"count"`
	NextBefore *string `json:"next_before"`
}

// Event is one entry of a credential's audit trail.
type Event struct {
	ID             string  `json:"id"`
	Action         string  `json:"action"`
	Outcome        string  `json:"outcome"`
	RequestID      *string `json:"request_id"`
	ImpersonatedBy *string `json:"impersonated_by"`
	CreatedAt      string  `json:"created_at"`
}

func toEvent(e credential.Event) Event {
	out := Event{ID: e.ID.String(), Action: e.Action.String(), Outcome: e.Outcome.String(), CreatedAt: formatTime(e.At)}
	if e.RequestID != "" {
		out.RequestID = &e.RequestID
	}
	if !e.ImpersonatedBy.IsZero() {
		admin := e.ImpersonatedBy.String()
		out.ImpersonatedBy = &admin
	}
	return out
}
