// Package credential is a user's broker API key pair, kept sealed: the aggregate holds
// ciphertexts only, so no code path that loads a Credential holds its secrets.
package credential

import (
	"errors"
	"time"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/user"
)

// ErrInactive means a deactivated credential was asked to talk to the broker.
var ErrInactive = errors.New("credential is inactive")

type Credential struct {
	id          domain.ID
	accountID   domain.ID
	owner       user.ID
	kind        Type
	environment Environment
	nickname    Nickname
	apiKey      Sealed
	secretKey   Sealed
	active      bool
	createdAt   time.Time
	updatedAt   time.Time
}

// Draft is everything a new credential needs except its sealed values, which can only be
// made once its id is known (the id is bound into each ciphertext).
type Draft struct {
	ID          domain.ID
	AccountID   domain.ID
	Owner       user.ID
	Type        Type
	Environment Environment
	Nickname    Nickname
	Now         time.Time
}

// NewDraft fixes the id and time of a credential about to be created. An absent nickname
// defaults to the credential type, as users of the old service expect.
func NewDraft(accountID domain.ID, owner user.ID, kind Type, env Environment, nickname *Nickname, now time.Time) (Draft, error) {
	if accountID.IsZero() || owner.IsZero() || kind == (Type{}) || env == (Environment{}) {
		return Draft{}, errors.New("credential: account, owner, type and environment are required")
	}
	nick := Nickname{value: kind.String()}
	if nickname != nil {
		nick = *nickname
	}
	now = now.UTC().Truncate(time.Microsecond)
	return Draft{ID: domain.NewID(now), AccountID: accountID, Owner: owner, Type: kind, Environment: env, Nickname: nick, Now: now}, nil
}

// New completes a draft with its sealed key and secret.
func New(d Draft, apiKey, secretKey Sealed) (Credential, error) {
	if d.ID.IsZero() {
		return Credential{}, errors.New("credential: draft has no id")
	}
	if len(apiKey.Ciphertext) == 0 || len(secretKey.Ciphertext) == 0 {
		return Credential{}, errors.New("credential: sealed key and secret are required")
	}
	return Credential{
		id: d.ID, accountID: d.AccountID, owner: d.Owner, kind: d.Type, environment: d.Environment,
		nickname: d.Nickname, apiKey: apiKey, secretKey: secretKey, active: true,
		createdAt: d.Now, updatedAt: d.Now,
	}, nil
}

// Rehydrate rebuilds a credential from storage; only repositories call it.
func Rehydrate(id, accountID domain.ID, owner user.ID, kind Type, env Environment, nickname string,
	apiKey, secretKey Sealed, active bool, createdAt, updatedAt time.Time) Credential {
	return Credential{
		id: id, accountID: accountID, owner: owner, kind: kind, environment: env,
		nickname: Nickname{value: nickname}, apiKey: apiKey, secretKey: secretKey, active: active,
		createdAt: createdAt.UTC(), updatedAt: updatedAt.UTC(),
	}
}

func (c Credential) ID() domain.ID            { return c.id }
func (c Credential) AccountID() domain.ID     { return c.accountID }
func (c Credential) Owner() user.ID           { return c.owner }
func (c Credential) Type() Type               { return c.kind }
func (c Credential) Environment() Environment { return c.environment }
func (c Credential) Nickname() Nickname       { return c.nickname }
func (c Credential) APIKey() Sealed           { return c.apiKey }
func (c Credential) SecretKey() Sealed        { return c.secretKey }
func (c Credential) Active() bool             { return c.active }
func (c Credential) CreatedAt() time.Time     { return c.createdAt }
func (c Credential) UpdatedAt() time.Time     { return c.updatedAt }

// Change is a partial update; nil fields stay as they are.
type Change struct {
	APIKey    *Sealed
	SecretKey *Sealed
	Active    *bool
	Nickname  *Nickname
}

// ErrEmptyChange means an update named no field at all.
var ErrEmptyChange = errors.New("no field to update")

// Apply changes the credential and moves updatedAt.
func (c *Credential) Apply(ch Change, now time.Time) error {
	if ch.APIKey == nil && ch.SecretKey == nil && ch.Active == nil && ch.Nickname == nil {
		return ErrEmptyChange
	}
	if ch.APIKey != nil {
		c.apiKey = *ch.APIKey
	}
	if ch.SecretKey != nil {
		c.secretKey = *ch.SecretKey
	}
	if ch.Active != nil {
		c.active = *ch.Active
	}
	if ch.Nickname != nil {
		c.nickname = *ch.Nickname
	}
	c.updatedAt = now.UTC().Truncate(time.Microsecond)
	return nil
}

// Reseal replaces the sealed values with ones under another key; the secrets themselves
// and updatedAt do not change, because nothing the user sees changed.
func (c *Credential) Reseal(apiKey, secretKey Sealed) {
	c.apiKey, c.secretKey = apiKey, secretKey
}

// EnsureActive refuses broker calls with a deactivated credential.
func (c Credential) EnsureActive() error {
	if !c.active {
		return ErrInactive
	}
	return nil
}
