package command

import (
	"context"
	"fmt"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// UpdateCredential changes some of a credential's fields; nil fields stay as they are.
type UpdateCredential struct {
	Actor        user.ID
	CredentialID string
	APIKey       *string
	SecretKey    *string
	Active       *bool
	Nickname     *string
}

type UpdateCredentialHandler struct {
	tx     ports.Transactor
	cipher ports.Cipher
	clock  ports.Clock
}

func NewUpdateCredentialHandler(tx ports.Transactor, cipher ports.Cipher, clock ports.Clock) UpdateCredentialHandler {
	if tx == nil || cipher == nil || clock == nil {
		panic("command: UpdateCredentialHandler needs a transactor, a cipher and a clock")
	}
	return UpdateCredentialHandler{tx: tx, cipher: cipher, clock: clock}
}

// Handle fails with credential.ErrEmptyChange when no field is given, a
// *domain.ValidationError for bad input and domain.ErrNotFound for a credential the user
// cannot see.
func (h UpdateCredentialHandler) Handle(ctx context.Context, cmd UpdateCredential) (credential.Credential, error) {
	id, err := domain.ParseID(cmd.CredentialID)
	if err != nil {
		// A malformed id cannot name anything the user owns.
		return credential.Credential{}, fmt.Errorf("update credential: %w", domain.ErrNotFound)
	}
	change, err := h.parseChange(id, cmd)
	if err != nil {
		return credential.Credential{}, err
	}
	now := h.clock.Now()
	var updated credential.Credential
	err = h.tx.Within(ctx, cmd.Actor, func(ctx context.Context, r ports.Repositories) error {
		updated, err = r.Credentials.Update(ctx, id, func(c *credential.Credential) error {
			return c.Apply(change, now)
		})
		return err
	})
	if err != nil {
		return credential.Credential{}, fmt.Errorf("update credential: %w", err)
	}
	return updated, nil
}

func (h UpdateCredentialHandler) parseChange(id domain.ID, cmd UpdateCredential) (credential.Change, error) {
	if cmd.APIKey == nil && cmd.SecretKey == nil && cmd.Active == nil && cmd.Nickname == nil {
		return credential.Change{}, credential.ErrEmptyChange
	}
	var errs []error
	change := credential.Change{Active: cmd.Active}
	seal := func(field credential.Field, raw *string) *credential.Sealed {
		if raw == nil {
			return nil
		}
		p, err := credential.ParsePlaintext(string(field), *raw)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		sealed, err := h.cipher.Seal(p, ports.Binding{CredentialID: id, Owner: cmd.Actor, Field: field})
		if err != nil {
			errs = append(errs, fmt.Errorf("seal %s: %w", field, err))
			return nil
		}
		return &sealed
	}
	change.APIKey = seal(credential.FieldAPIKey, cmd.APIKey)
	change.SecretKey = seal(credential.FieldSecretKey, cmd.SecretKey)
	if cmd.Nickname != nil {
		nick, err := credential.ParseNickname(*cmd.Nickname)
		if err != nil {
			errs = append(errs, err)
		}
		change.Nickname = &nick
	}
	if err := domain.Join(errs...); err != nil {
		return credential.Change{}, err
	}
	return change, nil
}
