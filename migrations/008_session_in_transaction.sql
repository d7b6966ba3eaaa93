-- Sessions are resolved inside each request's own transaction now (the context statement
-- in adapters/postgres/tx.go reads Better Auth's "session" and "user" as the login role),
-- so a sign-out counts on the very next request. Nothing caches sessions any more: the
-- change trigger that migration 006 put on Better Auth's table, its function, and the
-- SECURITY DEFINER lookup of migrations 006 and 007 go.
drop trigger if exists accounts_session_changed on public."session";
drop trigger if exists accounts_session_truncated on public."session";
drop function if exists public.accounts_notify_session_change();
drop function if exists public.accounts_session_lookup(text);

-- Raised by the context statement when a session token resolves to no one (unknown,
-- signed out, expired, its user deleted or banned). SQLSTATE 28000
-- (invalid_authorization_specification) aborts the transaction before anything else in it
-- runs, and the service answers 401. SECURITY INVOKER and touching nothing, so anyone may
-- call it: all it can do is fail.
create function public.accounts_no_session()
  returns text
  language plpgsql
  volatile
as $$
begin
  raise exception 'no live session for this token' using errcode = '28000';
end
$$;
