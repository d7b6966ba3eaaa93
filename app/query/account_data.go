package query

import (
	"context"
	"fmt"
	"time"

	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// AccountData fetches the broker account behind a credential.
type AccountData struct {
	Session      user.Session
	CredentialID string
}

type BrokerAccountData struct {
	Environment credential.Environment
	Account     ports.BrokerAccount
	RetrievedAt time.Time
}

type AccountDataHandler struct {
	credentials ports.CredentialRepository
	cipher      ports.Cipher
	broker      ports.Broker
	budget      ports.BrokerBudget
	clock       ports.Clock
}

func NewAccountDataHandler(credentials ports.CredentialRepository, cipher ports.Cipher, broker ports.Broker, budget ports.BrokerBudget, clock ports.Clock) AccountDataHandler {
	if credentials == nil || cipher == nil || broker == nil || budget == nil || clock == nil {
		panic("query: AccountDataHandler needs a credential repository, a cipher, a broker, a broker budget and a clock")
	}
	return AccountDataHandler{credentials: credentials, cipher: cipher, broker: broker, budget: budget, clock: clock}
}

// Handle fails with ports.ErrBrokerRejected or ports.ErrBrokerFailed when the broker
// does not answer with the account: either way there is no data to show. It fails with
// ports.ErrRateLimited, asking nothing of the broker, when the credential's owner has
// spent their broker budget.
func (h AccountDataHandler) Handle(ctx context.Context, q AccountData) (BrokerAccountData, error) {
	pair, err := unsealForBroker(ctx, h.credentials, h.cipher, h.budget, q.Session, q.CredentialID)
	if err != nil {
		return BrokerAccountData{}, fmt.Errorf("account data: %w", err)
	}
	acc, err := h.broker.Account(ctx, pair.env, pair.apiKey, pair.secretKey)
	if err != nil {
		return BrokerAccountData{}, fmt.Errorf("account data: %w", err)
	}
	return BrokerAccountData{Environment: pair.env, Account: acc, RetrievedAt: h.clock.Now().UTC()}, nil
}
