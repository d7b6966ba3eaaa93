package user

import (
	"errors"
	"fmt"
)

// Actor is who acts through a resolved session: its user, and, when an admin is
// impersonating that user (Better Auth's admin plugin), the admin.
type Actor struct {
	User           ID
	ImpersonatedBy ID // zero unless an admin is impersonating User
}

// ErrImpersonated refuses something an impersonating admin may not do: an admin can see
// what the user sees, but not change, use or reveal the user's broker secrets.
var ErrImpersonated = errors.New("an impersonated session may not touch broker credentials")

// Impersonated reports whether an admin acts as the user.
func (a Actor) Impersonated() bool { return !a.ImpersonatedBy.IsZero() }

// MayTouchSecrets allows storing, changing, deleting and using broker credentials only to
// the user acting as themselves.
func (a Actor) MayTouchSecrets() error {
	if a.Impersonated() {
		return fmt.Errorf("%w (admin %s acting as %s)", ErrImpersonated, a.ImpersonatedBy, a.User)
	}
	return nil
}
