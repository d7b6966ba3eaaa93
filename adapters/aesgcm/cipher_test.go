package aesgcm

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/ports"
)

func TestNewRefusesEmptyKeyring(t *testing.T) {
	c, err := New(Keyring{})
	require.ErrorContains(t, err, "no primary credential key")
	require.Nil(t, c)
}

func TestSealOpenRoundTrip(t *testing.T) {
	c := mustCipher(t, "1:"+key1)
	tests := []struct {
		name   string
		secret string
		field  credential.Field
		owner  string
	}{
		{"alpaca key id", "AKCANARY0000000000000001", credential.FieldAPIKey, "user-a"},
		{"alpaca secret", "canarySecretKey0123456789abcdefghijklmnop", credential.FieldSecretKey, "user-a"},
		{"one character", "x", credential.FieldAPIKey, "u"},
		{"maximum length", strings.Repeat("s", credential.MaxSecretLength), credential.FieldSecretKey, "user-a"},
		{"non-ascii printable", "clé-ключ-鍵", credential.FieldSecretKey, "user-a"},
		{"uuid owner", "AKTEST", credential.FieldAPIKey, "7c9e6679-7425-40de-944b-e07fc1f90ae7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := binding(t, credA1, tt.owner, tt.field)
			sealed, err := c.Seal(mustPlaintext(t, tt.secret), b)
			require.NoError(t, err)
			require.Equal(t, "1", sealed.KeyID)
			require.Len(t, sealed.Ciphertext, 12+len(tt.secret)+16, "nonce‖ct‖tag")

			got, err := c.Open(sealed, b)
			require.NoError(t, err)
			require.Equal(t, tt.secret, got.Reveal())
		})
	}
}

// Test 26: the same secret stored twice gets different nonces and ciphertexts, both open.
func TestRel26_SealIsRandomized(t *testing.T) {
	c := mustCipher(t, "1:"+key1)
	b := binding(t, credA1, "user-a", credential.FieldAPIKey)
	p := mustPlaintext(t, canary)

	first, err := c.Seal(p, b)
	require.NoError(t, err)
	second, err := c.Seal(p, b)
	require.NoError(t, err)

	require.Equal(t, "1", first.KeyID)
	require.Equal(t, "1", second.KeyID)
	require.NotEqual(t, first.Ciphertext[:12], second.Ciphertext[:12], "nonces must differ")
	require.NotEqual(t, first.Ciphertext[12:], second.Ciphertext[12:], "ciphertexts must differ")
	for _, s := range []credential.Sealed{first, second} {
		got, err := c.Open(s, b)
		require.NoError(t, err)
		require.Equal(t, canary, got.Reveal())
	}
}

// Test 27, swap: a value copied to another row, user or column does not open there.
func TestRel27_OpenRefusesMovedValue(t *testing.T) {
	c := mustCipher(t, "1:"+key1)
	sealedFor := binding(t, credA1, "user-a", credential.FieldAPIKey)
	sealed, err := c.Seal(mustPlaintext(t, canary), sealedFor)
	require.NoError(t, err)

	tests := []struct {
		name string
		at   ports.Binding
	}{
		{"A's other credential", binding(t, credA2, "user-a", credential.FieldAPIKey)},
		{"B's credential", binding(t, credB1, "user-b", credential.FieldAPIKey)},
		{"same credential id, other user", binding(t, credA1, "user-b", credential.FieldAPIKey)},
		{"secret_key column of the same row", binding(t, credA1, "user-a", credential.FieldSecretKey)},
		{"owner differing only in case", binding(t, credA1, "User-a", credential.FieldAPIKey)},
		{"owner with a suffix", binding(t, credA1, "user-a2", credential.FieldAPIKey)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Open(sealed, tt.at)
			require.ErrorIs(t, err, ports.ErrUndecryptable)
			require.Empty(t, got.Reveal(), "no plaintext may come back")
		})
	}
	// And it still opens where it belongs.
	got, err := c.Open(sealed, sealedFor)
	require.NoError(t, err)
	require.Equal(t, canary, got.Reveal())
}

// Test 27, tamper: one flipped bit anywhere in nonce, ciphertext or tag is refused.
func TestRel27_OpenRefusesTampering(t *testing.T) {
	c := mustCipher(t, "1:"+key1)
	b := binding(t, credA1, "user-a", credential.FieldAPIKey)
	sealed, err := c.Seal(mustPlaintext(t, canary), b)
	require.NoError(t, err)
	n := len(sealed.Ciphertext)

	tests := []struct {
		name string
		pos  int
	}{
		{"first nonce byte", 0},
		{"last nonce byte", 11},
		{"first ciphertext byte", 12},
		{"last ciphertext byte", n - 17},
		{"first tag byte", n - 16},
		{"last tag byte", n - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mask := range []byte{0x01, 0x80, 0xff} {
				tampered := bytes.Clone(sealed.Ciphertext)
				tampered[tt.pos] ^= mask
				got, err := c.Open(credential.Sealed{KeyID: "1", Ciphertext: tampered}, b)
				require.ErrorIs(t, err, ports.ErrUndecryptable)
				require.Empty(t, got.Reveal())
			}
		})
	}
	t.Run("every byte position", func(t *testing.T) {
		for pos := range n {
			tampered := bytes.Clone(sealed.Ciphertext)
			tampered[pos] ^= 0x01
			_, err := c.Open(credential.Sealed{KeyID: "1", Ciphertext: tampered}, b)
			require.ErrorIs(t, err, ports.ErrUndecryptable, "byte %d", pos)
		}
	})
	// Open must not have modified the stored bytes it was handed.
	got, err := c.Open(sealed, b)
	require.NoError(t, err)
	require.Equal(t, canary, got.Reveal())
}

func TestOpenRefusesMalformed(t *testing.T) {
	c := mustCipher(t, "1:"+key1)
	b := binding(t, credA1, "user-a", credential.FieldAPIKey)
	good, err := c.Seal(mustPlaintext(t, canary), b)
	require.NoError(t, err)
	ct := good.Ciphertext

	tests := []struct {
		name    string
		sealed  credential.Sealed
		binding ports.Binding
		wantMsg string
	}{
		{"nil ciphertext", credential.Sealed{KeyID: "1"}, b, "impossible length"},
		{"empty ciphertext", credential.Sealed{KeyID: "1", Ciphertext: []byte{}}, b, "impossible length"},
		{"nonce only", credential.Sealed{KeyID: "1", Ciphertext: ct[:12]}, b, "impossible length"},
		{"nonce and tag, no body", credential.Sealed{KeyID: "1", Ciphertext: ct[:28]}, b, "impossible length"},
		{"truncated by one", credential.Sealed{KeyID: "1", Ciphertext: ct[:len(ct)-1]}, b, "authentication failed"},
		{"tag cut off", credential.Sealed{KeyID: "1", Ciphertext: ct[:len(ct)-16]}, b, "authentication failed"},
		{"extended by one", credential.Sealed{KeyID: "1", Ciphertext: append(bytes.Clone(ct), 0)}, b, "authentication failed"},
		{"oversized", credential.Sealed{KeyID: "1", Ciphertext: make([]byte, 1<<20)}, b, "impossible length"},
		{"unknown key id", credential.Sealed{KeyID: "2", Ciphertext: ct}, b, `key "2" is not loaded`},
		{"empty key id", credential.Sealed{KeyID: "", Ciphertext: ct}, b, "malformed key id"},
		{"malformed key id", credential.Sealed{KeyID: "1\n", Ciphertext: ct}, b, "malformed key id"},
		{"huge key id", credential.Sealed{KeyID: strings.Repeat("1", 1<<16), Ciphertext: ct}, b, "malformed key id"},
		{"zero binding", good, ports.Binding{}, "incomplete binding"},
		{"binding without field", good, ports.Binding{CredentialID: b.CredentialID, Owner: b.Owner}, "incomplete binding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Open(tt.sealed, tt.binding)
			require.ErrorIs(t, err, ports.ErrUndecryptable)
			require.ErrorContains(t, err, tt.wantMsg)
			require.Empty(t, got.Reveal())
		})
	}
}

// Test 28: add key 2 as primary, old rows still read, new rows use key 2; once key 1 is
// gone, a row still sealed under it fails explicitly.
func TestRel28_Rotation(t *testing.T) {
	b := binding(t, credA1, "user-a", credential.FieldSecretKey)
	p := mustPlaintext(t, canary)

	before := mustCipher(t, "1:"+key1)
	old, err := before.Seal(p, b)
	require.NoError(t, err)
	require.Equal(t, "1", old.KeyID)

	during := mustCipher(t, "2:"+key2+",1:"+key1)
	require.Equal(t, "2", during.PrimaryKeyID())
	got, err := during.Open(old, b)
	require.NoError(t, err, "the old key still decrypts")
	require.Equal(t, canary, got.Reveal())

	rewrapped, err := during.Seal(got, b)
	require.NoError(t, err)
	require.Equal(t, "2", rewrapped.KeyID, "new values use the new primary")

	after := mustCipher(t, "2:"+key2)
	got, err = after.Open(rewrapped, b)
	require.NoError(t, err)
	require.Equal(t, canary, got.Reveal())

	_, err = after.Open(old, b)
	require.ErrorIs(t, err, ports.ErrUndecryptable)
	require.ErrorContains(t, err, `key "1" is not loaded`)

	// A row relabelled with the surviving key id is still refused: the key id selects a
	// key, it does not vouch for the bytes.
	_, err = after.Open(credential.Sealed{KeyID: "2", Ciphertext: old.Ciphertext}, b)
	require.ErrorIs(t, err, ports.ErrUndecryptable)
}

// A disabled key opens nothing, exactly like a key that is gone, and its values open again
// once it is turned back on; a disabled key never seals either.
func TestOpenRefusesValuesUnderADisabledKey(t *testing.T) {
	b := binding(t, credA1, "user-a", credential.FieldAPIKey)
	p := mustPlaintext(t, canary)
	sealed, err := mustCipher(t, "1:"+key1).Seal(p, b)
	require.NoError(t, err)

	active := mustCipher(t, "2:"+key2+",1:"+key1)
	got, err := active.Open(sealed, b)
	require.NoError(t, err, "k1 active: opens")
	require.Equal(t, canary, got.Reveal())

	disabled := mustCipher(t, "2:"+key2+",1:"+key1+":disabled")
	got, err = disabled.Open(sealed, b)
	require.ErrorIs(t, err, ports.ErrUndecryptable, "k1 disabled: fails closed")
	require.ErrorContains(t, err, `key "1" is disabled`)
	require.Empty(t, got.Reveal())
	fresh, err := disabled.Seal(p, b)
	require.NoError(t, err)
	require.Equal(t, "2", fresh.KeyID, "the primary seals")

	reenabled := mustCipher(t, "2:"+key2+",1:"+key1)
	got, err = reenabled.Open(sealed, b)
	require.NoError(t, err, "k1 enabled again: opens again")
	require.Equal(t, canary, got.Reveal())
}

// A value written by v1 must open forever. The bytes were made once with plain
// crypto/cipher.NewGCM, a fixed nonce and a hand-built AAD, so a change to the format on
// either side fails here rather than in production.
func TestOpenPinnedV1Value(t *testing.T) {
	const wantAAD = "00000002763100000010757365725f63726564656e7469616c73000000076170695f6b6579" +
		"00000006757365722d610000002430313930663562362d336334642d376538662d396130622d316332643365346635613662"
	b := binding(t, credA1, "user-a", credential.FieldAPIKey)
	require.Equal(t, wantAAD, hex.EncodeToString(associatedData(b)))

	ct, err := hex.DecodeString(pinnedV1)
	require.NoError(t, err)
	got, err := mustCipher(t, "1:"+key1).Open(credential.Sealed{KeyID: "1", Ciphertext: ct}, b)
	require.NoError(t, err)
	require.Equal(t, canary, got.Reveal())
}

// The length prefixes keep field boundaries, so bindings that would concatenate to the
// same string still give different associated data.
func TestAssociatedDataIsUnambiguous(t *testing.T) {
	pairs := []struct {
		name string
		a, b ports.Binding
	}{
		{"owner absorbs field suffix",
			binding(t, credA1, "key-x", "api_"),
			binding(t, credA1, "x", "api_key-")},
		{"field absorbs owner prefix",
			binding(t, credA1, "ab", "api_key"),
			binding(t, credA1, "b", "api_keya")},
		{"different owner only", binding(t, credA1, "a", credential.FieldAPIKey), binding(t, credA1, "b", credential.FieldAPIKey)},
		{"different credential only", binding(t, credA1, "a", credential.FieldAPIKey), binding(t, credA2, "a", credential.FieldAPIKey)},
	}
	for _, tt := range pairs {
		t.Run(tt.name, func(t *testing.T) {
			require.NotEqual(t, associatedData(tt.a), associatedData(tt.b))
		})
	}
}

func TestSealRefuses(t *testing.T) {
	c := mustCipher(t, "1:"+key1)
	b := binding(t, credA1, "user-a", credential.FieldAPIKey)
	tests := []struct {
		name    string
		p       credential.Plaintext
		b       ports.Binding
		wantErr string
	}{
		{"zero plaintext", credential.Plaintext{}, b, "empty secret"},
		{"zero binding", mustPlaintext(t, canary), ports.Binding{}, "complete binding"},
		{"no credential id", mustPlaintext(t, canary), ports.Binding{Owner: b.Owner, Field: b.Field}, "complete binding"},
		{"no owner", mustPlaintext(t, canary), ports.Binding{CredentialID: b.CredentialID, Field: b.Field}, "complete binding"},
		{"no field", mustPlaintext(t, canary), ports.Binding{CredentialID: b.CredentialID, Owner: b.Owner}, "complete binding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed, err := c.Seal(tt.p, tt.b)
			require.ErrorContains(t, err, tt.wantErr)
			require.NotContains(t, err.Error(), canary)
			require.Empty(t, sealed.Ciphertext)
		})
	}
}

// Test 12 at this layer: the canary cannot be found in what gets stored, however the bytes
// are rendered, nor in the error text of a failed open.
func TestSealedHasNoCanary(t *testing.T) {
	c := mustCipher(t, "1:"+key1)
	for _, field := range []credential.Field{credential.FieldAPIKey, credential.FieldSecretKey} {
		b := binding(t, credA1, "user-a", field)
		sealed, err := c.Seal(mustPlaintext(t, canary), b)
		require.NoError(t, err)

		renderings := map[string]string{
			"raw":       string(sealed.Ciphertext),
			"hex":       hex.EncodeToString(sealed.Ciphertext),
			"base64":    base64.StdEncoding.EncodeToString(sealed.Ciphertext),
			"base64url": base64.URLEncoding.EncodeToString(sealed.Ciphertext),
			"postgres":  `\x` + hex.EncodeToString(sealed.Ciphertext),
			"%+v":       fmt.Sprintf("%+v", sealed),
		}
		needles := []string{canary, strings.ToLower(canary), "AKCANARY", hex.EncodeToString([]byte(canary)), base64.StdEncoding.EncodeToString([]byte(canary))}
		for name, r := range renderings {
			for _, needle := range needles {
				require.NotContains(t, strings.ToUpper(r), strings.ToUpper(needle), "%s rendering of %s", name, field)
			}
		}

		_, err = c.Open(sealed, binding(t, credB1, "user-b", field))
		require.Error(t, err)
		require.NotContains(t, err.Error(), "AKCANARY")
	}
}

// One Cipher is shared by all requests; run this under -race.
func TestConcurrentUse(t *testing.T) {
	c := mustCipher(t, "2:"+key2+",1:"+key1)
	p := mustPlaintext(t, canary)
	var wg sync.WaitGroup
	for i := range 16 {
		b := binding(t, credA1, fmt.Sprintf("user-%d", i), credential.FieldAPIKey)
		wg.Go(func() {
			for range 50 {
				sealed, err := c.Seal(p, b)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := c.Open(sealed, b)
				if err != nil || got.Reveal() != canary {
					t.Error("round trip failed under concurrency")
					return
				}
			}
		})
	}
	wg.Wait()
}
