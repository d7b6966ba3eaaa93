// Package user holds the identity of the person acting: the subject of a verified session
// and the owner that row-level security filters on.
package user

import "github.com/brokerly/accounts/domain"

// MaxIDLength bounds ids so a forged value cannot make us carry megabytes around; Better
// Auth's ids are 32 characters.
const MaxIDLength = 255

// ID is a Better Auth user id. It is opaque text: Better Auth may be configured to use
// its own 32-character ids or UUIDs.
type ID struct{ value string }

// ParseID accepts any non-empty printable id of bounded length.
func ParseID(s string) (ID, error) {
	if s == "" || len(s) > MaxIDLength {
		return ID{}, domain.Invalid("user_id", "must be 1 to 255 bytes")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] == 0x7f {
			return ID{}, domain.Invalid("user_id", "must not contain spaces or control characters")
		}
	}
	return ID{value: s}, nil
}

func (id ID) String() string { return id.value }

// IsZero reports whether the id was never set: no user, no rows.
func (id ID) IsZero() bool { return id.value == "" }
