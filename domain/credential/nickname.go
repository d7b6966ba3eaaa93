package credential

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/brokerly/accounts/domain"
)

// Nickname is a user's label for a credential: trimmed, 1 to 255 characters, no controls.
type Nickname struct{ value string }

func ParseNickname(s string) (Nickname, error) {
	if !utf8.ValidString(s) {
		return Nickname{}, domain.Invalid("nickname", "must be valid UTF-8")
	}
	s = strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return Nickname{}, domain.Invalid("nickname", "must not be empty")
	case n > 255:
		return Nickname{}, domain.Invalid("nickname", "must be at most 255 characters")
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return Nickname{}, domain.Invalid("nickname", "must not contain control characters")
	}
	return Nickname{value: s}, nil
}

func (n Nickname) String() string { return n.value }
