package postgres_test

// The credential trail's guarantees that live in the database (migration 009): append-only
// for the service's roles, each user's own, the impersonating admin stamped by the database
// and impossible to leave out, and impersonated writes refused by row-level security even
// if the service's own refusal were bypassed.

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/adapters/postgres/pgtest"
	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

func TestCredentialEventsAreAppendOnly(t *testing.T) {
	t.Parallel()
	f := newTenants(t)
	var events int
	superuser(t, f.db, `SELECT count(*) FROM credential_events WHERE credential_id = $1`, []any{f.alicesCred.ID().String()}, &events)
	require.Equal(t, 1, events, "storing wrote its event")

	for name, in := range map[string]func(fn func(context.Context, *pgx.Conn) error) error{
		"the owner through the chokepoint": func(fn func(context.Context, *pgx.Conn) error) error {
			return viaChokepoint(t, f.db, f.aliceS, fn)
		},
		"the rotator": func(fn func(context.Context, *pgx.Conn) error) error {
			return asRole(t, f.db, postgres.RotatorRole, nil, fn)
		},
	} {
		t.Run(name, func(t *testing.T) {
			for _, stmt := range []string{
				`UPDATE credential_events SET outcome = 'ok'`,
				`UPDATE credential_events SET impersonated_by = NULL`,
				`DELETE FROM credential_events`,
				`TRUNCATE credential_events`,
			} {
				err := in(func(ctx context.Context, q *pgx.Conn) error {
					_, err := q.Exec(ctx, stmt)
					return err
				})
				requireSQLState(t, err, insufficientPrivilege)
			}
		})
	}
	err := asRole(t, f.db, postgres.RotatorRole, nil, func(ctx context.Context, q *pgx.Conn) error {
		_, err := q.Exec(ctx, `SELECT 1 FROM credential_events`)
		return err
	})
	requireSQLState(t, err, insufficientPrivilege) // rotation writes events, it never reads them
}

func TestCredentialEventsAreEachUsersOwn(t *testing.T) {
	t.Parallel()
	f := newTenants(t)
	insert := `INSERT INTO credential_events (id, credential_id, account_id, user_id, action, outcome)
		VALUES (gen_random_uuid(), $1, $2, $3, 'validated', 'ok')`

	err := viaChokepoint(t, f.db, f.bobS, func(ctx context.Context, q *pgx.Conn) error {
		n, err := count(ctx, q, `SELECT count(*) FROM credential_events`)
		require.NoError(t, err)
		require.Equal(t, 1, n, "Bob sees his own event only")
		n, err = count(ctx, q, `SELECT count(*) FROM credential_events WHERE user_id = $1`, f.alice.String())
		require.NoError(t, err)
		require.Zero(t, n)
		_, err = q.Exec(ctx, insert, f.alicesCred.ID().String(), f.alicesAcc.ID().String(), f.alice.String())
		return err
	})
	requireSQLState(t, err, insufficientPrivilege)

	// Nobody can stamp an admin of their choosing, or hide one.
	err = viaChokepoint(t, f.db, f.bobS, func(ctx context.Context, q *pgx.Conn) error {
		_, err := q.Exec(ctx, `INSERT INTO credential_events (id, credential_id, account_id, user_id, action, outcome, impersonated_by)
			VALUES (gen_random_uuid(), $1, $2, $3, 'validated', 'ok', 'someone')`, f.bobsCred.ID().String(), f.bobsAcc.ID().String(), f.bob.String())
		return err
	})
	requireSQLState(t, err, insufficientPrivilege)
	_, imp := pgtest.Impersonate(t, f.db, f.bob)
	err = viaChokepoint(t, f.db, imp, func(ctx context.Context, q *pgx.Conn) error {
		_, err := q.Exec(ctx, `INSERT INTO credential_events (id, credential_id, account_id, user_id, action, outcome, impersonated_by)
			VALUES (gen_random_uuid(), $1, $2, $3, 'validated', 'ok', NULL)`, f.bobsCred.ID().String(), f.bobsAcc.ID().String(), f.bob.String())
		return err
	})
	requireSQLState(t, err, insufficientPrivilege)
}

// Row-level security refuses an impersonated session's writes by itself: the service
// refuses first (with a clear answer), but a bug there would still change nothing.
func TestImpersonatedWritesAreRefusedByTheDatabaseToo(t *testing.T) {
	t.Parallel()
	f := newTenants(t)
	before := rowDigest(t, f.db, "user_credentials", f.alicesCred.ID())
	_, imp := pgtest.Impersonate(t, f.db, f.alice)

	err := viaChokepoint(t, f.db, imp, func(ctx context.Context, q *pgx.Conn) error {
		n, err := count(ctx, q, `SELECT count(*) FROM user_credentials`)
		require.NoError(t, err)
		require.Equal(t, 1, n, "the admin reads Alice's credential")
		n, err = count(ctx, q, `SELECT count(*) FROM (SELECT 1 FROM user_credentials WHERE id = $1 FOR UPDATE) locked`, f.alicesCred.ID().String())
		require.NoError(t, err)
		require.Equal(t, 1, n, "and may lock it, so a refusal can name it")
		changed, err := affected(ctx, q, `DELETE FROM user_credentials WHERE id = $1`, f.alicesCred.ID().String())
		require.NoError(t, err)
		require.Zero(t, changed, "a delete finds nothing to delete")
		return nil
	})
	require.NoError(t, err)
	for _, stmt := range []string{
		`UPDATE user_credentials SET nickname = 'pwned' WHERE id = $1`,
		`UPDATE user_credentials SET is_active = false WHERE id = $1`,
	} {
		err := viaChokepoint(t, f.db, imp, func(ctx context.Context, q *pgx.Conn) error {
			_, err := q.Exec(ctx, stmt, f.alicesCred.ID().String())
			return err
		})
		requireSQLState(t, err, insufficientPrivilege)
	}
	sql, args := rlsTables[1].insert(f, f.alice)
	err = viaChokepoint(t, f.db, imp, func(ctx context.Context, q *pgx.Conn) error {
		_, err := q.Exec(ctx, sql, args...)
		return err
	})
	requireSQLState(t, err, insufficientPrivilege)
	require.Equal(t, before, rowDigest(t, f.db, "user_credentials", f.alicesCred.ID()))
}

// A refused store has no credential to name: its event names the account, and the admin.
func TestARefusedStoreIsRecordedAgainstTheAccount(t *testing.T) {
	t.Parallel()
	f := newTenants(t)
	admin, imp := pgtest.Impersonate(t, f.db, f.alice)
	ctx := ports.WithRequestID(testContext(t), "req-refused")

	_, err := postgres.NewCredentialRepo(f.db).Add(ctx, imp, f.alicesAcc.ID(), credential.DefaultPerAccount,
		func(user.ID) (credential.Credential, error) {
			t.Fatal("nothing is built")
			return credential.Credential{}, nil
		})
	require.ErrorIs(t, err, user.ErrImpersonated)

	var credentialID *string
	var account, owner, action, outcome, request, by string
	superuser(t, f.db, `SELECT credential_id::text, account_id::text, user_id, action, outcome, request_id, impersonated_by
		FROM credential_events WHERE outcome = 'refused'`, nil, &credentialID, &account, &owner, &action, &outcome, &request, &by)
	require.Nil(t, credentialID)
	require.Equal(t, []string{f.alicesAcc.ID().String(), f.alice.String(), "stored", "refused", "req-refused", admin.String()},
		[]string{account, owner, action, outcome, request, by})
}

// The trail outlives the credential, not the user: erasing a user erases their trail.
func TestEventsOutliveTheCredentialButNotTheUser(t *testing.T) {
	t.Parallel()
	f := newTenants(t)
	repo := postgres.NewCredentialRepo(f.db)
	require.NoError(t, repo.Delete(testContext(t), f.aliceS, f.alicesCred.ID()))
	events, _, err := postgres.NewCredentialTrail(f.db).Events(testContext(t), f.aliceS, f.alicesCred.ID(), credential.EventPage{Size: 10})
	require.NoError(t, err)
	require.Len(t, events, 2)

	pgtest.Exec(t, f.db, `DELETE FROM "user" WHERE id = ?`, f.alice.String())
	var left int
	superuser(t, f.db, `SELECT count(*) FROM credential_events WHERE user_id = $1`, []any{f.alice.String()}, &left)
	require.Zero(t, left)
	superuser(t, f.db, `SELECT count(*) FROM credential_events WHERE user_id = $1`, []any{f.bob.String()}, &left)
	require.Equal(t, 1, left, "Bob's trail is his own")
}

// Without the admin plugin's column the service works as before, and sees impersonation the
// moment the plugin's migration adds it.
func TestImpersonationIsReadWithAndWithoutTheAdminPlugin(t *testing.T) {
	t.Parallel()
	f := newTenants(t)
	var has bool
	superuser(t, f.db, `SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'session' AND column_name = 'impersonatedBy')`, nil, &has)
	require.False(t, has, "the template has Better Auth's core schema only")
	_, err := postgres.NewCredentialRepo(f.db).Get(testContext(t), f.aliceS, f.alicesCred.ID())
	require.NoError(t, err)
	actor, _ := f.aliceS.Actor()
	require.Equal(t, user.Actor{User: f.alice}, actor)

	admin, imp := pgtest.Impersonate(t, f.db, f.alice) // adds the column
	require.ErrorIs(t, postgres.NewCredentialRepo(f.db).Delete(testContext(t), imp, f.alicesCred.ID()), user.ErrImpersonated)
	actor, _ = imp.Actor()
	require.Equal(t, user.Actor{User: f.alice, ImpersonatedBy: admin}, actor)
	other := pgtest.NewSession(t, f.db, f.alice) // impersonatedBy NULL
	require.NoError(t, postgres.NewCredentialRepo(f.db).Delete(testContext(t), other, f.alicesCred.ID()))
	_, err = postgres.NewCredentialRepo(f.db).Get(testContext(t), other, f.alicesCred.ID())
	require.ErrorIs(t, err, domain.ErrNotFound)
}
