-- A variant of list_accounts.sql, not part of the table: the session lookup through the
-- service's SECURITY DEFINER function public.accounts_session_lookup (migrations 006-007) instead
-- of the join, to measure what the function costs (a non-inlinable SQL function is parsed
-- and planned again on every call). Run by hand against a database kept with -keep:
--   psql ... -c 'GRANT EXECUTE ON FUNCTION accounts_session_lookup(text) TO accounts_bench'
--   pgbench -n -M prepared -c 8 -j 2 -T 10 -D users=N -f bench/pgbench/list_accounts_function.sql \
--     -h 127.0.0.1 -U accounts_bench <database>     (and the same with list_accounts.sql)
\set uid random(1, :users)
BEGIN;
SELECT user_id FROM public.accounts_session_lookup('tok' || lpad(:uid::text, 29, '0')) \gset
SELECT set_config('role', 'accounts_app', true), set_config('app.current_user_id', :user_id, true);
SELECT id, user_id, account_name, is_active, created_at, updated_at FROM user_accounts WHERE user_id = :user_id ORDER BY created_at DESC, id DESC;
COMMIT;
