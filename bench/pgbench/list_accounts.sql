-- The naive GET /api/accounts, for pgbench (run by `go tool task bench`; see docs/benchmarks.md).
--
-- Five statements in one transaction, one round trip each, with pgbench's prepared protocol
-- (-M prepared), logged in as the non-owner role accounts_bench:
--   1. BEGIN
--   2. the session lookup, joined to its user, with the expiry check: the body of
--      public.accounts_session_lookup (migrations 006-007), run directly on Better Auth's tables
--      (accounts_bench holds SELECT on "session" and "user" for exactly this); \gset keeps
--      the user id for the next statements, as a service has to
--   3. the row-level security context, as the service's first statement sets it (role and
--      user; the service also sets three timeouts in the same statement)
--   4. the user's accounts, newest first, as the service lists them (under RLS: FORCE ROW
--      LEVEL SECURITY applies to accounts_app)
--   5. COMMIT
-- A random seeded user per transaction; tokens and user ids are the seed's
-- ('tok' / 'usr' || lpad(i, 29, '0'), 32 characters like Better Auth's). -D users=N is required.
\set uid random(1, :users)
BEGIN;
SELECT s."userId" AS user_id FROM "session" s JOIN "user" u ON u.id = s."userId" WHERE s.token = 'tok' || lpad(:uid::text, 29, '0') AND s."expiresAt" > now() \gset
SELECT set_config('role', 'accounts_app', true), set_config('app.current_user_id', :user_id, true);
SELECT id, user_id, account_name, is_active, created_at, updated_at FROM user_accounts WHERE user_id = :user_id ORDER BY created_at DESC, id DESC;
COMMIT;
