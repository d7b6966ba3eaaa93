package ports

import "errors"

var (
	// ErrUnauthenticated hides why a session was refused: missing, forged, expired and
	// signed out all look the same to the caller.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrUnavailable means a dependency (the database) cannot be reached right now; the
	// request may be retried later.
	ErrUnavailable = errors.New("temporarily unavailable")
	// ErrTimeout means a dependency did not answer within the request's deadline.
	ErrTimeout = errors.New("timed out")
)

// Why a store refused a session, for metrics only: every reason is the same
// ErrUnauthenticated to the client.
const (
	SessionUnknown = "unknown_session" // no such token: never issued, signed out, or its user deleted
	SessionExpired = "expired"
	SessionBanned  = "banned"
)

// SessionRefusedError is ErrUnauthenticated with the store's reason (one of the Session*
// constants).
type SessionRefusedError struct{ Reason string }

func (e *SessionRefusedError) Error() string { return ErrUnauthenticated.Error() + ": " + e.Reason }
func (e *SessionRefusedError) Unwrap() error { return ErrUnauthenticated }
