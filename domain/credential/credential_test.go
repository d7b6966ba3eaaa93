package credential_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/stretchr/testify/require"
)

var now = time.Date(2026, 11, 26, 10, 0, 0, 999, time.UTC)

func sealed(s string) credential.Sealed { return credential.Sealed{KeyID: "k1", Ciphertext: []byte(s)} }

func newCredential(t *testing.T) credential.Credential {
	t.Helper()
	owner, _ := user.ParseID("alice")
	d, err := credential.NewDraft(domain.NewID(now), owner, credential.Alpaca, credential.Paper, nil, now)
	require.NoError(t, err)
	c, err := credential.New(d, sealed("k"), sealed("s"))
	require.NoError(t, err)
	return c
}

func TestNewCredentialDefaults(t *testing.T) {
	c := newCredential(t)
	require.Equal(t, "alpaca", c.Nickname().String(), "nickname defaults to the type")
	require.True(t, c.Active())
	require.Equal(t, now.Truncate(time.Microsecond), c.CreatedAt())
	require.Equal(t, c.CreatedAt(), c.UpdatedAt())
}

func TestNewCredentialNeedsSealedValues(t *testing.T) {
	owner, _ := user.ParseID("alice")
	d, err := credential.NewDraft(domain.NewID(now), owner, credential.Alpaca, credential.Live, nil, now)
	require.NoError(t, err)
	_, err = credential.New(d, credential.Sealed{}, sealed("s"))
	require.Error(t, err)
	_, err = credential.NewDraft(domain.ID{}, owner, credential.Alpaca, credential.Live, nil, now)
	require.Error(t, err)
}

func TestApply(t *testing.T) {
	c := newCredential(t)
	require.ErrorIs(t, c.Apply(credential.Change{}, now), credential.ErrEmptyChange)

	off := false
	nick, err := credential.ParseNickname(" Live keys ")
	require.NoError(t, err)
	newKey := sealed("k2")
	later := now.Add(time.Hour)
	require.NoError(t, c.Apply(credential.Change{Active: &off, Nickname: &nick, APIKey: &newKey}, later))
	require.False(t, c.Active())
	require.Equal(t, "Live keys", c.Nickname().String())
	require.Equal(t, newKey, c.APIKey())
	require.Equal(t, sealed("s"), c.SecretKey())
	require.Equal(t, later.Truncate(time.Microsecond), c.UpdatedAt())
	require.ErrorIs(t, c.EnsureActive(), credential.ErrInactive)
}

func TestParseEnvironmentAndType(t *testing.T) {
	env, err := credential.ParseEnvironment("")
	require.NoError(t, err)
	require.Equal(t, credential.Paper, env, "paper unless live is asked for")
	env, err = credential.ParseEnvironment("live")
	require.NoError(t, err)
	require.Equal(t, credential.Live, env)
	_, err = credential.ParseEnvironment("LIVE")
	require.Error(t, err)
	_, err = credential.ParseType("alpaca")
	require.NoError(t, err)
	_, err = credential.ParseType("ibkr")
	require.Error(t, err)
}

func TestPlaintextNeverPrints(t *testing.T) {
	p, err := credential.ParsePlaintext("api_key", "  AKCANARY123  ")
	require.NoError(t, err)
	require.Equal(t, "AKCANARY123", p.Reveal())
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		require.NotContains(t, fmt.Sprintf(format, p), "AKCANARY", format)
	}
	require.NotContains(t, fmt.Sprintf("%+v", struct{ P credential.Plaintext }{p}), "AKCANARY")

	for _, bad := range []string{"", "   ", "with space", "tab\tinside", strings.Repeat("x", 257), "nul\x00"} {
		_, err := credential.ParsePlaintext("api_key", bad)
		require.Error(t, err, "%q", bad)
	}
}
