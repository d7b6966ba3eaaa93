package domain_test

import (
	"testing"
	"time"

	"github.com/brokerly/accounts/domain"
	"github.com/stretchr/testify/require"
)

func TestNewIDIsVersion7AndRoundTrips(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	a, b := domain.NewID(now), domain.NewID(now)
	require.NotEqual(t, a, b, "two ids in one millisecond must still differ")

	s := a.String()
	require.Len(t, s, 36)
	require.Equal(t, byte('7'), s[14], "version nibble")
	require.Contains(t, "89ab", string(s[19]), "variant bits")

	parsed, err := domain.ParseID(s)
	require.NoError(t, err)
	require.Equal(t, a, parsed)
}

func TestNewIDsSortByTime(t *testing.T) {
	earlier := domain.NewID(time.UnixMilli(1_700_000_000_000))
	later := domain.NewID(time.UnixMilli(1_700_000_000_001))
	require.Less(t, earlier.String(), later.String())
}

func TestParseID(t *testing.T) {
	ok := []string{
		"0196b2f0-7c1e-7a3b-9f00-123456789abc",
		"0196B2F0-7C1E-7A3B-9F00-123456789ABC",
		"550e8400-e29b-41d4-a716-446655440000",
	}
	for _, s := range ok {
		_, err := domain.ParseID(s)
		require.NoError(t, err, s)
	}
	bad := []string{"", "not-a-uuid", "550e8400e29b41d4a716446655440000", "550e8400-e29b-41d4-a716-44665544000g",
		"550e8400-e29b-41d4-a716-4466554400000", "550e8400+e29b-41d4-a716-446655440000"}
	for _, s := range bad {
		_, err := domain.ParseID(s)
		var verr *domain.ValidationError
		require.ErrorAs(t, err, &verr, s)
	}
}
