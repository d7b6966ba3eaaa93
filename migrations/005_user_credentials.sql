-- A user's broker key pairs, sealed: each value is AES-256-GCM ciphertext (nonce‖ct‖tag)
-- bound to its row, owner and column, with the id of the key that sealed it.
create table user_credentials (
  id                    uuid         not null primary key,
  user_account_id       uuid         not null,
  user_id               text         not null,
  credential_type       text         not null check (credential_type in ('alpaca')),
  environment           text         not null check (environment in ('paper', 'live')),
  nickname              varchar(255) not null,
  api_key_key_id        text         not null,
  api_key_ciphertext    bytea        not null,
  secret_key_key_id     text         not null,
  secret_key_ciphertext bytea        not null,
  is_active             boolean      not null default true,
  created_at            timestamptz  not null,
  updated_at            timestamptz  not null,
  -- The schema, not only the code, keeps a credential under an account of its own user.
  constraint user_credentials_account_fkey foreign key (user_account_id, user_id)
    references user_accounts (id, user_id) on delete cascade
);

-- Serves "this account's credentials, newest first" as one index range under RLS, and the
-- foreign key's cascade from user_accounts.
create index user_credentials_account_idx
  on user_credentials (user_account_id, user_id, created_at desc, id desc);

alter table user_credentials enable row level security;
alter table user_credentials force row level security;

create policy user_credentials_select on user_credentials for select to accounts_app
  using (user_id = (select nullif(current_setting('app.current_user_id', true), '')));
create policy user_credentials_insert on user_credentials for insert to accounts_app
  with check (user_id = (select nullif(current_setting('app.current_user_id', true), '')));
create policy user_credentials_update on user_credentials for update to accounts_app
  using (user_id = (select nullif(current_setting('app.current_user_id', true), '')))
  with check (user_id = (select nullif(current_setting('app.current_user_id', true), '')));
create policy user_credentials_delete on user_credentials for delete to accounts_app
  using (user_id = (select nullif(current_setting('app.current_user_id', true), '')));

grant select, insert, update, delete on user_credentials to accounts_app;

-- Key rotation re-seals every user's values, so it needs a role that sees all rows: it gets
-- the sealed columns and the ids they are bound to, and nothing else — no names, no
-- accounts, no deletes. It cannot log in; `accounts credentials rotate` switches to it per
-- transaction exactly as requests switch to accounts_app.
do $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'accounts_rotator') then
    begin
      create role accounts_rotator nologin nosuperuser nobypassrls noinherit nocreatedb nocreaterole noreplication;
    exception when duplicate_object or unique_violation then
      null;
    end;
  end if;
  if exists (select from pg_catalog.pg_roles
             where rolname = 'accounts_rotator'
               and (rolsuper or rolbypassrls or rolcanlogin or rolinherit or rolcreaterole or rolcreatedb or rolreplication)) then
    raise exception 'role accounts_rotator exists with unsafe attributes';
  end if;
  if not exists (select from pg_catalog.pg_auth_members m
                 where m.roleid = (select oid from pg_catalog.pg_roles where rolname = 'accounts_rotator')
                   and m.member = (select oid from pg_catalog.pg_roles where rolname = current_user)) then
    begin
      grant accounts_rotator to current_user;
    exception when duplicate_object or unique_violation then
      null;
    end;
  end if;
end
$$;

grant usage on schema public to accounts_rotator;
grant select (id, user_id, api_key_key_id, api_key_ciphertext, secret_key_key_id, secret_key_ciphertext)
  on user_credentials to accounts_rotator;
grant update (api_key_key_id, api_key_ciphertext, secret_key_key_id, secret_key_ciphertext)
  on user_credentials to accounts_rotator;
create policy user_credentials_rotate_select on user_credentials for select to accounts_rotator using (true);
create policy user_credentials_rotate_update on user_credentials for update to accounts_rotator using (true) with check (true);
