package aesgcm

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/domain/credential"
)

func TestParseKeys(t *testing.T) {
	raw1, err := base64.StdEncoding.DecodeString(key1)
	require.NoError(t, err)
	tests := []struct {
		name        string
		spec        string
		wantPrimary string
		wantIDs     []string
	}{
		{"single key", "1:" + key1, "1", []string{"1"}},
		{"first entry is primary", "2:" + key2 + ",1:" + key1, "2", []string{"2", "1"}},
		{"order is kept", "1:" + key1 + ",2:" + key2, "1", []string{"1", "2"}},
		{"surrounding whitespace and newline", "  2:" + key2 + " , 1:" + key1 + "\n", "2", []string{"2", "1"}},
		{"url-safe base64", "k_1:" + base64.URLEncoding.EncodeToString(raw1), "k_1", []string{"k_1"}},
		{"unpadded base64", "k-1:" + base64.RawStdEncoding.EncodeToString(raw1), "k-1", []string{"k-1"}},
		{"unpadded url-safe base64", "K9:" + base64.RawURLEncoding.EncodeToString(raw1), "K9", []string{"K9"}},
		{"32-character id", strings.Repeat("a", 32) + ":" + key1, strings.Repeat("a", 32), []string{strings.Repeat("a", 32)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKeys(tt.spec)
			require.NoError(t, err)
			require.Equal(t, tt.wantPrimary, k.Primary())
			require.Equal(t, tt.wantIDs, k.IDs())
		})
	}
}

func TestParseKeysRefuses(t *testing.T) {
	short := base64.StdEncoding.EncodeToString(make31())
	long := base64.StdEncoding.EncodeToString(append(make31(), 7, 8))
	zero := base64.StdEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		name    string
		spec    string
		wantErr string
	}{
		{"empty", "", "empty"},
		{"only whitespace", " \n\t", "empty"},
		{"no id", key1, "entry 1: expected id:base64key"},
		{"empty id", ":" + key1, "entry 1: key id must be 1 to 32 characters"},
		{"id too long", strings.Repeat("a", 33) + ":" + key1, "entry 1: key id must be 1 to 32 characters"},
		{"id with a dot", "v1.2:" + key1, "entry 1: key id may only contain"},
		{"id with a space", "my key:" + key1, "entry 1: key id may only contain"},
		{"id with non-ascii", "clé:" + key1, "entry 1: key id may only contain"},
		{"key and id swapped", key1 + ":1", "entry 1: key id must be 1 to 32 characters"},
		{"empty key", "1:", `key "1" (entry 1): must be base64 of exactly 32 bytes`},
		{"31-byte key", "1:" + short, `key "1" (entry 1): must be base64 of exactly 32 bytes`},
		{"33-byte key", "1:" + long, `key "1" (entry 1): must be base64 of exactly 32 bytes`},
		{"16-byte (AES-128) key", "1:" + base64.StdEncoding.EncodeToString(make([]byte, 16)), "exactly 32 bytes"},
		{"not base64", "1:" + strings.Repeat("!", 44), `key "1" (entry 1): must be base64`},
		{"hex instead of base64", "1:" + strings.Repeat("ab", 32), `key "1" (entry 1): must be base64`},
		{"all-zero key", "1:" + zero, `key "1" (entry 1): all zero bytes`},
		{"duplicate id", "1:" + key1 + ",1:" + key2, `entry 2: key id "1" appears twice`},
		{"same key under two ids", "2:" + key1 + ",1:" + key1, `key "1" (entry 2) has the same bytes as key "2"`},
		{"trailing comma", "1:" + key1 + ",", "entry 2: expected id:base64key"},
		{"empty middle entry", "2:" + key2 + ",,1:" + key1, "entry 2: expected id:base64key"},
		{"second entry bad", "2:" + key2 + ",1:" + short, `key "1" (entry 2): must be base64 of exactly 32 bytes`},
		{"primary disabled", "2:" + key2 + ":disabled,1:" + key1, `key "2" (entry 1) is the primary, which seals new values, and cannot be disabled`},
		{"only key disabled", "1:" + key1 + ":disabled", `key "1" (entry 1) is the primary`},
		{"unknown state", "2:" + key2 + ",1:" + key1 + ":retired", `key "1" (entry 2): unknown third field; the only one is "disabled"`},
		{"state in another case", "2:" + key2 + ",1:" + key1 + ":Disabled", `key "1" (entry 2): unknown third field`},
		{"empty state", "2:" + key2 + ",1:" + key1 + ":", `key "1" (entry 2): unknown third field`},
		{"a key as the state", "2:" + key2 + ",1:" + key1 + ":" + key2, `key "1" (entry 2): unknown third field`},
		{"four fields", "2:" + key2 + ",1:" + key1 + ":disabled:" + key2, `key "1" (entry 2): too many ':'-separated fields`},
		{"disabled key still checked", "2:" + key2 + ",1:" + short + ":disabled", `key "1" (entry 2): must be base64 of exactly 32 bytes`},
		{"disabled key with the primary's bytes", "2:" + key2 + ",1:" + key2 + ":disabled", `key "1" (entry 2) has the same bytes as key "2"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKeys(tt.spec)
			require.ErrorContains(t, err, tt.wantErr)
			require.Empty(t, k.IDs(), "a refused spec must yield no keys")
			for _, secret := range []string{key1, key2, short, long, zero, strings.Repeat("ab", 32)} {
				require.NotContains(t, err.Error(), secret, "the error must not reveal key material")
			}
		})
	}
}

func make31() []byte {
	b := make([]byte, 31)
	for i := range b {
		b[i] = byte(i + 1)
	}
	return b
}

// Printing a Keyring or Cipher in any verb shows ids only, so a config dump cannot leak keys.
func TestKeyringPrintsOnlyIDs(t *testing.T) {
	k := mustKeyring(t, "2:"+key2+",1:"+key1)
	c, err := New(k)
	require.NoError(t, err)
	want := `aesgcm.Keyring{primary: "2", ids: ["2" "1"], disabled: []}`
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d", "%q"} {
		require.Equal(t, want, fmt.Sprintf(verb, k), verb)
		require.Equal(t, "aesgcm.Cipher{"+want+"}", fmt.Sprintf(verb, c), verb)
	}
	require.Equal(t, `aesgcm.Keyring{primary: "", ids: [], disabled: []}`, fmt.Sprint(Keyring{}))

	withDisabled := mustKeyring(t, "2:"+key2+",1:"+key1+":disabled")
	want = `aesgcm.Keyring{primary: "2", ids: ["2" "1"], disabled: ["1"]}`
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		require.Equal(t, want, fmt.Sprintf(verb, withDisabled), verb)
	}
}

// The optional third field marks a key disabled; the primary is always first, and the
// states come out in CREDENTIAL_KEYS order.
func TestParseKeysStates(t *testing.T) {
	const key3 = "EBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8="
	k := mustKeyring(t, "3:"+key3+", 2:"+key2+" : disabled ,1:"+key1)
	require.Equal(t, "3", k.Primary())
	require.Equal(t, []string{"3", "2", "1"}, k.IDs(), "a disabled key is still loaded")
	require.Equal(t, []credential.KeyStatus{
		{ID: "3", State: credential.KeyPrimary},
		{ID: "2", State: credential.KeyDisabled},
		{ID: "1", State: credential.KeyActive},
	}, k.Statuses())
}

func TestGenerateKeySpec(t *testing.T) {
	spec1, err := GenerateKeySpec("2026-01")
	require.NoError(t, err)
	spec2, err := GenerateKeySpec("2026-02")
	require.NoError(t, err)

	id, encoded, ok := strings.Cut(spec1, ":")
	require.True(t, ok)
	require.Equal(t, "2026-01", id)
	raw, err := base64.StdEncoding.DecodeString(encoded)
	require.NoError(t, err)
	require.Len(t, raw, KeySize)

	// What it generates is what ParseKeys accepts, alone or as a rotation.
	k, err := ParseKeys(spec2 + "," + spec1)
	require.NoError(t, err)
	require.Equal(t, []string{"2026-02", "2026-01"}, k.IDs())

	// Fresh randomness each call.
	again, err := GenerateKeySpec("2026-01")
	require.NoError(t, err)
	require.NotEqual(t, spec1, again)

	for _, bad := range []string{"", "a b", "a:b", "a,b", strings.Repeat("x", 33)} {
		_, err := GenerateKeySpec(bad)
		require.Error(t, err, "id %q", bad)
	}
}
