package query

import (
	"context"
	"fmt"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// unsealed is a credential's key pair in the clear. It lives only for one broker call.
type unsealed struct {
	env               credential.Environment
	apiKey, secretKey credential.Plaintext
}

// unsealForBroker loads an active credential, takes the one broker call it is for from the
// owner's budget, and opens its key pair. The owner is known only once the repository has
// resolved the session; the budget is spent before the pair is opened, so a refused call
// never has plaintext (docs/reliability.md, design rule 9). The repository call is over
// before the broker is called, so no database connection waits on the network.
func unsealForBroker(ctx context.Context, credentials ports.CredentialRepository, cipher ports.Cipher, budget ports.BrokerBudget, s user.Session, rawID string) (unsealed, error) {
	id, err := domain.ParseID(rawID)
	if err != nil {
		return unsealed{}, domain.ErrNotFound
	}
	cred, err := credentials.Get(ctx, s, id)
	if err != nil {
		return unsealed{}, err
	}
	if err := cred.EnsureActive(); err != nil {
		return unsealed{}, err
	}
	owner := cred.Owner()
	if retryAfter, ok := budget.Spend(owner); !ok {
		return unsealed{}, &ports.RateLimitedError{RetryAfter: retryAfter}
	}
	apiKey, err := cipher.Open(cred.APIKey(), ports.Binding{CredentialID: id, Owner: owner, Field: credential.FieldAPIKey})
	if err != nil {
		return unsealed{}, fmt.Errorf("open api key of credential %s: %w", id, err)
	}
	secretKey, err := cipher.Open(cred.SecretKey(), ports.Binding{CredentialID: id, Owner: owner, Field: credential.FieldSecretKey})
	if err != nil {
		return unsealed{}, fmt.Errorf("open secret key of credential %s: %w", id, err)
	}
	return unsealed{env: cred.Environment(), apiKey: apiKey, secretKey: secretKey}, nil
}
