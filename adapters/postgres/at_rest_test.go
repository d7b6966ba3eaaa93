package postgres_test

// Credentials at rest (tests 12, 26, 27 of docs/reliability.md), with the real cipher: what reaches the
// table is ciphertext bound to its row, owner and column, and nothing a superuser can read
// there contains the secret in any common encoding.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/aesgcm"
	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

const (
	canaryAPIKey = "AKCANARY0123456789"
	canarySecret = "AKCANARYSECRET0123456789abcdefghijklmnop"
	canaryMarker = "AKCANARY"
)

// leakSQL counts rows in which $1 appears anywhere a superuser could look: the row as JSON
// (bytea there is hex), each ciphertext as text, and each ciphertext's raw bytes.
const leakSQL = `SELECT count(*) FROM user_credentials t
	WHERE row_to_json(t)::text ILIKE '%' || $1 || '%'
	   OR t.api_key_ciphertext::text LIKE '%' || $1 || '%'
	   OR t.secret_key_ciphertext::text LIKE '%' || $1 || '%'
	   OR position(convert_to($1, 'UTF8') IN t.api_key_ciphertext) > 0
	   OR position(convert_to($1, 'UTF8') IN t.secret_key_ciphertext) > 0`

// canaryNeedles are the forms a leaked canary could take: itself, its hex, and its base64 at
// each of the three alignments it can have inside a longer value.
func canaryNeedles() []string {
	needles := []string{canaryMarker, canaryAPIKey, canarySecret, hex.EncodeToString([]byte(canaryMarker))}
	for pad := range 3 {
		// Keep only the 4-character groups whose 3 bytes all lie inside the marker: the
		// others depend on what comes before and after it.
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", pad) + canaryMarker))
		first, end := (pad+2)/3, (pad+len(canaryMarker))/3
		needles = append(needles, enc[4*first:4*end])
	}
	return needles
}

func TestRel12_CredentialsAtRestHoldNoPlaintext(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	cipher := newTestCipher(t)
	_, alice := pgtest.SignIn(t, db)
	_, bob := pgtest.SignIn(t, db)
	// The same secrets stored twice for Alice and once for Bob.
	first := storeSealedCanary(t, db, cipher, alice, addAccount(t, db, alice))
	second := storeSealedCanary(t, db, cipher, alice, existingAccount(t, db, alice))
	storeSealedCanary(t, db, cipher, bob, addAccount(t, db, bob))

	for _, needle := range canaryNeedles() {
		require.Zero(t, superuserCount(t, db, leakSQL, needle), "no stored column contains %q", needle)
	}

	// Test 26: same secret, different nonces and ciphertexts, key id set.
	var distinctAPI, distinctSecret, total int
	var keyIDs string
	superuser(t, db, `SELECT count(DISTINCT api_key_ciphertext), count(DISTINCT secret_key_ciphertext),
		count(*), string_agg(DISTINCT api_key_key_id || '/' || secret_key_key_id, ',') FROM user_credentials`, nil,
		&distinctAPI, &distinctSecret, &total, &keyIDs)
	require.Equal(t, 3, total)
	require.Equal(t, 3, distinctAPI)
	require.Equal(t, 3, distinctSecret)
	require.Equal(t, "k1/k1", keyIDs)
	for _, c := range []credential.Credential{first, second} {
		got := readCredential(t, db, alice, c)
		require.Equal(t, canaryAPIKey, openField(t, cipher, got, credential.FieldAPIKey))
		require.Equal(t, canarySecret, openField(t, cipher, got, credential.FieldSecretKey))
	}

	// The control: the check finds a canary stored in the clear, so its zeros above mean
	// something.
	inRolledBackTx(t, db, func(ctx context.Context, q *pgx.Conn) {
		_, err := q.Exec(ctx, `UPDATE user_credentials SET api_key_ciphertext = convert_to($1, 'UTF8') WHERE id = $2`,
			canaryAPIKey, first.ID().String())
		require.NoError(t, err)
		_, err = q.Exec(ctx, `UPDATE user_credentials SET secret_key_ciphertext = convert_to($1, 'UTF8') WHERE id = $2`,
			base64.StdEncoding.EncodeToString([]byte(canarySecret)), second.ID().String())
		require.NoError(t, err)
		for _, needle := range []string{canaryMarker, hex.EncodeToString([]byte(canaryMarker))} {
			n, err := count(ctx, q, leakSQL, needle)
			require.NoError(t, err)
			require.Equal(t, 1, n, "a plaintext value is found as %q", needle)
		}
		found := 0
		for _, needle := range canaryNeedles()[4:] {
			n, err := count(ctx, q, leakSQL, needle)
			require.NoError(t, err)
			found += n
		}
		require.Positive(t, found, "a base64 plaintext value is found")
	})
}

// inRolledBackTx runs fn in a superuser transaction that is always rolled back.
func inRolledBackTx(t *testing.T, db *postgres.DB, fn func(ctx context.Context, q *pgx.Conn)) {
	t.Helper()
	require.NoError(t, db.Raw(testContext(t), func(ctx context.Context, q *pgx.Conn) error {
		if _, err := q.Exec(ctx, "BEGIN"); err != nil {
			return err
		}
		defer func() { _, _ = q.Exec(context.Background(), "ROLLBACK") }()
		fn(ctx, q)
		return nil
	}))
}

// Test 27: sealed values moved by someone with direct table access (between
// users, between a user's rows, between the two columns), or altered by one byte, never
// open; the read fails closed with ErrUndecryptable.
func TestRel27_MovedOrTamperedAtRestFailClosed(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	cipher := newTestCipher(t)
	_, alice := pgtest.SignIn(t, db)
	_, bob := pgtest.SignIn(t, db)
	a1 := storeSealedCanary(t, db, cipher, alice, addAccount(t, db, alice))
	a2 := storeSealedCanary(t, db, cipher, alice, existingAccount(t, db, alice))
	b1 := storeSealedCanary(t, db, cipher, bob, addAccount(t, db, bob))

	for name, tc := range map[string]struct {
		sql    string
		victim credential.Credential
		field  credential.Field
	}{
		"from another user": {`UPDATE user_credentials v SET api_key_key_id = s.api_key_key_id, api_key_ciphertext = s.api_key_ciphertext
			FROM user_credentials s WHERE v.id = $1 AND s.id = $2`, b1, credential.FieldAPIKey},
		"between one user's rows": {`UPDATE user_credentials v SET secret_key_key_id = s.secret_key_key_id, secret_key_ciphertext = s.secret_key_ciphertext
			FROM user_credentials s WHERE v.id = $1 AND s.id = $2`, a2, credential.FieldSecretKey},
		"between the columns": {`UPDATE user_credentials SET api_key_ciphertext = secret_key_ciphertext
			WHERE id = $1 AND $2::uuid IS NOT NULL`, a1, credential.FieldAPIKey},
		"one byte flipped": {`UPDATE user_credentials SET api_key_ciphertext =
			set_byte(api_key_ciphertext, 20, get_byte(api_key_ciphertext, 20) # 1) WHERE id = $1 AND $2::uuid IS NOT NULL`, a1, credential.FieldAPIKey},
	} {
		t.Run(name, func(t *testing.T) {
			inRolledBackTx(t, db, func(ctx context.Context, q *pgx.Conn) {
				_, err := q.Exec(ctx, tc.sql, tc.victim.ID().String(), a1.ID().String())
				require.NoError(t, err)
				var row struct {
					keyID string
					ct    []byte
				}
				column := string(tc.field)
				require.NoError(t, q.QueryRow(ctx, `SELECT `+column+`_key_id, `+column+`_ciphertext FROM user_credentials WHERE id = $1`,
					tc.victim.ID().String()).Scan(&row.keyID, &row.ct))
				_, err = cipher.Open(credential.Sealed{KeyID: row.keyID, Ciphertext: row.ct},
					ports.Binding{CredentialID: tc.victim.ID(), Owner: tc.victim.Owner(), Field: tc.field})
				require.ErrorIs(t, err, ports.ErrUndecryptable)
				require.NotContains(t, err.Error(), canaryMarker)
			})
		})
	}
}

func newTestCipher(t *testing.T) *aesgcm.Cipher {
	t.Helper()
	key := make([]byte, aesgcm.KeySize)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
	keys, err := aesgcm.ParseKeys("k1:" + base64.StdEncoding.EncodeToString(key))
	require.NoError(t, err)
	c, err := aesgcm.New(keys)
	require.NoError(t, err)
	return c
}

// storeSealedCanary seals the canary key pair for a new credential under acc, bound to the
// credential's id, owner and column as the service does, and stores it.
func storeSealedCanary(t *testing.T, db *postgres.DB, cipher ports.Cipher, s user.Session, acc account.Account) credential.Credential {
	t.Helper()
	draft, err := credential.NewDraft(acc.ID(), acc.Owner(), credential.Alpaca, credential.Paper, nil, time.Now())
	require.NoError(t, err)
	seal := func(field credential.Field, secret string) credential.Sealed {
		p, err := credential.ParsePlaintext(string(field), secret)
		require.NoError(t, err)
		s, err := cipher.Seal(p, ports.Binding{CredentialID: draft.ID, Owner: draft.Owner, Field: field})
		require.NoError(t, err)
		return s
	}
	c, err := credential.New(draft, seal(credential.FieldAPIKey, canaryAPIKey), seal(credential.FieldSecretKey, canarySecret))
	require.NoError(t, err)
	stored, err := postgres.NewCredentialRepo(db).Add(testContext(t), s, c.AccountID(), credential.DefaultPerAccount, func(user.ID) (credential.Credential, error) { return c, nil })
	require.NoError(t, err)
	return stored
}

// existingAccount returns the user's one account, for a second credential under it.
func existingAccount(t *testing.T, db *postgres.DB, s user.Session) account.Account {
	t.Helper()
	accounts, err := postgres.NewAccountRepo(db).List(testContext(t), s)
	require.NoError(t, err)
	require.Len(t, accounts, 1)
	return accounts[0]
}

func readCredential(t *testing.T, db *postgres.DB, s user.Session, c credential.Credential) credential.Credential {
	t.Helper()
	got, err := postgres.NewCredentialRepo(db).Get(testContext(t), s, c.ID())
	require.NoError(t, err)
	return got
}

func openField(t *testing.T, cipher ports.Cipher, c credential.Credential, field credential.Field) string {
	t.Helper()
	sealed := c.APIKey()
	if field == credential.FieldSecretKey {
		sealed = c.SecretKey()
	}
	p, err := cipher.Open(sealed, ports.Binding{CredentialID: c.ID(), Owner: c.Owner(), Field: field})
	require.NoError(t, err)
	return p.Reveal()
}
