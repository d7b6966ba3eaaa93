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
	Session      user.Session
	CredentialID string
	APIKey       *string
	SecretKey    *string
	Active       *bool
	Nickname     *string
}

type UpdateCredentialHandler struct {
	credentials ports.CredentialRepository
	cipher      ports.Cipher
	clock       ports.Clock
}

func NewUpdateCredentialHandler(credentials ports.CredentialRepository, cipher ports.Cipher, clock ports.Clock) UpdateCredentialHandler {
	if credentials == nil || cipher == nil || clock == nil {
		panic("command: UpdateCredentialHandler needs a credential repository, a cipher and a clock")
	}
	return UpdateCredentialHandler{credentials: credentials, cipher: cipher, clock: clock}
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
	in, err := parseUpdate(cmd)
	if err != nil {
		return credential.Credential{}, err
	}
	now := h.clock.Now()
	updated, err := h.credentials.Update(ctx, cmd.Session, id, func(c *credential.Credential) error {
		// New secrets are sealed to the stored owner, known only once the row is loaded.
		change, err := in.seal(h.cipher, c.ID(), c.Owner())
		if err != nil {
			return err
		}
		return c.Apply(change, now)
	})
	if err != nil {
		return credential.Credential{}, fmt.Errorf("update credential: %w", err)
	}
	return updated, nil
}

// updateInput is the validated change, its secrets still in the clear.
type updateInput struct {
	apiKey, secretKey *credential.Plaintext
	active            *bool
	nickname          *credential.Nickname
}

func parseUpdate(cmd UpdateCredential) (updateInput, error) {
	if cmd.APIKey == nil && cmd.SecretKey == nil && cmd.Active == nil && cmd.Nickname == nil {
		return updateInput{}, credential.ErrEmptyChange
	}
	var errs []error
	in := updateInput{active: cmd.Active}
	plain := func(field credential.Field, raw *string) *credential.Plaintext {
		if raw == nil {
			return nil
		}
		p, err := credential.ParsePlaintext(string(field), *raw)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		return &p
	}
	in.apiKey = plain(credential.FieldAPIKey, cmd.APIKey)
	in.secretKey = plain(credential.FieldSecretKey, cmd.SecretKey)
	if cmd.Nickname != nil {
		nick, err := credential.ParseNickname(*cmd.Nickname)
		if err != nil {
			errs = append(errs, err)
		}
		in.nickname = &nick
	}
	if err := domain.Join(errs...); err != nil {
		return updateInput{}, err
	}
	return in, nil
}

// seal turns the input into the aggregate's change, each new secret bound to its row,
// owner and column.
func (in updateInput) seal(c ports.Cipher, id domain.ID, owner user.ID) (credential.Change, error) {
	change := credential.Change{Active: in.active, Nickname: in.nickname}
	for _, f := range []struct {
		field credential.Field
		plain *credential.Plaintext
		out   **credential.Sealed
	}{
		{credential.FieldAPIKey, in.apiKey, &change.APIKey},
		{credential.FieldSecretKey, in.secretKey, &change.SecretKey},
	} {
		if f.plain == nil {
			continue
		}
		sealed, err := c.Seal(*f.plain, ports.Binding{CredentialID: id, Owner: owner, Field: f.field})
		if err != nil {
			return credential.Change{}, fmt.Errorf("seal %s: %w", f.field, err)
		}
		*f.out = &sealed
	}
	return change, nil
}
