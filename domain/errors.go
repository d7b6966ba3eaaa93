// Package domain holds the kinds of error every aggregate shares, so that adapters can map
// them to their own vocabulary (HTTP statuses, log levels) without knowing each aggregate.
package domain

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound means the thing does not exist or the caller may not see it: the two are
	// deliberately indistinguishable, so that nobody can probe for other users' rows.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists means the caller's own invariant forbids a second one.
	ErrAlreadyExists = errors.New("already exists")
)

// ValidationError says which input field broke which rule.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid %s: %s", e.Field, e.Message)
}

// Invalid builds a *ValidationError; it reads better at call sites than a struct literal.
func Invalid(field, message string) error {
	return &ValidationError{Field: field, Message: message}
}
