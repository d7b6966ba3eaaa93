package user

import (
	"fmt"
	"io"
	"sync/atomic"

	"github.com/brokerly/accounts/domain"
)

// MaxTokenLength bounds a session token, so garbage never reaches a store in bulk; Better
// Auth's tokens are 32 characters.
const MaxTokenLength = 255

// Session is what a request acts with: a session token whose signature the edge has
// checked. It is authentic, but not yet known to be valid — it may be signed out, expired,
// or its user deleted or banned. Only the store that resolves it, inside the transaction
// that uses it, can say whose it is; every repository call takes the Session, not a user id,
// so no code path can act for a user without that check.
//
// Copies share what they learn: once a store has resolved the session, Actor reports who
// acts through it (for logs, and for a use case deciding what may follow a call that
// resolved it), however the value was passed around.
type Session struct {
	token    string
	resolved *atomic.Pointer[Actor]
}

// NewSession accepts a token of printable ASCII without spaces or ";" (what any store can
// be asked about without failing on the bytes), 1 to MaxTokenLength long.
func NewSession(token string) (Session, error) {
	if token == "" || len(token) > MaxTokenLength {
		return Session{}, domain.Invalid("session", "token must be 1 to 255 bytes")
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; c <= ' ' || c >= 0x7f || c == ';' {
			return Session{}, domain.Invalid("session", "token must be printable ASCII")
		}
	}
	return Session{token: token, resolved: new(atomic.Pointer[Actor])}, nil
}

// Token is the secret the store resolves. Never log it.
func (s Session) Token() string { return s.token }

// IsZero reports whether the session was never set: it resolves to no one.
func (s Session) IsZero() bool { return s.token == "" }

// Resolved records whom a store found acting through the session. Stores call it; the
// first answer sticks (a token belongs to one user, and one impersonation, for its life).
func (s Session) Resolved(a Actor) {
	if s.resolved != nil && !a.User.IsZero() {
		s.resolved.CompareAndSwap(nil, &a)
	}
}

// Actor is who a store has resolved the session to, if one has.
func (s Session) Actor() (Actor, bool) {
	if s.resolved == nil {
		return Actor{}, false
	}
	if a := s.resolved.Load(); a != nil {
		return *a, true
	}
	return Actor{}, false
}

// User is the user a store has resolved the session to, if one has.
func (s Session) User() (ID, bool) {
	a, ok := s.Actor()
	return a.User, ok
}

// Format keeps the token out of logs and panics that print a Session with any verb.
func (s Session) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "user.Session{token: [redacted]}")
}
