package account

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/brokerly/accounts/domain"
)

// MaxNameLength is counted in characters (runes), matching the varchar(255) column.
const MaxNameLength = 255

// DefaultName is what get-or-create calls an account the user never named.
const DefaultName = "Default Alpaca Account"

// Name is a validated account name: trimmed, 1 to 255 characters, no control characters.
type Name struct{ value string }

// ParseName trims surrounding white space and checks the rules.
func ParseName(s string) (Name, error) {
	if !utf8.ValidString(s) {
		return Name{}, domain.Invalid("account_name", "must be valid UTF-8")
	}
	s = strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return Name{}, domain.Invalid("account_name", "must not be empty")
	case n > MaxNameLength:
		return Name{}, domain.Invalid("account_name", "must be at most 255 characters")
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return Name{}, domain.Invalid("account_name", "must not contain control characters")
	}
	return Name{value: s}, nil
}

func (n Name) String() string { return n.value }
