-- accounts_session_lookup again, in PL/pgSQL: a SQL-language SECURITY DEFINER function can
-- be neither inlined nor keep a plan, so every call parsed and planned its query anew (most
-- of what a session lookup cost). PL/pgSQL prepares the query once per connection.
create or replace function public.accounts_session_lookup(p_token text)
  returns table (user_id text, expires_at timestamptz)
  language plpgsql
  stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  return query
    select s."userId", s."expiresAt"
    from public."session" s
    join public."user" u on u.id = s."userId"
    where s.token = p_token
      and s."expiresAt" > now();
end
$$;
