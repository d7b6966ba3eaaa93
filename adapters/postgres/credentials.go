package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// The credential queries; like the account queries, each also filters on user_id.
const (
	credentialColumns = `id, user_account_id, user_id, credential_type, environment, nickname,
		api_key_key_id, api_key_ciphertext, secret_key_key_id, secret_key_ciphertext,
		is_active, created_at, updated_at`

	// Keyset pages over user_credentials_account_idx: $2 rows, those older than the cursor
	// ($3, $4; the first page passes the far future and the largest id).
	listCredentialsSQL = `SELECT ` + credentialColumns + ` FROM user_credentials
		WHERE user_account_id = $1 AND user_id = ` + currentUserSQL + `
		  AND (created_at, id) < ($3, $4)
		ORDER BY created_at DESC, id DESC LIMIT $2`
	getCredentialSQL = `SELECT ` + credentialColumns + ` FROM user_credentials
		WHERE id = $1 AND user_id = ` + currentUserSQL
	lockCredentialSQL = getCredentialSQL + ` FOR UPDATE`
	// The cap on credentials per account is kept race-free by the account's row lock:
	// concurrent stores under one account queue on it, and each counts what the ones before
	// it committed (READ COMMITTED takes a new snapshot per statement). The lock's SELECT
	// also says whether the account is the user's at all.
	lockAccountSQL = `SELECT 1 FROM user_accounts WHERE id = $1 AND user_id = ` + currentUserSQL + ` FOR UPDATE`
)

var (
	// Each change writes its event in the same statement (a data-modifying CTE), so the
	// event exists exactly when the change does. The event's impersonated_by is the
	// database's to fill in (migration 009).
	insertCredentialSQL = `WITH added AS (
		INSERT INTO user_credentials (` + credentialColumns + `)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
		WHERE (SELECT count(*) FROM user_credentials WHERE user_account_id = $2 AND user_id = ` + currentUserSQL + `) < $14
		RETURNING id, user_account_id, user_id
	)` + eventFrom("added", "$15", literal(credential.Stored), literal(credential.OK), "$16")
	// Only what an aggregate can change is written back.
	updateCredentialSQL = `WITH changed AS (
		UPDATE user_credentials SET nickname = $2, is_active = $3,
			api_key_key_id = $4, api_key_ciphertext = $5, secret_key_key_id = $6, secret_key_ciphertext = $7,
			updated_at = $8
		WHERE id = $1 AND user_id = ` + currentUserSQL + `
		RETURNING id, user_account_id, user_id
	)` + eventFrom("changed", "$9", literal(credential.Updated), literal(credential.OK), "$10")
	// The delete runs before the service knows whether the session is impersonated, so it
	// says itself what the delete policy also says: not for an impersonating admin.
	deleteCredentialSQL = `WITH gone AS (
		DELETE FROM user_credentials WHERE id = $1 AND user_id = ` + currentUserSQL + `
		  AND nullif(current_setting('app.impersonated_by', true), '') IS NULL
		RETURNING id, user_account_id, user_id
	)` + eventFrom("gone", "$2", literal(credential.Deleted), literal(credential.OK), "$3")
	// A refusal names the credential (or, for a store, the account) only if it is the
	// user's: for anything else the caller gets domain.ErrNotFound and nothing is written.
	refuseCredentialSQL = `WITH target AS (
		SELECT id, user_account_id, user_id FROM user_credentials WHERE id = $3 AND user_id = ` + currentUserSQL + `
	)` + eventFrom("target", "$1", "$4", literal(credential.Refused), "$2")
	refuseStoreSQL = `WITH target AS (
		SELECT NULL::uuid AS id, id AS user_account_id, user_id FROM user_accounts WHERE id = $3 AND user_id = ` + currentUserSQL + `
	)` + eventFrom("target", "$1", literal(credential.Stored), literal(credential.Refused), "$2")
)

// credentialRow is the user_credentials row; it never leaves this package.
type credentialRow struct {
	ID                  pgtype.UUID
	UserAccountID       pgtype.UUID
	UserID              string
	CredentialType      string
	Environment         string
	Nickname            string
	APIKeyKeyID         string
	APIKeyCiphertext    []byte
	SecretKeyKeyID      string
	SecretKeyCiphertext []byte
	IsActive            bool
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

func (r *credentialRow) fields() []any {
	return []any{&r.ID, &r.UserAccountID, &r.UserID, &r.CredentialType, &r.Environment, &r.Nickname,
		&r.APIKeyKeyID, &r.APIKeyCiphertext, &r.SecretKeyKeyID, &r.SecretKeyCiphertext,
		&r.IsActive, &r.CreatedAt, &r.UpdatedAt}
}

func credentialArgs(c credential.Credential) []any {
	return []any{uuidArg(c.ID()), uuidArg(c.AccountID()), c.Owner().String(), c.Type().String(), c.Environment().String(),
		c.Nickname().String(), c.APIKey().KeyID, c.APIKey().Ciphertext, c.SecretKey().KeyID, c.SecretKey().Ciphertext,
		c.Active(), c.CreatedAt(), c.UpdatedAt()}
}

func uuidArg(id domain.ID) pgtype.UUID { return pgtype.UUID{Bytes: id, Valid: true} }

// readCredentials collects every row into out.
func readCredentials(out *[]credential.Credential) func(pgx.Rows) error {
	return func(rows pgx.Rows) error {
		for rows.Next() {
			var row credentialRow
			if err := rows.Scan(row.fields()...); err != nil {
				return err
			}
			c, err := row.toDomain()
			if err != nil {
				return err
			}
			*out = append(*out, c)
		}
		return nil
	}
}

// toDomain checks what the schema cannot (id syntax, the enums as the domain knows them),
// so a corrupt row is an error rather than a half-valid aggregate.
func (r credentialRow) toDomain() (credential.Credential, error) {
	id, accountID := domain.ID(r.ID.Bytes), domain.ID(r.UserAccountID.Bytes)
	owner, err := user.ParseID(r.UserID)
	if err != nil {
		return credential.Credential{}, fmt.Errorf("postgres: stored owner of credential %s: %w", id, err)
	}
	kind, err := credential.ParseType(r.CredentialType)
	if err != nil {
		return credential.Credential{}, fmt.Errorf("postgres: stored type of credential %s: %w", id, err)
	}
	if r.Environment == "" { // ParseEnvironment defaults "" for input; stored rows must say
		return credential.Credential{}, fmt.Errorf("postgres: stored credential %s has no environment", id)
	}
	env, err := credential.ParseEnvironment(r.Environment)
	if err != nil {
		return credential.Credential{}, fmt.Errorf("postgres: stored environment of credential %s: %w", id, err)
	}
	return credential.Rehydrate(id, accountID, owner, kind, env, r.Nickname,
		credential.Sealed{KeyID: r.APIKeyKeyID, Ciphertext: r.APIKeyCiphertext},
		credential.Sealed{KeyID: r.SecretKeyKeyID, Ciphertext: r.SecretKeyCiphertext},
		r.IsActive, r.CreatedAt, r.UpdatedAt), nil
}

// CredentialRepo implements ports.CredentialRepository. Each method is one transaction of
// its own, the session resolved in its first statement.
type CredentialRepo struct{ db *DB }

var _ ports.CredentialRepository = (*CredentialRepo)(nil)

func NewCredentialRepo(db *DB) *CredentialRepo { return &CredentialRepo{db: db} }

// List serves a page of "this account's credentials, newest first" from
// user_credentials_account_idx, in one round trip; it asks for one row more than the page
// to know whether more follow. Another user's account, or none at all, lists nothing
// rather than failing: the two must look the same.
func (r *CredentialRepo) List(ctx context.Context, s user.Session, accountID domain.ID, page credential.Page) ([]credential.Credential, bool, error) {
	out := []credential.Credential{}
	before, beforeID := farFuture, lastID
	if !page.After.IsZero() {
		before, beforeID = page.After.CreatedAt(), page.After.ID()
	}
	err := r.db.transact(ctx, asUser(s), eachRun, func(ctx context.Context, tx *txn) error {
		return tx.run(ctx, "list credentials", &statement{sql: listCredentialsSQL,
			args: []any{uuidArg(accountID), page.Size + 1, before, uuidArg(beforeID)}, read: readCredentials(&out)})
	})
	if err != nil {
		return nil, false, err
	}
	if len(out) > page.Size {
		return out[:page.Size], true, nil
	}
	return out, false, nil
}

// The first page's cursor: after every credential there is.
var (
	farFuture = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	lastID    = domain.ID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

// Get is one round trip.
func (r *CredentialRepo) Get(ctx context.Context, s user.Session, id domain.ID) (credential.Credential, error) {
	var found credential.Credential
	err := r.db.transact(ctx, asUser(s), eachRun, func(ctx context.Context, tx *txn) error {
		var err error
		found, err = load(ctx, tx, id, getCredentialSQL, "get credential")
		return err
	})
	return found, err
}

// Add needs the owner to seal: one round trip resolves the session, the next locks the
// account, counts its credentials and inserts the credential and its event, in one
// implicit transaction. The account is the user's only if the lock finds it (another
// user's, or none, is domain.ErrNotFound, the answer the caller gets for any account it
// may not see); the composite foreign key (user_account_id, user_id) refuses the rest. An
// impersonated session is refused before anything is sealed.
func (r *CredentialRepo) Add(ctx context.Context, s user.Session, accountID domain.ID, perAccount int, build ports.NewCredential) (credential.Credential, error) {
	var added credential.Credential
	err := r.db.transact(ctx, asUser(s), eachRun, func(ctx context.Context, tx *txn) error {
		if err := tx.run(ctx, "resolve session"); err != nil {
			return err
		}
		if err := tx.actor.MayTouchSecrets(); err != nil {
			return refuse(ctx, tx, refuseStoreSQL, []any{uuidArg(accountID)}, err, fmt.Sprintf("account %s", accountID))
		}
		c, err := build(tx.actor.User)
		if err != nil {
			return err
		}
		if c.Owner() != tx.actor.User || c.AccountID() != accountID {
			// The same answer row-level security would give (42501), before the database has to.
			return fmt.Errorf("postgres: credential for another user or account: %w", domain.ErrNotFound)
		}
		locked := 0
		insert := &statement{sql: insertCredentialSQL, args: append(credentialArgs(c), perAccount, newEventID(), ports.RequestID(ctx))}
		err = tx.run(ctx, "add credential",
			&statement{sql: lockAccountSQL, args: []any{uuidArg(accountID)}, read: countRows(&locked)}, insert)
		switch {
		case err != nil:
			return err
		case locked == 0:
			return fmt.Errorf("account %s: %w", accountID, domain.ErrNotFound)
		case insert.tag.RowsAffected() == 0:
			return fmt.Errorf("account %s: %w", accountID, credential.ErrLimitReached)
		}
		added = c
		return nil
	})
	return added, err
}

// Update locks the row (SELECT ... FOR UPDATE) in the first round trip, lets change modify
// the aggregate, and writes back the columns an aggregate can change, with the event,
// together with the COMMIT in the second. Concurrent updates of one credential queue on
// the lock instead of overwriting each other; lock_timeout bounds the wait. When change
// fails nothing is written; an impersonated session writes only its refusal.
func (r *CredentialRepo) Update(ctx context.Context, s user.Session, id domain.ID, change func(*credential.Credential) error) (credential.Credential, error) {
	var updated credential.Credential
	err := r.db.transact(ctx, asUser(s), oneTx, func(ctx context.Context, tx *txn) error {
		c, err := load(ctx, tx, id, lockCredentialSQL, "lock credential")
		if err != nil {
			return err
		}
		if err := tx.actor.MayTouchSecrets(); err != nil {
			refusal := &statement{sql: refuseCredentialSQL, args: []any{newEventID(), ports.RequestID(ctx), uuidArg(id), credential.Updated.String()}}
			if cerr := tx.commit(ctx, refusal); cerr != nil {
				return cerr
			}
			return err
		}
		before := c
		if err := change(&c); err != nil {
			return err
		}
		if c.ID() != before.ID() || c.Owner() != before.Owner() || c.AccountID() != before.AccountID() ||
			c.Type() != before.Type() || c.Environment() != before.Environment() || !c.CreatedAt().Equal(before.CreatedAt()) {
			// Only a wholesale *c = other can do this; the aggregate offers no way to.
			return fmt.Errorf("postgres: update credential %s: the change replaced fields that never change", id)
		}
		st := &statement{sql: updateCredentialSQL, args: []any{uuidArg(id), c.Nickname().String(), c.Active(),
			c.APIKey().KeyID, c.APIKey().Ciphertext, c.SecretKey().KeyID, c.SecretKey().Ciphertext, c.UpdatedAt(),
			newEventID(), ports.RequestID(ctx)}}
		if err := tx.commit(ctx, st); err != nil {
			return err
		}
		if st.tag.RowsAffected() != 1 {
			return fmt.Errorf("postgres: update credential %s: the locked row changed no row", id)
		}
		updated = c
		return nil
	})
	return updated, err
}

// Delete is one round trip: the delete and its event. Row-level security keeps an
// impersonated session from deleting (migration 009); the context statement has told us
// it is one, and a second round trip records the refusal.
func (r *CredentialRepo) Delete(ctx context.Context, s user.Session, id domain.ID) error {
	return r.db.transact(ctx, asUser(s), eachRun, func(ctx context.Context, tx *txn) error {
		st := &statement{sql: deleteCredentialSQL, args: []any{uuidArg(id), newEventID(), ports.RequestID(ctx)}}
		if err := tx.run(ctx, "delete credential", st); err != nil {
			return err
		}
		if err := tx.actor.MayTouchSecrets(); err != nil {
			return refuse(ctx, tx, refuseCredentialSQL, []any{uuidArg(id), credential.Deleted.String()}, err, fmt.Sprintf("credential %s", id))
		}
		return oneRow(st.tag, id)
	})
}

// refuse records an impersonated session's refused change, naming the target (args, after
// the event id and request id) if it is the user's, and returns why: refusal, or
// domain.ErrNotFound for a target the user does not have.
func refuse(ctx context.Context, tx *txn, sql string, args []any, refusal error, target string) error {
	st := &statement{sql: sql, args: append([]any{newEventID(), ports.RequestID(ctx)}, args...)}
	if err := tx.run(ctx, "record refusal", st); err != nil {
		return err
	}
	if st.tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", target, domain.ErrNotFound)
	}
	return refusal
}

func newEventID() pgtype.UUID { return uuidArg(domain.NewID(time.Now())) }

// load reads one of the user's credentials with query (which may lock it).
func load(ctx context.Context, tx *txn, id domain.ID, query, op string) (credential.Credential, error) {
	var found []credential.Credential
	if err := tx.run(ctx, op, &statement{sql: query, args: []any{uuidArg(id)}, read: readCredentials(&found)}); err != nil {
		return credential.Credential{}, err
	}
	if len(found) == 0 {
		return credential.Credential{}, fmt.Errorf("credential %s: %w", id, domain.ErrNotFound)
	}
	return found[0], nil
}

// countRows counts the rows a statement returns.
func countRows(n *int) func(pgx.Rows) error {
	return func(rows pgx.Rows) error {
		for rows.Next() {
			*n++
		}
		return rows.Err()
	}
}

// oneRow turns "no row changed" into domain.ErrNotFound: hidden by RLS, another user's, or
// gone, the caller cannot tell and must not.
func oneRow(tag pgconn.CommandTag, id domain.ID) error {
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("credential %s: %w", id, domain.ErrNotFound)
	}
	return nil
}
