package domain

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseLabel checks a name a user gives something (an account, a credential): it trims
// surrounding white space, then requires 1 to maxRunes characters, no control characters
// and no format characters. field names the input in the error.
//
// Format characters (category Cf: zero-width spaces and joiners, the byte-order mark,
// bidirectional overrides and isolates) are invisible or reorder what is shown, so a label
// holding them can read as something it is not ("\u202egnp.exe" shows as "exe.png").
func ParseLabel(field, s string, maxRunes int) (string, error) {
	if !utf8.ValidString(s) {
		return "", Invalid(field, "must be valid UTF-8")
	}
	s = strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return "", Invalid(field, "must not be empty")
	case n > maxRunes:
		return "", Invalid(field, fmt.Sprintf("must be at most %d characters", maxRunes))
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", Invalid(field, "must not contain control characters")
	}
	if strings.IndexFunc(s, isFormat) >= 0 {
		return "", Invalid(field, "must not contain invisible formatting characters")
	}
	return s, nil
}

func isFormat(r rune) bool { return unicode.Is(unicode.Cf, r) }
