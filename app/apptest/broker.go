package apptest

import (
	"context"
	"sync"

	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/ports"
)

// Broker accepts the key pairs it was given and rejects the rest.
type Broker struct {
	mu    sync.Mutex
	valid map[string]string // api key → secret
	Fail  error             // when set, every call fails with it
	Calls []BrokerCall
}

type BrokerCall struct {
	Env               credential.Environment
	APIKey, SecretKey string
}

func NewBroker(valid map[string]string) *Broker { return &Broker{valid: valid} }

// Account is the fixed account data the fake broker reports.
var Account = ports.BrokerAccount{
	Status: "ACTIVE", Currency: "USD", Cash: "100000.12", Equity: "103820.56", BuyingPower: "200000.24",
	DaytradeCount: 2,
}

func (b *Broker) Account(_ context.Context, env credential.Environment, apiKey, secretKey credential.Plaintext) (ports.BrokerAccount, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.Calls = append(b.Calls, BrokerCall{Env: env, APIKey: apiKey.Reveal(), SecretKey: secretKey.Reveal()})
	if b.Fail != nil {
		return ports.BrokerAccount{}, b.Fail
	}
	if secret, ok := b.valid[apiKey.Reveal()]; !ok || secret != secretKey.Reveal() {
		return ports.BrokerAccount{}, ports.ErrBrokerRejected
	}
	return Account, nil
}
