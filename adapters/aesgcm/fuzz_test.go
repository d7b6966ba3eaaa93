package aesgcm

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// pinnedV1 is the value TestOpenPinnedV1Value checks: canary under key 1, bound to
// (credA1, "user-a", api_key).
const pinnedV1 = "000102030405060708090a0b0649955a8ba49042bd71a7bb81d9485db3e6b704c04b6f4d3bb1b9c0f839a1cde4014c51c5c20526"

// FuzzOpen feeds arbitrary key ids, ciphertexts, fields and owners. Open must never panic;
// every refusal must be ErrUndecryptable; and the only thing that may open is the one
// genuine value, at the one binding it was sealed for.
func FuzzOpen(f *testing.F) {
	genuine, err := hex.DecodeString(pinnedV1)
	require.NoError(f, err)
	for _, seed := range []struct {
		keyID string
		ct    []byte
		field string
		owner string
	}{
		{"1", genuine, "api_key", "user-a"},
		{"1", genuine, "secret_key", "user-a"},
		{"1", genuine, "api_key", "user-b"},
		{"2", genuine, "api_key", "user-a"},
		{"1", genuine[:27], "api_key", "user-a"},
		{"1", genuine[:28], "api_key", "user-a"},
		{"1", nil, "api_key", "user-a"},
		{"", genuine, "", ""},
		{"1\x00", genuine, "api_key\x00", "user-a\n"},
	} {
		f.Add(seed.keyID, seed.ct, seed.field, seed.owner)
	}

	c := mustCipher(f, "1:"+key1+",2:"+key2)
	credID, err := domain.ParseID(credA1)
	require.NoError(f, err)

	f.Fuzz(func(t *testing.T, keyID string, ct []byte, field, owner string) {
		b := ports.Binding{CredentialID: credID, Field: credential.Field(field)}
		if u, err := user.ParseID(owner); err == nil {
			b.Owner = u
		}
		input := bytes.Clone(ct)

		got, err := c.Open(credential.Sealed{KeyID: keyID, Ciphertext: ct}, b)
		require.Equal(t, input, ct, "Open must not modify its input")
		if err != nil {
			require.ErrorIs(t, err, ports.ErrUndecryptable)
			require.Empty(t, got.Reveal())
			return
		}
		require.Equal(t, "1", keyID)
		require.Equal(t, genuine, ct)
		require.Equal(t, "api_key", field)
		require.Equal(t, "user-a", owner)
		require.Equal(t, canary, got.Reveal())
	})
}
