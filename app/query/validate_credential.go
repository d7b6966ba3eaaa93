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
	call brokerCall
}

func NewValidateCredentialHandler(credentials ports.CredentialRepository, trail ports.CredentialTrail, cipher ports.Cipher, broker ports.Broker, budget ports.BrokerBudget) ValidateCredentialHandler {
	return ValidateCredentialHandler{call: newBrokerCall(credentials, trail, cipher, budget, broker)}
}

// Handle fails with ports.ErrRateLimited, asking nothing of the broker, when the
// credential's owner has spent their broker budget, and with user.ErrImpersonated for an
// impersonating admin.
func (h ValidateCredentialHandler) Handle(ctx context.Context, q ValidateCredential) (Validation, error) {
	var env credential.Environment
	err := h.call.run(ctx, q.Session, q.CredentialID, credential.Validated, func(ctx context.Context, broker ports.Broker, pair keyPair) error {
		env = pair.env
		_, err := broker.Account(ctx, pair.env, pair.apiKey, pair.secretKey)
		return err
	})
	switch {
	case errors.Is(err, ports.ErrBrokerRejected) && !errors.Is(err, errRecord):
		return Validation{Valid: false, Message: "The broker rejected these credentials"}, nil
	case err != nil:
		return Validation{}, fmt.Errorf("validate credential: %w", err)
	}
	return Validation{Valid: true, Message: "Credentials are valid", Environment: &env}, nil
}
