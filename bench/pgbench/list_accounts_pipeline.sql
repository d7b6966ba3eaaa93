-- The ideal one-round-trip GET /api/accounts, for pgbench (run by `go tool task bench`; see
-- docs/benchmarks.md): the database's own floor for a service that resolves the session
-- inside the request's transaction.
--
-- pgbench's pipeline mode (\startpipeline ... \endpipeline; needs -M extended or prepared,
-- the bench uses prepared) sends both statements and one Sync together: one round trip, one
-- implicit transaction, so the transaction-local settings of the first statement hold in
-- the second. Logged in as the non-owner role accounts_bench:
--   1. the session lookup inline (joined to its user, with the expiry check, as in
--      list_accounts.sql) sets the user, and the same statement switches to accounts_app;
--      an unknown or expired token sets '' (the policies match no row then)
--   2. the user's accounts, newest first, under RLS
-- A random seeded user per transaction ('tok' || lpad(i, 29, '0'), as the seed builds the
-- tokens). -D users=N is required. The driver runs both statements once for user 1 before
-- measuring and checks that they return that user's account.
\set uid random(1, :users)
\startpipeline
SELECT set_config('app.current_user_id', coalesce((SELECT s."userId" FROM "session" s JOIN "user" u ON u.id = s."userId" WHERE s.token = 'tok' || lpad(:uid::text, 29, '0') AND s."expiresAt" > now()), ''), true), set_config('role', 'accounts_app', true);
SELECT id, user_id, account_name, is_active, created_at, updated_at FROM user_accounts WHERE user_id = current_setting('app.current_user_id') ORDER BY created_at DESC, id DESC;
\endpipeline
