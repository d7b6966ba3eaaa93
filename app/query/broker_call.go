package query

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// brokerCall is the one way a use case reaches the broker with a user's key pair, so every
// broker endpoint (account data and validation today; positions and orders next) gets the
// same checks, in the same order, and the same audit trail:
//
//  1. load the credential (this resolves the session) and require it active;
//  2. refuse an impersonated session (user.ErrImpersonated), recording the refusal;
//  3. spend one call of the owner's broker budget (ports.RateLimitedError past it);
//  4. open the key pair, recording open_failed if it does not open;
//  5. make the call, and record its outcome right after, even when it failed.
//
// The budget is spent before the pair is opened, so a refused call never has plaintext
// (docs/reliability.md, design rule 9), and the repository call is over before the broker
// is called, so no database connection waits on the network.
type brokerCall struct {
	credentials ports.CredentialRepository
	trail       ports.CredentialTrail
	cipher      ports.Cipher
	budget      ports.BrokerBudget
	broker      ports.Broker
}

// keyPair is a credential's key pair in the clear. It lives only for one broker call.
type keyPair struct {
	env               credential.Environment
	apiKey, secretKey credential.Plaintext
}

func newBrokerCall(credentials ports.CredentialRepository, trail ports.CredentialTrail, cipher ports.Cipher, budget ports.BrokerBudget, broker ports.Broker) brokerCall {
	if credentials == nil || trail == nil || cipher == nil || budget == nil || broker == nil {
		panic("query: a broker call needs a credential repository, a trail, a cipher, a broker budget and a broker")
	}
	return brokerCall{credentials: credentials, trail: trail, cipher: cipher, budget: budget, broker: broker}
}

// errRecord marks a broker call whose event could not be written.
var errRecord = errors.New("the credential's audit trail could not be written")

// recordTimeout bounds writing an event once the request's own time may be spent: a
// broker call that timed out is still recorded.
const recordTimeout = 2 * time.Second

// run does steps 1 to 5 for the credential rawID, recording action. call's error decides
// the outcome: nil is ok, ports.ErrBrokerRejected is rejected, anything else failed. A
// failure to record is the call's failure: nothing the broker said leaves without its
// event.
func (b brokerCall) run(ctx context.Context, s user.Session, rawID string, action credential.Action,
	call func(ctx context.Context, broker ports.Broker, pair keyPair) error,
) error {
	id, err := domain.ParseID(rawID)
	if err != nil {
		return domain.ErrNotFound
	}
	cred, err := b.credentials.Get(ctx, s, id)
	if err != nil {
		return err
	}
	if err := cred.EnsureActive(); err != nil {
		return err
	}
	if actor, _ := s.Actor(); actor.Impersonated() {
		return errors.Join(actor.MayTouchSecrets(), b.record(ctx, s, cred, action, credential.Refused))
	}
	if retryAfter, ok := b.budget.Spend(cred.Owner()); !ok {
		return &ports.RateLimitedError{RetryAfter: retryAfter}
	}
	pair, err := b.open(cred)
	if err != nil {
		return errors.Join(err, b.record(ctx, s, cred, credential.OpenFailed, credential.Failed))
	}
	callErr := call(ctx, b.broker, pair)
	outcome := credential.OK
	switch {
	case errors.Is(callErr, ports.ErrBrokerRejected):
		outcome = credential.Rejected
	case callErr != nil:
		outcome = credential.Failed
	}
	return errors.Join(callErr, b.record(ctx, s, cred, action, outcome))
}

func (b brokerCall) open(cred credential.Credential) (keyPair, error) {
	apiKey, err := b.cipher.Open(cred.APIKey(), ports.Binding{CredentialID: cred.ID(), Owner: cred.Owner(), Field: credential.FieldAPIKey})
	if err != nil {
		return keyPair{}, fmt.Errorf("open api key of credential %s: %w", cred.ID(), err)
	}
	secretKey, err := b.cipher.Open(cred.SecretKey(), ports.Binding{CredentialID: cred.ID(), Owner: cred.Owner(), Field: credential.FieldSecretKey})
	if err != nil {
		return keyPair{}, fmt.Errorf("open secret key of credential %s: %w", cred.ID(), err)
	}
	return keyPair{env: cred.Environment(), apiKey: apiKey, secretKey: secretKey}, nil
}

func (b brokerCall) record(ctx context.Context, s user.Session, cred credential.Credential, action credential.Action, outcome credential.Outcome) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := b.trail.Record(ctx, s, cred, action, outcome); err != nil {
		return fmt.Errorf("%w: %s %s of credential %s: %w", errRecord, action, outcome, cred.ID(), err)
	}
	return nil
}
