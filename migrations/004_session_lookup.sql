-- Resolves a Better Auth session token to its user, so that neither the login role nor
-- accounts_app needs any grant on Better Auth's tables. SECURITY DEFINER runs it with the
-- owner's rights; the pinned search_path (pg_catalog first, pg_temp last) and the fully
-- qualified names stop anyone from substituting their own objects or operators.
create or replace function public.accounts_session_user(p_token text)
  returns text
  language sql
  stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
  select s."userId"
  from public."session" s
  join public."user" u on u.id = s."userId"
  where s.token = p_token
    and s."expiresAt" > now()
$$;

revoke all on function public.accounts_session_user(text) from public;
grant execute on function public.accounts_session_user(text) to accounts_app;
