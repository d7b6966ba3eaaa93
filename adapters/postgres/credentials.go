package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// credentialRow is the user_credentials row; it never leaves this package.
type credentialRow struct {
	bun.BaseModel `bun:"table:user_credentials,alias:uc"`

	ID                  string    `bun:"id,pk,type:uuid"`
	UserAccountID       string    `bun:"user_account_id,notnull,type:uuid"`
	UserID              string    `bun:"user_id,notnull"`
	CredentialType      string    `bun:"credential_type,notnull"`
	Environment         string    `bun:"environment,notnull"`
	Nickname            string    `bun:"nickname,notnull"`
	APIKeyKeyID         string    `bun:"api_key_key_id,notnull"`
	APIKeyCiphertext    []byte    `bun:"api_key_ciphertext,notnull,type:bytea"`
	SecretKeyKeyID      string    `bun:"secret_key_key_id,notnull"`
	SecretKeyCiphertext []byte    `bun:"secret_key_ciphertext,notnull,type:bytea"`
	IsActive            bool      `bun:"is_active,notnull"`
	CreatedAt           time.Time `bun:"created_at,notnull"`
	UpdatedAt           time.Time `bun:"updated_at,notnull"`
}

func toCredentialRow(c credential.Credential) credentialRow {
	return credentialRow{
		ID:                  c.ID().String(),
		UserAccountID:       c.AccountID().String(),
		UserID:              c.Owner().String(),
		CredentialType:      c.Type().String(),
		Environment:         c.Environment().String(),
		Nickname:            c.Nickname().String(),
		APIKeyKeyID:         c.APIKey().KeyID,
		APIKeyCiphertext:    c.APIKey().Ciphertext,
		SecretKeyKeyID:      c.SecretKey().KeyID,
		SecretKeyCiphertext: c.SecretKey().Ciphertext,
		IsActive:            c.Active(),
		CreatedAt:           c.CreatedAt(),
		UpdatedAt:           c.UpdatedAt(),
	}
}

// toDomain checks what the schema cannot (id syntax, the enums as the domain knows them),
// so a corrupt row is an error rather than a half-valid aggregate.
func (r credentialRow) toDomain() (credential.Credential, error) {
	id, err := domain.ParseID(r.ID)
	if err != nil {
		return credential.Credential{}, fmt.Errorf("postgres: stored credential id %q: %w", r.ID, err)
	}
	accountID, err := domain.ParseID(r.UserAccountID)
	if err != nil {
		return credential.Credential{}, fmt.Errorf("postgres: stored account of credential %s: %w", r.ID, err)
	}
	owner, err := user.ParseID(r.UserID)
	if err != nil {
		return credential.Credential{}, fmt.Errorf("postgres: stored owner of credential %s: %w", r.ID, err)
	}
	kind, err := credential.ParseType(r.CredentialType)
	if err != nil {
		return credential.Credential{}, fmt.Errorf("postgres: stored type of credential %s: %w", r.ID, err)
	}
	if r.Environment == "" { // ParseEnvironment defaults "" for input; stored rows must say
		return credential.Credential{}, fmt.Errorf("postgres: stored credential %s has no environment", r.ID)
	}
	env, err := credential.ParseEnvironment(r.Environment)
	if err != nil {
		return credential.Credential{}, fmt.Errorf("postgres: stored environment of credential %s: %w", r.ID, err)
	}
	return credential.Rehydrate(id, accountID, owner, kind, env, r.Nickname,
		credential.Sealed{KeyID: r.APIKeyKeyID, Ciphertext: r.APIKeyCiphertext},
		credential.Sealed{KeyID: r.SecretKeyKeyID, Ciphertext: r.SecretKeyCiphertext},
		r.IsActive, r.CreatedAt, r.UpdatedAt), nil
}

// credentialRepo is bound to one transaction and its actor. Row-level security already
// limits it to the actor's rows; every query filters on user_id as well, so that a policy
// mistake alone cannot expose anything.
type credentialRepo struct {
	db    bun.IDB
	actor user.ID
}

var _ ports.CredentialRepository = (*credentialRepo)(nil)

// List serves "this account's credentials, newest first" from user_credentials_account_idx.
// Another user's account, or none at all, lists nothing rather than failing: the two must
// look the same.
func (r *credentialRepo) List(ctx context.Context, accountID domain.ID) ([]credential.Credential, error) {
	var rows []credentialRow
	err := r.db.NewSelect().Model(&rows).
		Where("user_account_id = ?", accountID.String()).
		Where("user_id = ?", r.actor.String()).
		OrderExpr("created_at DESC, id DESC").
		Scan(ctx)
	if err != nil {
		return nil, translate("list credentials", err)
	}
	out := make([]credential.Credential, 0, len(rows))
	for _, row := range rows {
		c, err := row.toDomain()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func (r *credentialRepo) Get(ctx context.Context, id domain.ID) (credential.Credential, error) {
	return r.load(ctx, id, "get credential", false)
}

// Add stores c. The composite foreign key (user_account_id, user_id) is what refuses an
// account that is another user's or does not exist; its 23503 is translated to
// domain.ErrNotFound, the answer the caller gets for any account it may not see.
func (r *credentialRepo) Add(ctx context.Context, c credential.Credential) error {
	if r.actor.IsZero() || c.Owner() != r.actor {
		// The same answer RLS would give (42501), before the database has to.
		return fmt.Errorf("postgres: credential for another user: %w", domain.ErrNotFound)
	}
	row := toCredentialRow(c)
	// Returning("NULL") keeps bun from adding a RETURNING clause of its own.
	if _, err := r.db.NewInsert().Model(&row).Returning("NULL").Exec(ctx); err != nil {
		return translate("add credential", err)
	}
	return nil
}

// Update locks the row (SELECT ... FOR UPDATE), lets change modify the aggregate, and writes
// back the columns an aggregate can change. Concurrent updates of one credential queue on
// the lock instead of overwriting each other; lock_timeout bounds the wait. When change
// fails nothing is written.
func (r *credentialRepo) Update(ctx context.Context, id domain.ID, change func(*credential.Credential) error) (credential.Credential, error) {
	c, err := r.load(ctx, id, "lock credential", true)
	if err != nil {
		return credential.Credential{}, err
	}
	before := c
	if err := change(&c); err != nil {
		return credential.Credential{}, err
	}
	if c.ID() != before.ID() || c.Owner() != before.Owner() || c.AccountID() != before.AccountID() ||
		c.Type() != before.Type() || c.Environment() != before.Environment() || !c.CreatedAt().Equal(before.CreatedAt()) {
		// Only a wholesale *c = other can do this; the aggregate offers no way to.
		return credential.Credential{}, fmt.Errorf("postgres: update credential %s: the change replaced fields that never change", id)
	}

	row := toCredentialRow(c)
	res, err := r.db.NewUpdate().Model(&row).
		Column("nickname", "is_active",
			"api_key_key_id", "api_key_ciphertext", "secret_key_key_id", "secret_key_ciphertext",
			"updated_at").
		Where("id = ?", id.String()).
		Where("user_id = ?", r.actor.String()).
		Exec(ctx)
	if err != nil {
		return credential.Credential{}, translate("update credential", err)
	}
	if err := oneRow(res, "update credential", id); err != nil {
		return credential.Credential{}, err
	}
	return c, nil
}

func (r *credentialRepo) Delete(ctx context.Context, id domain.ID) error {
	res, err := r.db.NewDelete().Model((*credentialRow)(nil)).
		Where("id = ?", id.String()).
		Where("user_id = ?", r.actor.String()).
		Exec(ctx)
	if err != nil {
		return translate("delete credential", err)
	}
	return oneRow(res, "delete credential", id)
}

// load reads one of the actor's credentials, locking it for update when asked.
func (r *credentialRepo) load(ctx context.Context, id domain.ID, op string, forUpdate bool) (credential.Credential, error) {
	var row credentialRow
	q := r.db.NewSelect().Model(&row).
		Where("id = ?", id.String()).
		Where("user_id = ?", r.actor.String()).
		Limit(1)
	if forUpdate {
		q = q.For("UPDATE")
	}
	err := q.Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return credential.Credential{}, fmt.Errorf("credential %s: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return credential.Credential{}, translate(op, err)
	}
	return row.toDomain()
}

// oneRow turns "no row changed" into domain.ErrNotFound: hidden by RLS, another user's, or
// gone, the caller cannot tell and must not.
func oneRow(res sql.Result, op string, id domain.ID) error {
	n, err := res.RowsAffected()
	if err != nil {
		return translate(op, err)
	}
	if n == 0 {
		return fmt.Errorf("credential %s: %w", id, domain.ErrNotFound)
	}
	return nil
}
