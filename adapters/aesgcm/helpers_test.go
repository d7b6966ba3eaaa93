package aesgcm

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// Fixed test keys. key1 is bytes 0..31, which the pinned vector in cipher_test.go uses.
const (
	key1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	key2 = "q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k="

	credA1 = "0190f5b6-3c4d-7e8f-9a0b-1c2d3e4f5a6b"
	credA2 = "0190f5b6-3c4d-7e8f-9a0b-1c2d3e4f5a6c"
	credB1 = "0190f5b6-3c4d-7e8f-9a0b-1c2d3e4f5a6d"

	canary = "AKCANARY0000000000000001"
)

func mustKeyring(t testing.TB, spec string) Keyring {
	t.Helper()
	k, err := ParseKeys(spec)
	require.NoError(t, err)
	return k
}

func mustCipher(t testing.TB, spec string) *Cipher {
	t.Helper()
	c, err := New(mustKeyring(t, spec))
	require.NoError(t, err)
	return c
}

func mustPlaintext(t testing.TB, s string) credential.Plaintext {
	t.Helper()
	p, err := credential.ParsePlaintext("secret", s)
	require.NoError(t, err)
	return p
}

func binding(t testing.TB, cred, owner string, field credential.Field) ports.Binding {
	t.Helper()
	id, err := domain.ParseID(cred)
	require.NoError(t, err)
	u, err := user.ParseID(owner)
	require.NoError(t, err)
	return ports.Binding{CredentialID: id, Owner: u, Field: field}
}
