package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// The rotation queries name exactly the user_credentials columns accounts_rotator may read
// and write, so none of them can ask for a nickname, an account or a flag.
var (
	sealedColumns = `id, user_id, api_key_key_id, api_key_ciphertext, secret_key_key_id, secret_key_ciphertext`

	staleCredentialsSQL = `SELECT ` + sealedColumns + ` FROM user_credentials
		WHERE (api_key_key_id <> $1 OR secret_key_key_id <> $1) AND id > $2
		ORDER BY id LIMIT $3`
	countStaleSQL = `SELECT count(*) FROM user_credentials WHERE api_key_key_id <> $1 OR secret_key_key_id <> $1`
	// sealedByKeySQL reads each row once and counts both of its values.
	sealedByKeySQL = `SELECT v.key_id, count(*) FROM user_credentials c,
		LATERAL (VALUES (c.api_key_key_id), (c.secret_key_key_id)) AS v(key_id)
		GROUP BY v.key_id`
	// resealSQL is a compare-and-swap: the row changes only if it still holds exactly the
	// values read (both key ids and both ciphertexts, for the same owner), and records its
	// "rotated" event in the same statement.
	resealSQL = `WITH swapped AS (
		UPDATE user_credentials
		SET api_key_key_id = $3, api_key_ciphertext = $4, secret_key_key_id = $5, secret_key_ciphertext = $6
		WHERE id = $1 AND user_id = $2
		  AND api_key_key_id = $7 AND api_key_ciphertext = $8
		  AND secret_key_key_id = $9 AND secret_key_ciphertext = $10
		RETURNING id, user_account_id, user_id
	)` + eventFrom("swapped", "$11", literal(credential.Rotated), literal(credential.OK), "$12")
	openFailedSQL = `WITH target AS (
		SELECT id, user_account_id, user_id FROM user_credentials WHERE id = $3 AND user_id = $4
	)` + eventFrom("target", "$1", literal(credential.OpenFailed), literal(credential.Failed), "$2")
)

// RotationStore reaches every user's sealed values for key rotation. It never runs as
// accounts_app and never bypasses row-level security: each call is one short transaction
// through the same helper as the repositories, switched to accounts_rotator, whose
// policies show it every row but whose column grants give it only the sealed values and
// their ids.
type RotationStore struct {
	db *DB
}

var _ ports.RotationStore = (*RotationStore)(nil)

func NewRotationStore(db *DB) *RotationStore {
	return &RotationStore{db: db}
}

// Stale returns up to limit pairs with a value not sealed under primaryKeyID, in id order
// after the given id, across all users.
func (s *RotationStore) Stale(ctx context.Context, primaryKeyID string, after domain.ID, limit int) ([]ports.SealedPair, error) {
	if limit < 1 {
		return nil, fmt.Errorf("postgres: list stale credentials: limit %d is not positive", limit)
	}
	var out []ports.SealedPair
	err := s.db.transact(ctx, asRotator, eachRun, func(ctx context.Context, tx *txn) error {
		return tx.run(ctx, "list stale credentials", &statement{
			sql:  staleCredentialsSQL,
			args: []any{primaryKeyID, uuidArg(after), limit},
			read: readSealedPairs(&out),
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CountStale counts the credentials, across all users, with a value not under primaryKeyID.
func (s *RotationStore) CountStale(ctx context.Context, primaryKeyID string) (int, error) {
	var n int
	err := s.db.transact(ctx, asRotator, eachRun, func(ctx context.Context, tx *txn) error {
		return tx.run(ctx, "count stale credentials", &statement{
			sql:  countStaleSQL,
			args: []any{primaryKeyID},
			read: func(rows pgx.Rows) error {
				for rows.Next() {
					if err := rows.Scan(&n); err != nil {
						return err
					}
				}
				return nil
			},
		})
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// SealedByKey counts the stored values under each key id, across all users.
func (s *RotationStore) SealedByKey(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	err := s.db.transact(ctx, asRotator, eachRun, func(ctx context.Context, tx *txn) error {
		return tx.run(ctx, "count sealed values by key", &statement{
			sql: sealedByKeySQL,
			read: func(rows pgx.Rows) error {
				for rows.Next() {
					var id string
					var n int
					if err := rows.Scan(&id, &n); err != nil {
						return err
					}
					out[id] = n
				}
				return nil
			},
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Reseal swaps old for resealed if the row still holds old. A user's update in between
// wins, and Reseal reports false.
func (s *RotationStore) Reseal(ctx context.Context, old, resealed ports.SealedPair) (bool, error) {
	if resealed.CredentialID != old.CredentialID || resealed.Owner != old.Owner {
		return false, fmt.Errorf("postgres: reseal credential %s: the resealed pair belongs to another row", old.CredentialID)
	}
	if !sealedIsSet(resealed.APIKey) || !sealedIsSet(resealed.SecretKey) {
		return false, fmt.Errorf("postgres: reseal credential %s: refusing to store an empty sealed value", old.CredentialID)
	}
	st := &statement{sql: resealSQL, args: []any{
		uuidArg(old.CredentialID), old.Owner.String(),
		resealed.APIKey.KeyID, resealed.APIKey.Ciphertext, resealed.SecretKey.KeyID, resealed.SecretKey.Ciphertext,
		old.APIKey.KeyID, old.APIKey.Ciphertext, old.SecretKey.KeyID, old.SecretKey.Ciphertext,
		newEventID(), ports.RequestID(ctx),
	}}
	err := s.db.transact(ctx, asRotator, eachRun, func(ctx context.Context, tx *txn) error {
		return tx.run(ctx, "reseal credential", st)
	})
	if err != nil {
		return false, err
	}
	return st.tag.RowsAffected() == 1, nil
}

// OpenFailed records that a pair did not open during rotation (it stays as it is).
func (s *RotationStore) OpenFailed(ctx context.Context, p ports.SealedPair) error {
	return s.db.transact(ctx, asRotator, eachRun, func(ctx context.Context, tx *txn) error {
		return tx.run(ctx, "record failed open", &statement{sql: openFailedSQL,
			args: []any{newEventID(), ports.RequestID(ctx), uuidArg(p.CredentialID), p.Owner.String()}})
	})
}

func readSealedPairs(out *[]ports.SealedPair) func(pgx.Rows) error {
	return func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				id                pgtype.UUID
				owner             string
				apiKey, secretKey credential.Sealed
			)
			if err := rows.Scan(&id, &owner, &apiKey.KeyID, &apiKey.Ciphertext, &secretKey.KeyID, &secretKey.Ciphertext); err != nil {
				return err
			}
			uid, err := user.ParseID(owner)
			if err != nil {
				return fmt.Errorf("postgres: stored owner of credential %s: %w", domain.ID(id.Bytes), err)
			}
			*out = append(*out, ports.SealedPair{CredentialID: domain.ID(id.Bytes), Owner: uid, APIKey: apiKey, SecretKey: secretKey})
		}
		return nil
	}
}

func sealedIsSet(s credential.Sealed) bool {
	return s.KeyID != "" && len(s.Ciphertext) > 0
}
