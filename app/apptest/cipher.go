package apptest

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/ports"
)

// Cipher is a transparent stand-in for the real one: it "seals" by tagging the plaintext
// with its binding and key id, which is enough for use-case tests to see that values are
// bound to the right row and field, and that only known keys open them.
type Cipher struct {
	mu      sync.Mutex
	primary string
	known   map[string]bool
	opens   int
}

func NewCipher(primary string) *Cipher {
	return &Cipher{primary: primary, known: map[string]bool{primary: true}}
}

// Rotate makes id the primary key; older keys still open their values.
func (c *Cipher) Rotate(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.primary, c.known[id] = id, true
}

// Forget drops a key, as if it had been retired too early.
func (c *Cipher) Forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.known, id)
}

func (c *Cipher) PrimaryKeyID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.primary
}

// Opens is how many values Open was asked to open.
func (c *Cipher) Opens() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opens
}

func bindingTag(b ports.Binding) []byte {
	return fmt.Appendf(nil, "%s|%s|%s|", b.CredentialID, b.Owner, b.Field)
}

func (c *Cipher) Seal(p credential.Plaintext, b ports.Binding) (credential.Sealed, error) {
	return credential.Sealed{KeyID: c.PrimaryKeyID(), Ciphertext: append(bindingTag(b), p.Reveal()...)}, nil
}

func (c *Cipher) Open(s credential.Sealed, b ports.Binding) (credential.Plaintext, error) {
	c.mu.Lock()
	known := c.known[s.KeyID]
	c.opens++
	c.mu.Unlock()
	tag := bindingTag(b)
	if !known || !bytes.HasPrefix(s.Ciphertext, tag) {
		return credential.Plaintext{}, ports.ErrUndecryptable
	}
	return credential.ParsePlaintext("value", string(s.Ciphertext[len(tag):]))
}
