package account

import "github.com/brokerly/accounts/domain"

// MaxNameLength is counted in characters (runes), matching the varchar(255) column.
const MaxNameLength = 255

// DefaultName is what get-or-create calls an account the user never named.
const DefaultName = "Default Alpaca Account"

// Name is a validated account name: trimmed, 1 to 255 characters, no control characters.
type Name struct{ value string }

// ParseName trims surrounding white space and checks the rules.
func ParseName(s string) (Name, error) {
	v, err := domain.ParseLabel("account_name", s, MaxNameLength)
	if err != nil {
		return Name{}, err
	}
	return Name{value: v}, nil
}

func (n Name) String() string { return n.value }
