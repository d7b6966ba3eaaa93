package aesgcm

import (
	"errors"
	"fmt"

	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/ports"
)

// Cipher seals and opens credential secrets with the keys of a Keyring.
type Cipher struct {
	keys Keyring
}

var _ ports.Cipher = (*Cipher)(nil)

// overhead is what a sealed value adds to its plaintext: 12-byte nonce and 16-byte tag.
const overhead = 12 + 16

// maxCiphertext bounds what Open will look at: nothing longer can hold a valid secret.
const maxCiphertext = credential.MaxSecretLength + overhead

// New returns a Cipher sealing under the keyring's primary key. It refuses the zero
// Keyring, so a service cannot start without a key to seal with.
func New(keys Keyring) (*Cipher, error) {
	if keys.primary == "" || keys.aeads[keys.primary] == nil {
		return nil, errors.New("aesgcm: no primary credential key loaded")
	}
	return &Cipher{keys: keys}, nil
}

// PrimaryKeyID is the id that new values are sealed under.
func (c *Cipher) PrimaryKeyID() string { return c.keys.primary }

// Seal encrypts p under the primary key, bound to b. The output is
// {KeyID: primary, Ciphertext: nonce‖ct‖tag}; sealing the same value twice gives
// different bytes because every call draws a fresh nonce.
func (c *Cipher) Seal(p credential.Plaintext, b ports.Binding) (credential.Sealed, error) {
	if p.Reveal() == "" {
		return credential.Sealed{}, errors.New("aesgcm: refusing to seal an empty secret")
	}
	if !complete(b) {
		return credential.Sealed{}, errors.New("aesgcm: refusing to seal without a complete binding (credential, owner, field)")
	}
	aead := c.keys.aeads[c.keys.primary]
	ct := aead.Seal(nil, nil, []byte(p.Reveal()), associatedData(b))
	return credential.Sealed{KeyID: c.keys.primary, Ciphertext: ct}, nil
}

// Open decrypts s if, and only if, it was sealed by one of our keys for exactly binding b.
// Every failure wraps ports.ErrUndecryptable; the reason text never includes plaintext or
// ciphertext, so it is safe for the security log.
func (c *Cipher) Open(s credential.Sealed, b ports.Binding) (credential.Plaintext, error) {
	if !complete(b) {
		return credential.Plaintext{}, undecryptable("incomplete binding")
	}
	if validateKeyID(s.KeyID) != nil {
		return credential.Plaintext{}, undecryptable("malformed key id")
	}
	if c.keys.disabled[s.KeyID] {
		// Fails exactly like a key that is gone, so disabling a key first shows what
		// deleting it would break, while it can still be turned back on.
		return credential.Plaintext{}, undecryptable(fmt.Sprintf("key %q is disabled", s.KeyID))
	}
	aead, ok := c.keys.aeads[s.KeyID]
	if !ok {
		return credential.Plaintext{}, undecryptable(fmt.Sprintf("key %q is not loaded", s.KeyID))
	}
	if len(s.Ciphertext) < overhead+1 || len(s.Ciphertext) > maxCiphertext {
		return credential.Plaintext{}, undecryptable("ciphertext has an impossible length")
	}
	pt, err := aead.Open(nil, nil, s.Ciphertext, associatedData(b))
	if err != nil {
		return credential.Plaintext{}, undecryptable("authentication failed (tampered, moved, or sealed under another key)")
	}
	defer clear(pt)
	p, err := credential.ParsePlaintext(string(b.Field), string(pt))
	if err != nil || p.Reveal() != string(pt) {
		// Authentic but not something Seal would have produced: refuse rather than guess.
		return credential.Plaintext{}, undecryptable("decrypted value is not a valid secret")
	}
	return p, nil
}

func (c *Cipher) String() string { return "aesgcm.Cipher{" + c.keys.String() + "}" }

// Format prints only the key ids, whatever the verb.
func (c *Cipher) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

func undecryptable(reason string) error {
	return fmt.Errorf("aesgcm: %w: %s", ports.ErrUndecryptable, reason)
}
