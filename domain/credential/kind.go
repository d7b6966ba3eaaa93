package credential

import "github.com/brokerly/accounts/domain"

// Type is the broker a credential is for. Only Alpaca is supported today.
type Type struct{ value string }

var Alpaca = Type{"alpaca"}

func ParseType(s string) (Type, error) {
	if s == Alpaca.value {
		return Alpaca, nil
	}
	return Type{}, domain.Invalid("credential_type", `must be "alpaca"`)
}

func (t Type) String() string { return t.value }

// Environment says whether a credential trades with real money.
type Environment struct{ value string }

var (
	Paper = Environment{"paper"}
	Live  = Environment{"live"}
)

// ParseEnvironment defaults an empty value to paper: nobody should trade live by omission.
func ParseEnvironment(s string) (Environment, error) {
	switch s {
	case "", Paper.value:
		return Paper, nil
	case Live.value:
		return Live, nil
	}
	return Environment{}, domain.Invalid("environment", `must be "paper" or "live"`)
}

func (e Environment) String() string { return e.value }
