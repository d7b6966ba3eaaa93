-- The naive POST /api/accounts/get-or-create for a user who already has an account, for
-- pgbench (run by `go tool task bench`; see docs/benchmarks.md).
--
-- The naive session lookup, then the service's get-or-create SQL under RLS, one round trip
-- per statement, with pgbench's prepared protocol (-M prepared), logged in as the non-owner
-- role accounts_bench:
--   1. the session lookup, joined to its user, with the expiry check (as in
--      list_accounts.sql); \gset keeps the user id for the next statements
--   2. BEGIN
--   3. the row-level security context (role and user; the service also sets three timeouts)
--   4. INSERT ... ON CONFLICT (user_id) DO NOTHING RETURNING the row: every seeded user has
--      an account, so this inserts nothing and returns no row
--   5. the SELECT of the existing account that runs when the insert returned none
--   6. COMMIT
-- A random seeded user per transaction; tokens and user ids are the seed's
-- ('tok' / 'usr' || lpad(i, 29, '0'), 32 characters like Better Auth's). -D users=N is required.
\set uid random(1, :users)
SELECT s."userId" AS user_id FROM "session" s JOIN "user" u ON u.id = s."userId" WHERE s.token = 'tok' || lpad(:uid::text, 29, '0') AND s."expiresAt" > now() \gset
BEGIN;
SELECT set_config('role', 'accounts_app', true), set_config('app.current_user_id', :user_id, true);
INSERT INTO user_accounts (id, user_id, account_name, is_active, created_at, updated_at) VALUES (gen_random_uuid(), :user_id, 'Default Alpaca Account', true, now(), now()) ON CONFLICT (user_id) DO NOTHING RETURNING id, user_id, account_name, is_active, created_at, updated_at;
SELECT id, user_id, account_name, is_active, created_at, updated_at FROM user_accounts WHERE user_id = :user_id LIMIT 1;
COMMIT;
