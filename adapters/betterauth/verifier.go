package betterauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// SessionStore resolves a session token (the part before the signature) to its user.
// The PostgreSQL adapter implements it: it joins the user and checks expiry.
type SessionStore interface {
	// LookupSession returns the id of the user whose unexpired session has this token,
	// ports.ErrUnauthenticated when there is none (signed out, revoked, expired), or
	// ports.ErrUnavailable / ports.ErrTimeout when the database cannot answer.
	LookupSession(ctx context.Context, token string) (userID string, err error)
}

// Verifier checks Better Auth session cookies and bearer tokens. It is safe for
// concurrent use.
type Verifier struct {
	key   []byte // BETTER_AUTH_SECRET's bytes as-is: Better Auth's HMAC key
	store SessionStore
}

var _ ports.SessionVerifier = (*Verifier)(nil)

// errNotConfigured fails closed for a Verifier not built by NewVerifier: an empty key
// would let anyone sign.
var errNotConfigured = fmt.Errorf("betterauth: verifier not configured: %w", ports.ErrUnavailable)

// NewVerifier refuses a weak secret (see ValidateSecret) and a nil store, so a
// misconfigured service stops at boot rather than accepting forged sessions.
func NewVerifier(secret string, store SessionStore) (*Verifier, error) {
	if err := ValidateSecret(secret); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, errors.New("betterauth: session store is nil")
	}
	return &Verifier{key: []byte(secret), store: store}, nil
}

// Verify returns the user of a validly signed, live session. The bearer token wins when
// present, even when invalid: falling back to the cookie would let a bad header be
// silently ignored. Refusals wrap ports.ErrUnauthenticated; a database that cannot answer
// gives ports.ErrUnavailable or ports.ErrTimeout. The store is only asked once the
// signature holds, so garbage costs no database work.
func (v *Verifier) Verify(ctx context.Context, proof ports.SessionProof) (user.ID, error) {
	if v == nil || len(v.key) == 0 || v.store == nil {
		return user.ID{}, errNotConfigured
	}
	source, raw := "cookie", proof.Cookie
	if proof.Bearer != "" {
		// The HTTP adapter may leave the optional whitespace after "Bearer".
		source, raw = "bearer", strings.Trim(proof.Bearer, " \t")
		if raw == "" {
			return user.ID{}, fmt.Errorf("betterauth: %s: %w", source, errNoCredential)
		}
	}
	token, err := verifySigned(v.key, raw)
	if err != nil {
		return user.ID{}, fmt.Errorf("betterauth: %s: %w", source, err)
	}
	userID, err := v.store.LookupSession(ctx, token)
	if err != nil {
		return user.ID{}, lookupFailure(err, token)
	}
	id, err := user.ParseID(userID)
	if err != nil {
		return user.ID{}, fmt.Errorf("betterauth: %s: %w", source, errBadUserID)
	}
	return id, nil
}

// lookupFailure keeps the store's verdict: no session is a refusal; unavailability stays
// unavailability (503, not 401, so clients do not drop a good session). Anything else is
// treated as unavailable too, failing closed without signing users out. The store's text
// is kept for logs unless it quotes the token.
func lookupFailure(err error, token string) error {
	switch {
	case errors.Is(err, ports.ErrUnavailable), errors.Is(err, ports.ErrTimeout):
		if strings.Contains(err.Error(), token) {
			kind := ports.ErrUnavailable
			if errors.Is(err, ports.ErrTimeout) {
				kind = ports.ErrTimeout
			}
			return fmt.Errorf("betterauth: session lookup (detail redacted): %w", kind)
		}
		return fmt.Errorf("betterauth: session lookup: %w", err)
	case errors.Is(err, ports.ErrUnauthenticated):
		return fmt.Errorf("betterauth: session lookup: %w", errNoSession)
	case strings.Contains(err.Error(), token):
		return fmt.Errorf("betterauth: session lookup failed (detail redacted): %w", ports.ErrUnavailable)
	default:
		return fmt.Errorf("betterauth: session lookup: %w: %w", ports.ErrUnavailable, err)
	}
}

// Format keeps the secret out of logs and panics that print the Verifier with any verb.
func (Verifier) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "betterauth.Verifier{secret: [redacted]}")
}
