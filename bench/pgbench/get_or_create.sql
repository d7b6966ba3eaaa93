-- The naive POST /api/accounts/get-or-create for a user who already has an account, for
-- pgbench (run by `go tool task bench`; see docs/benchmarks.md).
--
-- The service's AddIfAbsent under RLS, one round trip per statement, with pgbench's
-- prepared protocol (-M prepared), logged in as the non-owner role accounts_bench:
--   1. BEGIN
--   2. the row-level security context (role and user; the service also sets three timeouts)
--   3. INSERT ... ON CONFLICT (user_id) DO NOTHING RETURNING the row: every seeded user has
--      an account, so this inserts nothing and returns no row
--   4. the SELECT of the existing account that the service runs when the insert returned none
--   5. COMMIT
-- As the target states it, there is NO session lookup here (the service's request has one
-- more round trip: the target for this endpoint is 0.8x, not 1.0x).
-- A random seeded user per transaction ('usr' || lpad(i, 29, '0')). -D users=N is required.
\set uid random(1, :users)
BEGIN;
SELECT set_config('role', 'accounts_app', true), set_config('app.current_user_id', 'usr' || lpad(:uid::text, 29, '0'), true);
INSERT INTO user_accounts (id, user_id, account_name, is_active, created_at, updated_at) VALUES (gen_random_uuid(), 'usr' || lpad(:uid::text, 29, '0'), 'Default Alpaca Account', true, now(), now()) ON CONFLICT (user_id) DO NOTHING RETURNING id, user_id, account_name, is_active, created_at, updated_at;
SELECT id, user_id, account_name, is_active, created_at, updated_at FROM user_accounts WHERE user_id = 'usr' || lpad(:uid::text, 29, '0') LIMIT 1;
COMMIT;
