package postgres

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// sealedRow is exactly the user_credentials columns accounts_rotator may read, so no query
// built on it can ask for a nickname, an account or a flag.
type sealedRow struct {
	bun.BaseModel `bun:"table:user_credentials,alias:uc"`

	ID                  string `bun:"id,pk,type:uuid"`
	UserID              string `bun:"user_id,notnull"`
	APIKeyKeyID         string `bun:"api_key_key_id,notnull"`
	APIKeyCiphertext    []byte `bun:"api_key_ciphertext,notnull,type:bytea"`
	SecretKeyKeyID      string `bun:"secret_key_key_id,notnull"`
	SecretKeyCiphertext []byte `bun:"secret_key_ciphertext,notnull,type:bytea"`
}

func (r sealedRow) toPair() (ports.SealedPair, error) {
	id, err := domain.ParseID(r.ID)
	if err != nil {
		return ports.SealedPair{}, fmt.Errorf("postgres: stored credential id %q: %w", r.ID, err)
	}
	owner, err := user.ParseID(r.UserID)
	if err != nil {
		return ports.SealedPair{}, fmt.Errorf("postgres: stored owner of credential %s: %w", r.ID, err)
	}
	return ports.SealedPair{
		CredentialID: id,
		Owner:        owner,
		APIKey:       credential.Sealed{KeyID: r.APIKeyKeyID, Ciphertext: r.APIKeyCiphertext},
		SecretKey:    credential.Sealed{KeyID: r.SecretKeyKeyID, Ciphertext: r.SecretKeyCiphertext},
	}, nil
}

// RotationStore reaches every user's sealed values for key rotation. It never runs as
// accounts_app and never bypasses row-level security: each call is one short transaction
// through the same helper as the Transactor, switched to accounts_rotator, whose policies
// show it every row but whose column grants give it only the sealed values and their ids.
type RotationStore struct {
	db *bun.DB
}

var _ ports.RotationStore = (*RotationStore)(nil)

func NewRotationStore(db *bun.DB) *RotationStore {
	return &RotationStore{db: db}
}

// Stale returns up to limit pairs with a value not sealed under primaryKeyID, in id order
// after the given id, across all users.
func (s *RotationStore) Stale(ctx context.Context, primaryKeyID string, after domain.ID, limit int) ([]ports.SealedPair, error) {
	if limit < 1 {
		return nil, fmt.Errorf("postgres: list stale credentials: limit %d is not positive", limit)
	}
	var rows []sealedRow
	err := inRoleTx(ctx, s.db, rotatorRole, "", func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewSelect().Model(&rows).
			Where("(api_key_key_id <> ? OR secret_key_key_id <> ?)", primaryKeyID, primaryKeyID).
			Where("id > ?", after.String()).
			OrderExpr("id ASC").
			Limit(int64(limit)).
			Scan(ctx)
		return translate("list stale credentials", err)
	})
	if err != nil {
		return nil, err
	}
	out := make([]ports.SealedPair, 0, len(rows))
	for _, row := range rows {
		p, err := row.toPair()
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Reseal is a compare-and-swap: the row changes only if it still holds exactly old (both
// key ids and both ciphertexts, for the same owner). A user's update in between wins, and
// Reseal reports false.
func (s *RotationStore) Reseal(ctx context.Context, old, resealed ports.SealedPair) (bool, error) {
	if resealed.CredentialID != old.CredentialID || resealed.Owner != old.Owner {
		return false, fmt.Errorf("postgres: reseal credential %s: the resealed pair belongs to another row", old.CredentialID)
	}
	if !sealedIsSet(resealed.APIKey) || !sealedIsSet(resealed.SecretKey) {
		return false, fmt.Errorf("postgres: reseal credential %s: refusing to store an empty sealed value", old.CredentialID)
	}
	next := sealedRow{
		APIKeyKeyID:         resealed.APIKey.KeyID,
		APIKeyCiphertext:    resealed.APIKey.Ciphertext,
		SecretKeyKeyID:      resealed.SecretKey.KeyID,
		SecretKeyCiphertext: resealed.SecretKey.Ciphertext,
	}
	var swapped bool
	err := inRoleTx(ctx, s.db, rotatorRole, "", func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model(&next).
			Column("api_key_key_id", "api_key_ciphertext", "secret_key_key_id", "secret_key_ciphertext").
			Where("id = ?", old.CredentialID.String()).
			Where("user_id = ?", old.Owner.String()).
			Where("api_key_key_id = ?", old.APIKey.KeyID).
			Where("api_key_ciphertext = ?", old.APIKey.Ciphertext).
			Where("secret_key_key_id = ?", old.SecretKey.KeyID).
			Where("secret_key_ciphertext = ?", old.SecretKey.Ciphertext).
			Exec(ctx)
		if err != nil {
			return translate("reseal credential", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return translate("reseal credential", err)
		}
		swapped = n == 1
		return nil
	})
	if err != nil {
		return false, err
	}
	return swapped, nil
}

func sealedIsSet(s credential.Sealed) bool {
	return s.KeyID != "" && len(s.Ciphertext) > 0
}
