package ports

import (
	"errors"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
)

// Binding is what a sealed value is bound to: opening it under any other binding fails,
// so a ciphertext copied to another row, user or column is useless.
type Binding struct {
	CredentialID domain.ID
	Owner        user.ID
	Field        credential.Field
}

// Cipher seals secrets for storage (authenticated encryption with the binding as
// associated data) and opens them again.
type Cipher interface {
	Seal(plaintext credential.Plaintext, b Binding) (credential.Sealed, error)
	// Open fails with ErrUndecryptable for a tampered or misplaced value, or one whose key
	// is unknown or disabled.
	Open(sealed credential.Sealed, b Binding) (credential.Plaintext, error)
	// PrimaryKeyID is the key new values are sealed with.
	PrimaryKeyID() string
}

// ErrUndecryptable means a stored secret cannot be opened: it was tampered with, moved, or
// its key is disabled or gone. It is never a reason to return someone else's plaintext.
var ErrUndecryptable = errors.New("stored secret cannot be decrypted")
