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
	call  brokerCall
	clock ports.Clock
}

func NewAccountDataHandler(credentials ports.CredentialRepository, trail ports.CredentialTrail, cipher ports.Cipher, broker ports.Broker, budget ports.BrokerBudget, clock ports.Clock) AccountDataHandler {
	if clock == nil {
		panic("query: AccountDataHandler needs a clock")
	}
	return AccountDataHandler{call: newBrokerCall(credentials, trail, cipher, budget, broker), clock: clock}
}

// Handle fails with ports.ErrBrokerRejected or ports.ErrBrokerFailed when the broker
// does not answer with the account: either way there is no data to show. It fails with
// ports.ErrRateLimited, asking nothing of the broker, when the credential's owner has
// spent their broker budget, and with user.ErrImpersonated for an impersonating admin.
func (h AccountDataHandler) Handle(ctx context.Context, q AccountData) (BrokerAccountData, error) {
	var out BrokerAccountData
	err := h.call.run(ctx, q.Session, q.CredentialID, credential.AccountDataRead, func(ctx context.Context, broker ports.Broker, pair keyPair) error {
		acc, err := broker.Account(ctx, pair.env, pair.apiKey, pair.secretKey)
		out = BrokerAccountData{Environment: pair.env, Account: acc, RetrievedAt: h.clock.Now().UTC()}
		return err
	})
	if err != nil {
		return BrokerAccountData{}, fmt.Errorf("account data: %w", err)
	}
	return out, nil
}
