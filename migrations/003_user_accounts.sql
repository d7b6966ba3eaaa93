-- One broker account per user. Owned by the migrating role, never by accounts_app.
create table user_accounts (
  id           uuid         not null primary key,
  user_id      text         not null unique references "user" (id) on delete cascade,
  account_name varchar(255) not null,
  is_active    boolean      not null default true,
  created_at   timestamptz  not null,
  updated_at   timestamptz  not null,
  -- Target of the credentials' composite foreign key, so a credential can never hang under
  -- another user's account.
  constraint user_accounts_id_user_id_key unique (id, user_id)
);
-- No extra index for "newest first per user": user_id is unique, so the unique index
-- already turns every per-user query into a lookup of at most one row.

alter table user_accounts enable row level security;
alter table user_accounts force row level security;

-- One policy per command. current_setting is wrapped in a scalar subquery so it is evaluated
-- once per statement (an InitPlan), not per row; nullif makes an unset or reset context ('')
-- match nothing instead of failing.
create policy user_accounts_select on user_accounts for select to accounts_app
  using (user_id = (select nullif(current_setting('app.current_user_id', true), '')));
create policy user_accounts_insert on user_accounts for insert to accounts_app
  with check (user_id = (select nullif(current_setting('app.current_user_id', true), '')));
create policy user_accounts_update on user_accounts for update to accounts_app
  using (user_id = (select nullif(current_setting('app.current_user_id', true), '')))
  with check (user_id = (select nullif(current_setting('app.current_user_id', true), '')));
create policy user_accounts_delete on user_accounts for delete to accounts_app
  using (user_id = (select nullif(current_setting('app.current_user_id', true), '')));

grant usage on schema public to accounts_app;
grant select, insert, update, delete on user_accounts to accounts_app;
