-- The restricted role every user-scoped transaction switches to with
-- set_config('role', 'accounts_app', true). It cannot log in, bypass RLS or inherit
-- anything, and owns nothing (the migrating role owns every object), so FORCE ROW LEVEL
-- SECURITY always applies to it.
--
-- Roles are cluster-global while migrations run per database, possibly many at once on one
-- cluster (tests): creation tolerates a concurrent creator, and nothing here ALTERs the role,
-- because concurrent ALTERs of one role fail with "tuple concurrently updated".
do $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'accounts_app') then
    begin
      create role accounts_app nologin nosuperuser nobypassrls noinherit nocreatedb nocreaterole noreplication;
    exception when duplicate_object or unique_violation then
      null; -- another migration created it first
    end;
  end if;

  -- A role of that name made by someone else must not silently widen what the service can do.
  if exists (select from pg_catalog.pg_roles
             where rolname = 'accounts_app'
               and (rolsuper or rolbypassrls or rolcanlogin or rolinherit or rolcreaterole or rolcreatedb or rolreplication)) then
    raise exception 'role accounts_app exists with unsafe attributes; expected NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT NOCREATEDB NOCREATEROLE NOREPLICATION';
  end if;

  -- The login role that migrates (and usually serves) must be able to SET ROLE to it.
  -- pg_auth_members rather than pg_has_role: a superuser "has" every role, yet an explicit
  -- membership keeps working if the migrating role is ever made an ordinary one.
  if not exists (select from pg_catalog.pg_auth_members m
                 where m.roleid = (select oid from pg_catalog.pg_roles where rolname = 'accounts_app')
                   and m.member = (select oid from pg_catalog.pg_roles where rolname = current_user)) then
    begin
      grant accounts_app to current_user;
    exception when duplicate_object or unique_violation then
      null; -- granted concurrently
    end;
  end if;
end
$$;
