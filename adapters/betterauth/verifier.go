package betterauth

import (
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// Verifier checks the signature Better Auth put on session cookies and bearer tokens. It
// asks no store: whether the signed session is still valid is decided by the database,
// inside the transaction of the request that uses it. It is safe for concurrent use.
type Verifier struct {
	// keyed is HMAC-SHA256 keyed with BETTER_AUTH_SECRET's bytes as they are (Better Auth's
	// key); nil for a Verifier not built by NewVerifier.
	keyed hash.Cloner
}

var _ ports.SessionVerifier = (*Verifier)(nil)

// errNotConfigured fails closed for a Verifier not built by NewVerifier: an empty key
// would let anyone sign.
var errNotConfigured = fmt.Errorf("betterauth: verifier not configured: %w", ports.ErrUnauthenticated)

// NewVerifier refuses a weak secret (see ValidateSecret), so a misconfigured service stops
// at boot rather than accepting forged sessions.
func NewVerifier(secret string) (*Verifier, error) {
	if err := ValidateSecret(secret); err != nil {
		return nil, err
	}
	return &Verifier{keyed: keyedHMAC([]byte(secret))}, nil
}

// Verify returns the session a validly signed cookie or bearer token carries. The bearer
// token wins when present, even when invalid: falling back to the cookie would let a bad
// header be silently ignored. Every refusal wraps ports.ErrUnauthenticated and costs no
// database work.
func (v *Verifier) Verify(proof ports.SessionProof) (user.Session, error) {
	if v == nil || v.keyed == nil {
		return user.Session{}, errNotConfigured
	}
	source, raw := "cookie", proof.Cookie
	if proof.Bearer != "" {
		// The HTTP adapter may leave the optional whitespace after "Bearer".
		source, raw = "bearer", strings.Trim(proof.Bearer, " \t")
		if raw == "" {
			return user.Session{}, fmt.Errorf("betterauth: %s: %w", source, errNoCredential)
		}
	}
	token, err := verifySigned(v.keyed, raw)
	if err != nil {
		return user.Session{}, fmt.Errorf("betterauth: %s: %w", source, err)
	}
	s, err := user.NewSession(token)
	if err != nil {
		return user.Session{}, fmt.Errorf("betterauth: %s: %w", source, errTokenFormat)
	}
	return s, nil
}

// Format keeps the secret out of logs and panics that print the Verifier with any verb.
func (Verifier) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "betterauth.Verifier{secret: [redacted]}")
}
