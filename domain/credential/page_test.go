package credential_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
)

func TestCursorRoundTrips(t *testing.T) {
	owner, err := user.ParseID("owner")
	require.NoError(t, err)
	draft, err := credential.NewDraft(domain.NewID(time.Now()), owner, credential.Alpaca, credential.Paper, nil,
		time.Date(2026, 12, 1, 10, 11, 12, 123456789, time.UTC))
	require.NoError(t, err)
	c, err := credential.New(draft, credential.Sealed{KeyID: "k", Ciphertext: []byte{1}}, credential.Sealed{KeyID: "k", Ciphertext: []byte{2}})
	require.NoError(t, err)

	cur := credential.CursorAfter(c)
	got, err := credential.ParseCursor(cur.String())
	require.NoError(t, err)
	require.Equal(t, cur, got)
	require.Equal(t, c.ID(), got.ID())
	require.True(t, c.CreatedAt().Equal(got.CreatedAt()))
	require.NotContains(t, cur.String(), "=", "URL-safe, unpadded")

	zero, err := credential.ParseCursor("")
	require.NoError(t, err)
	require.True(t, zero.IsZero())
}

func TestParseCursorRefusesWhatItDidNotMake(t *testing.T) {
	valid := credential.CursorAfter(mustCredential(t)).String()
	for _, bad := range []string{
		"x", "not a cursor", valid + "A", valid[:len(valid)-1], strings.Repeat("!", len(valid)),
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", // version 0, zero id
		"Ag" + valid[2:],                    // another version
		valid + "==",
	} {
		_, err := credential.ParseCursor(bad)
		var verr *domain.ValidationError
		require.ErrorAs(t, err, &verr, "%q", bad)
		require.Equal(t, "cursor", verr.Field)
	}
}

func TestNewPage(t *testing.T) {
	p, err := credential.NewPage(nil, credential.Cursor{})
	require.NoError(t, err)
	require.Equal(t, credential.DefaultPageSize, p.Size)
	for _, ok := range []int{1, 50, 200} {
		p, err := credential.NewPage(&ok, credential.Cursor{})
		require.NoError(t, err)
		require.Equal(t, ok, p.Size)
	}
	for _, bad := range []int{0, -1, 201, 1 << 30} {
		_, err := credential.NewPage(&bad, credential.Cursor{})
		var verr *domain.ValidationError
		require.ErrorAs(t, err, &verr, "%d", bad)
		require.Equal(t, "limit", verr.Field)
	}
}

func mustCredential(t *testing.T) credential.Credential {
	t.Helper()
	owner, err := user.ParseID("owner")
	require.NoError(t, err)
	draft, err := credential.NewDraft(domain.NewID(time.Now()), owner, credential.Alpaca, credential.Paper, nil, time.Now())
	require.NoError(t, err)
	c, err := credential.New(draft, credential.Sealed{KeyID: "k", Ciphertext: []byte{1}}, credential.Sealed{KeyID: "k", Ciphertext: []byte{2}})
	require.NoError(t, err)
	return c
}
