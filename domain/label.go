package domain

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseLabel checks a name a user gives something (an account, a credential): it trims
// surrounding white space, then requires 1 to maxRunes characters and no control characters.
// field names the input in the error.
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
	return s, nil
}
