package aesgcm

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/brokerly/accounts/domain/credential"
)

// KeySize is the only accepted key length: AES-256.
const KeySize = 32

// maxKeyIDLength keeps ids short because every stored row carries one.
const maxKeyIDLength = 32

// disabledState is the optional third field of an entry: the key is kept but opens nothing.
const disabledState = "disabled"

// Keyring is the set of keys loaded from CREDENTIAL_KEYS. The first key is the primary;
// every other key decrypts unless it is disabled. Raw key bytes are not kept, only the
// AEADs built from them, and none for a disabled key. The zero Keyring holds no key and
// cannot seal.
type Keyring struct {
	primary  string
	ids      []string // in the order given, primary first
	aeads    map[string]cipher.AEAD
	disabled map[string]bool
}

// ParseKeys parses "id:base64key[:disabled],...". Errors name entries by position (and by
// id once the id is known to be well formed), never by content, so a mistyped spec cannot
// put key material into a log.
func ParseKeys(spec string) (Keyring, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return Keyring{}, errors.New("aesgcm: CREDENTIAL_KEYS is empty; expected id:base64key[:disabled][,id:base64key[:disabled]...]")
	}
	entries := strings.Split(spec, ",")
	k := Keyring{ids: make([]string, 0, len(entries)), aeads: make(map[string]cipher.AEAD, len(entries)), disabled: map[string]bool{}}
	seen := make([][]byte, 0, len(entries))
	defer func() {
		for _, raw := range seen {
			clear(raw) // best effort: do not leave raw keys lying around
		}
	}()
	for i, entry := range entries {
		pos := i + 1
		fields := strings.Split(strings.TrimSpace(entry), ":")
		if len(fields) < 2 {
			return Keyring{}, fmt.Errorf("aesgcm: CREDENTIAL_KEYS entry %d: expected id:base64key", pos)
		}
		id := fields[0]
		if err := validateKeyID(id); err != nil {
			return Keyring{}, fmt.Errorf("aesgcm: CREDENTIAL_KEYS entry %d: %w", pos, err)
		}
		if slices.Contains(k.ids, id) {
			return Keyring{}, fmt.Errorf("aesgcm: CREDENTIAL_KEYS entry %d: key id %q appears twice", pos, id)
		}
		disabled, err := parseState(fields[2:])
		if err != nil {
			return Keyring{}, fmt.Errorf("aesgcm: CREDENTIAL_KEYS key %q (entry %d): %w", id, pos, err)
		}
		if disabled && pos == 1 {
			return Keyring{}, fmt.Errorf("aesgcm: CREDENTIAL_KEYS key %q (entry 1) is the primary, which seals new values, and cannot be disabled; put an active key first", id)
		}
		raw, ok := decodeKey(strings.TrimSpace(fields[1]))
		if !ok {
			return Keyring{}, fmt.Errorf("aesgcm: CREDENTIAL_KEYS key %q (entry %d): must be base64 of exactly %d bytes", id, pos, KeySize)
		}
		seen = append(seen, raw)
		if bytes.Equal(raw, make([]byte, KeySize)) {
			return Keyring{}, fmt.Errorf("aesgcm: CREDENTIAL_KEYS key %q (entry %d): all zero bytes, not a random key", id, pos)
		}
		for j, earlier := range seen[:len(seen)-1] {
			if bytes.Equal(raw, earlier) {
				// Same bytes under two ids means a rotation that rotates nothing.
				return Keyring{}, fmt.Errorf("aesgcm: CREDENTIAL_KEYS key %q (entry %d) has the same bytes as key %q", id, pos, k.ids[j])
			}
		}
		k.ids = append(k.ids, id)
		if disabled {
			k.disabled[id] = true
			continue
		}
		aead, err := newAEAD(raw)
		if err != nil {
			return Keyring{}, fmt.Errorf("aesgcm: CREDENTIAL_KEYS key %q (entry %d): cannot build cipher", id, pos)
		}
		k.aeads[id] = aead
	}
	k.primary = k.ids[0]
	return k, nil
}

// parseState reads what follows the key: nothing (active) or "disabled". Its errors do not
// echo the fields, which may be key material pasted into the wrong place.
func parseState(fields []string) (disabled bool, err error) {
	switch {
	case len(fields) == 0:
		return false, nil
	case len(fields) > 1:
		return false, errors.New("too many ':'-separated fields; expected id:base64key or id:base64key:disabled")
	case strings.TrimSpace(fields[0]) == disabledState:
		return true, nil
	default:
		return false, errors.New(`unknown third field; the only one is "disabled" (id:base64key:disabled)`)
	}
}

// Primary is the id of the key that seals new values; "" for the zero Keyring.
func (k Keyring) Primary() string { return k.primary }

// IDs lists every loaded key id, disabled ones too, primary first, e.g. for a boot log line.
func (k Keyring) IDs() []string { return append([]string(nil), k.ids...) }

// Statuses lists every loaded key with its state, in CREDENTIAL_KEYS order.
func (k Keyring) Statuses() []credential.KeyStatus {
	out := make([]credential.KeyStatus, 0, len(k.ids))
	for _, id := range k.ids {
		state := credential.KeyActive
		switch {
		case id == k.primary:
			state = credential.KeyPrimary
		case k.disabled[id]:
			state = credential.KeyDisabled
		}
		out = append(out, credential.KeyStatus{ID: id, State: state})
	}
	return out
}

func (k Keyring) String() string {
	disabled := make([]string, 0, len(k.disabled))
	for _, id := range k.ids {
		if k.disabled[id] {
			disabled = append(disabled, id)
		}
	}
	return fmt.Sprintf("aesgcm.Keyring{primary: %q, ids: %q, disabled: %q}", k.primary, k.ids, disabled)
}

// Format prints only the ids, for every verb, so what a log line shows of a Keyring does
// not depend on how the standard library lays out its AEADs.
func (k Keyring) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// GenerateKeySpec returns "id:<standard base64 of 32 random bytes>", one CREDENTIAL_KEYS
// entry ready to put in front of the existing ones.
func GenerateKeySpec(id string) (string, error) {
	if err := validateKeyID(id); err != nil {
		return "", fmt.Errorf("aesgcm: %w", err)
	}
	raw := make([]byte, KeySize)
	defer clear(raw)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("aesgcm: reading random key: %w", err)
	}
	return id + ":" + base64.StdEncoding.EncodeToString(raw), nil
}

// validateKeyID keeps ids to a short, quoting-free alphabet. Its error does not echo the
// id: a malformed id may be a key pasted into the wrong place.
func validateKeyID(id string) error {
	if id == "" || len(id) > maxKeyIDLength {
		return fmt.Errorf("key id must be 1 to %d characters", maxKeyIDLength)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return errors.New("key id may only contain A-Z, a-z, 0-9, '_' and '-'")
		}
	}
	return nil
}

// decodeKey accepts standard or URL-safe base64, padded or not, since operators copy keys
// from different tools; whichever decodes must give exactly KeySize bytes.
func decodeKey(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		raw, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(raw) == KeySize {
			return raw, true
		}
		clear(raw)
		return nil, false
	}
	return nil, false
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}
