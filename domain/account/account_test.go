package account_test

import (
	"strings"
	"testing"
	"time"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/user"
	"github.com/stretchr/testify/require"
)

func TestParseName(t *testing.T) {
	cases := []struct {
		name, in, want string
		valid          bool
	}{
		{"plain", "My account", "My account", true},
		{"trimmed", "  spaced out \t\n", "spaced out", true},
		{"one character", "x", "x", true},
		{"255 multi-byte characters", strings.Repeat("é", 255), strings.Repeat("é", 255), true},
		{"empty", "", "", false},
		{"only white space", " \t\n ", "", false},
		{"256 characters", strings.Repeat("a", 256), "", false},
		{"inner newline", "two\nlines", "", false},
		{"NUL byte", "nul\x00byte", "", false},
		{"DEL", "del\x7f", "", false},
		{"C1 control", "c1\u0085x", "", false},
		{"invalid UTF-8", "bad\xff", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := account.ParseName(tc.in)
			if !tc.valid {
				var verr *domain.ValidationError
				require.ErrorAs(t, err, &verr)
				require.Equal(t, "account_name", verr.Field)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got.String())
		})
	}
}

func TestNewAccount(t *testing.T) {
	owner, err := user.ParseID("user-1")
	require.NoError(t, err)
	name, err := account.ParseName("Main")
	require.NoError(t, err)
	now := time.Date(2026, 1, 31, 14, 0, 0, 123456789, time.FixedZone("CET", 3600))

	a, err := account.New(owner, name, now)
	require.NoError(t, err)
	require.False(t, a.ID().IsZero())
	require.Equal(t, owner, a.Owner())
	require.Equal(t, "Main", a.Name().String())
	require.True(t, a.Active())
	require.Equal(t, time.Date(2026, 1, 31, 13, 0, 0, 123456000, time.UTC), a.CreatedAt(), "UTC, microseconds")
	require.Equal(t, a.CreatedAt(), a.UpdatedAt())
}

func TestNewAccountRefusesMissingParts(t *testing.T) {
	name, _ := account.ParseName("Main")
	owner, _ := user.ParseID("user-1")
	_, err := account.New(user.ID{}, name, time.Now())
	require.Error(t, err)
	_, err = account.New(owner, account.Name{}, time.Now())
	require.Error(t, err)
}

func TestDefaultNameIsValid(t *testing.T) {
	n, err := account.ParseName(account.DefaultName)
	require.NoError(t, err)
	require.Equal(t, "Default Alpaca Account", n.String())
}
