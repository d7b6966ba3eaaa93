package credential

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/brokerly/accounts/domain"
)

// MaxSecretLength bounds API keys and secrets; real Alpaca values are 20 to 44 characters.
const MaxSecretLength = 256

// Plaintext is an API key or secret in the clear. It prints as a mask, so a stray log
// line or %v cannot leak it; Reveal is the one deliberate way out.
type Plaintext struct{ value string }

// ParsePlaintext checks a key or secret as typed: non-empty, bounded, printable, no spaces.
func ParsePlaintext(field, s string) (Plaintext, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return Plaintext{}, domain.Invalid(field, "must not be empty")
	case len(s) > MaxSecretLength:
		return Plaintext{}, domain.Invalid(field, "must be at most 256 bytes")
	case !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0:
		return Plaintext{}, domain.Invalid(field, "must be printable characters without spaces")
	}
	return Plaintext{value: s}, nil
}

// Reveal returns the secret itself, for the one call that needs it.
func (p Plaintext) Reveal() string { return p.value }

func (p Plaintext) String() string   { return "[REDACTED]" }
func (p Plaintext) GoString() string { return "[REDACTED]" }

// Sealed is an encrypted value with the id of the key that sealed it. The domain never
// looks inside; only the cipher port can open it.
type Sealed struct {
	KeyID      string
	Ciphertext []byte
}

// Field names a sealed column; it is part of what the ciphertext is bound to.
type Field string

const (
	FieldAPIKey    Field = "api_key"
	FieldSecretKey Field = "secret_key"
)
