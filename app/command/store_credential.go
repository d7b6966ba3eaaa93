package command

import (
	"context"
	"fmt"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// StoreCredential seals a broker key pair and stores it under one of the user's accounts.
type StoreCredential struct {
	Session        user.Session
	AccountID      string
	CredentialType string
	Environment    string
	APIKey         string
	SecretKey      string
	Nickname       *string // nil: defaults to the credential type
}

type StoreCredentialHandler struct {
	credentials ports.CredentialRepository
	cipher      ports.Cipher
	clock       ports.Clock
	perAccount  int
}

// NewStoreCredentialHandler stores at most perAccount credentials under one account: one
// user storing thousands would make every list of theirs, and the service, pay for it.
func NewStoreCredentialHandler(credentials ports.CredentialRepository, cipher ports.Cipher, clock ports.Clock, perAccount int) StoreCredentialHandler {
	if credentials == nil || cipher == nil || clock == nil || perAccount < 1 {
		panic("command: StoreCredentialHandler needs a credential repository, a cipher, a clock and a positive limit")
	}
	return StoreCredentialHandler{credentials: credentials, cipher: cipher, clock: clock, perAccount: perAccount}
}

// Handle fails with a *domain.ValidationError for bad input, domain.ErrNotFound when the
// account is not the user's, and credential.ErrLimitReached when it holds perAccount
// credentials already. It does not look the account up first: the repository's schema
// refuses a credential under an account that is not its owner's.
func (h StoreCredentialHandler) Handle(ctx context.Context, cmd StoreCredential) (credential.Credential, error) {
	in, err := parseStoreCredential(cmd)
	if err != nil {
		return credential.Credential{}, err
	}
	if in.accountID.IsZero() {
		// Well formed, but no account ever has the nil UUID: not found, like any id that is
		// not the caller's (found by FuzzDecodeStoreCredential; it was a 500).
		return credential.Credential{}, fmt.Errorf("store credential: account %s: %w", in.accountID, domain.ErrNotFound)
	}
	now := h.clock.Now()
	cred, err := h.credentials.Add(ctx, cmd.Session, in.accountID, h.perAccount, func(owner user.ID) (credential.Credential, error) {
		draft, err := credential.NewDraft(in.accountID, owner, in.kind, in.env, in.nickname, now)
		if err != nil {
			return credential.Credential{}, err
		}
		apiKey, secretKey, err := sealPair(h.cipher, draft.ID, owner, in.apiKey, in.secretKey)
		if err != nil {
			return credential.Credential{}, err
		}
		return credential.New(draft, apiKey, secretKey)
	})
	if err != nil {
		return credential.Credential{}, fmt.Errorf("store credential: %w", err)
	}
	return cred, nil
}

type storeInput struct {
	accountID         domain.ID
	kind              credential.Type
	env               credential.Environment
	apiKey, secretKey credential.Plaintext
	nickname          *credential.Nickname
}

// parseStoreCredential validates every field and reports the first problem per field.
func parseStoreCredential(cmd StoreCredential) (in storeInput, err error) {
	var errs []error
	if in.accountID, err = domain.ParseID(cmd.AccountID); err != nil {
		errs = append(errs, domain.Invalid("account_id", "must be a UUID"))
	}
	if in.kind, err = credential.ParseType(cmd.CredentialType); err != nil {
		errs = append(errs, err)
	}
	if in.env, err = credential.ParseEnvironment(cmd.Environment); err != nil {
		errs = append(errs, err)
	}
	if in.apiKey, err = credential.ParsePlaintext(string(credential.FieldAPIKey), cmd.APIKey); err != nil {
		errs = append(errs, err)
	}
	if in.secretKey, err = credential.ParsePlaintext(string(credential.FieldSecretKey), cmd.SecretKey); err != nil {
		errs = append(errs, err)
	}
	if cmd.Nickname != nil {
		nick, err := credential.ParseNickname(*cmd.Nickname)
		if err != nil {
			errs = append(errs, err)
		}
		in.nickname = &nick
	}
	if len(errs) > 0 {
		return storeInput{}, domain.Join(errs...)
	}
	return in, nil
}

// sealPair seals a key and secret, each bound to its credential, owner and column.
func sealPair(c ports.Cipher, id domain.ID, owner user.ID, apiKey, secretKey credential.Plaintext) (credential.Sealed, credential.Sealed, error) {
	sealedKey, err := c.Seal(apiKey, ports.Binding{CredentialID: id, Owner: owner, Field: credential.FieldAPIKey})
	if err != nil {
		return credential.Sealed{}, credential.Sealed{}, fmt.Errorf("seal api key: %w", err)
	}
	sealedSecret, err := c.Seal(secretKey, ports.Binding{CredentialID: id, Owner: owner, Field: credential.FieldSecretKey})
	if err != nil {
		return credential.Sealed{}, credential.Sealed{}, fmt.Errorf("seal secret key: %w", err)
	}
	return sealedKey, sealedSecret, nil
}
