package query

import (
	"context"
	"errors"
	"fmt"

	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// ValidateCredential asks the broker whether a stored key pair works.
type ValidateCredential struct {
	Session      user.Session
	CredentialID string
}

// Validation is the broker's verdict. A rejected key is a valid answer, not an error.
type Validation struct {
	Valid       bool
	Message     string
	Environment *credential.Environment // set only when the key pair works
}

type ValidateCredentialHandler struct {
	credentials ports.CredentialRepository
	cipher      ports.Cipher
	broker      ports.Broker
	budget      ports.BrokerBudget
}

func NewValidateCredentialHandler(credentials ports.CredentialRepository, cipher ports.Cipher, broker ports.Broker, budget ports.BrokerBudget) ValidateCredentialHandler {
	if credentials == nil || cipher == nil || broker == nil || budget == nil {
		panic("query: ValidateCredentialHandler needs a credential repository, a cipher, a broker and a broker budget")
	}
	return ValidateCredentialHandler{credentials: credentials, cipher: cipher, broker: broker, budget: budget}
}

// Handle fails with ports.ErrRateLimited, asking nothing of the broker, when the
// credential's owner has spent their broker budget.
func (h ValidateCredentialHandler) Handle(ctx context.Context, q ValidateCredential) (Validation, error) {
	pair, err := unsealForBroker(ctx, h.credentials, h.cipher, h.budget, q.Session, q.CredentialID)
	if err != nil {
		return Validation{}, fmt.Errorf("validate credential: %w", err)
	}
	_, err = h.broker.Account(ctx, pair.env, pair.apiKey, pair.secretKey)
	switch {
	case errors.Is(err, ports.ErrBrokerRejected):
		return Validation{Valid: false, Message: "The broker rejected these credentials"}, nil
	case err != nil:
		return Validation{}, fmt.Errorf("validate credential: %w", err)
	}
	env := pair.env
	return Validation{Valid: true, Message: "Credentials are valid", Environment: &env}, nil
}
