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

// ValidationErrors reports every invalid field of one input at once.
type ValidationErrors []*ValidationError

func (e ValidationErrors) Error() string {
	msg := ""
	for i, v := range e {
		if i > 0 {
			msg += "; "
		}
		msg += v.Error()
	}
	return msg
}

// Join collects validation errors into one ValidationErrors; any other error is returned
// as soon as it is met, since it is not the caller's input that is wrong.
func Join(errs ...error) error {
	var out ValidationErrors
	for _, err := range errs {
		var v *ValidationError
		var vs ValidationErrors
		switch {
		case err == nil:
		case errors.As(err, &vs):
			out = append(out, vs...)
		case errors.As(err, &v):
			out = append(out, v)
		default:
			return err
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Unwrap lets errors.As find a *ValidationError inside, for callers that need only one.
func (e ValidationErrors) Unwrap() []error {
	out := make([]error, len(e))
	for i, v := range e {
		out[i] = v
	}
	return out
}
