package credential

import "github.com/brokerly/accounts/domain"

// Nickname is a user's label for a credential: trimmed, 1 to 255 characters, no controls.
type Nickname struct{ value string }

func ParseNickname(s string) (Nickname, error) {
	v, err := domain.ParseLabel("nickname", s, 255)
	if err != nil {
		return Nickname{}, err
	}
	return Nickname{value: v}, nil
}

func (n Nickname) String() string { return n.value }
