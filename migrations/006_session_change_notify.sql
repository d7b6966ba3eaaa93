-- Lets the service cache verified sessions and still honour a sign-out within a second:
-- every change to a session row announces, on one channel, the SHA-256 of its token (never
-- the token itself: any role may LISTEN), and the service drops that entry at once.
create or replace function public.accounts_notify_session_change()
  returns trigger
  language plpgsql
  security invoker
  set search_path = pg_catalog, pg_temp
as $$
begin
  if tg_op = 'TRUNCATE' then
    perform pg_notify('accounts_session_changed', '*');
  else
    perform pg_notify('accounts_session_changed', encode(sha256(convert_to(old.token, 'UTF8')), 'hex'));
  end if;
  return null;
end
$$;
revoke all on function public.accounts_notify_session_change() from public;

drop trigger if exists accounts_session_changed on public."session";
create trigger accounts_session_changed
  after update or delete on public."session"
  for each row execute function public.accounts_notify_session_change();

drop trigger if exists accounts_session_truncated on public."session";
create trigger accounts_session_truncated
  after truncate on public."session"
  for each statement execute function public.accounts_notify_session_change();

-- Like accounts_session_user, but also returns when the session expires, so a cached entry
-- can expire on time without asking again.
create or replace function public.accounts_session_lookup(p_token text)
  returns table (user_id text, expires_at timestamptz)
  language sql
  stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
  select s."userId", s."expiresAt"
  from public."session" s
  join public."user" u on u.id = s."userId"
  where s.token = p_token
    and s."expiresAt" > now()
$$;
revoke all on function public.accounts_session_lookup(text) from public;
grant execute on function public.accounts_session_lookup(text) to accounts_app;

-- Superseded by accounts_session_lookup: one definer function to audit, not two.
drop function if exists public.accounts_session_user(text);
