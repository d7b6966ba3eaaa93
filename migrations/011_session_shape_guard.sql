-- The context statement reads Better Auth's optional columns (the admin plugin's "banned",
-- "banExpires" and "impersonatedBy") by name once the service has seen that they exist,
-- instead of through to_jsonb of each row, which costs more than the rest of the
-- statement. The service must never run such a statement on tables whose columns have
-- changed since it looked: it passes the number of columns it saw (pg_class.relnatts of
-- "user" and "session" together, which only grows) and this guard refuses anything else
-- with SQLSTATE AC001, after which the service looks again and retries.
--
-- It is declared IMMUTABLE so that the planner evaluates it once per plan, with its
-- constant argument, instead of once per execution: a cached plan costs nothing, and any
-- ALTER TABLE of either table invalidates the plans that read it, so the guard runs again
-- before the next execution. That is a deliberate use of the planner's constant folding;
-- the function reads the catalogs, which a truly immutable function would not.
create function public.accounts_session_shape_is(expected_columns integer)
  returns boolean
  language plpgsql
  immutable
  parallel safe
as $$
declare
  seen integer;
begin
  select sum(c.relnatts) into seen from pg_catalog.pg_class c
   where c.oid in ('public."user"'::regclass, 'public."session"'::regclass);
  if seen is distinct from expected_columns then
    raise exception 'Better Auth''s tables changed since the service read them'
      using errcode = 'AC001', detail = format('expected %s columns, found %s', expected_columns, seen);
  end if;
  return true;
end
$$;
