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
