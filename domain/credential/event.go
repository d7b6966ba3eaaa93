package credential

import (
	"fmt"
	"time"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/user"
)

// Action is what happened to a credential, as its audit trail names it.
type Action struct{ value string }

var (
	Stored          = Action{"stored"}
	Updated         = Action{"updated"}
	Deleted         = Action{"deleted"}
	Validated       = Action{"validated"}
	AccountDataRead = Action{"account_data_read"}
	OpenFailed      = Action{"open_failed"} // a sealed value did not open: tampered, moved, or its key gone
	Rotated         = Action{"rotated"}
)

var actions = []Action{Stored, Updated, Deleted, Validated, AccountDataRead, OpenFailed, Rotated}

func ParseAction(s string) (Action, error) {
	for _, a := range actions {
		if a.value == s {
			return a, nil
		}
	}
	return Action{}, fmt.Errorf("unknown credential action %q", s)
}

func (a Action) String() string { return a.value }

// Outcome is how it ended.
type Outcome struct{ value string }

var (
	OK       = Outcome{"ok"}
	Rejected = Outcome{"rejected"} // the broker refused the key pair
	Refused  = Outcome{"refused"}  // the service refused: an impersonating admin
	Failed   = Outcome{"failed"}   // the broker, the network or the sealed value failed
)

var outcomes = []Outcome{OK, Rejected, Refused, Failed}

func ParseOutcome(s string) (Outcome, error) {
	for _, o := range outcomes {
		if o.value == s {
			return o, nil
		}
	}
	return Outcome{}, fmt.Errorf("unknown credential outcome %q", s)
}

func (o Outcome) String() string { return o.value }

// Event is one entry of a credential's audit trail: who did what to which credential,
// from which request, when, and how it ended. Events are never changed or removed, and
// outlive the credential they describe.
type Event struct {
	ID           domain.ID
	CredentialID domain.ID // zero only for a refused store: no credential came of it
	AccountID    domain.ID
	Owner        user.ID
	Action       Action
	Outcome      Outcome
	// RequestID is the request it happened in ("" for none, like key rotation's runs
	// before they had ids); ImpersonatedBy the admin acting as Owner, if one was.
	RequestID      string
	ImpersonatedBy user.ID
	At             time.Time
}

// MaxRequestIDLength bounds a request id kept in the trail; the service's own are 32
// characters.
const MaxRequestIDLength = 128

// Events pages: newest first, like the credential list.
const (
	DefaultEventPageSize = 50
	MaxEventPageSize     = 200
)

// EventPage asks for at most Size events, those older than the event Before (zero: from
// the newest).
type EventPage struct {
	Size   int
	Before domain.ID
}

// NewEventPage checks a requested page size (nil: the default) and the event to continue
// after ("" : from the newest).
func NewEventPage(size *int, before string) (EventPage, error) {
	var errs []error
	n := DefaultEventPageSize
	if size != nil {
		n = *size
	}
	if n < 1 || n > MaxEventPageSize {
		errs = append(errs, domain.Invalid("limit", fmt.Sprintf("must be between 1 and %d", MaxEventPageSize)))
	}
	var id domain.ID
	if before != "" {
		var err error
		if id, err = domain.ParseID(before); err != nil || id.IsZero() {
			errs = append(errs, domain.Invalid("before", "must be the id of an event"))
		}
	}
	if err := domain.Join(errs...); err != nil {
		return EventPage{}, err
	}
	return EventPage{Size: n, Before: id}, nil
}
