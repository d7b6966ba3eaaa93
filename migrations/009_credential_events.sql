-- The audit trail of every credential use (docs/database.md, "The credential trail"): one
-- row per store, update, delete, validate, account-data read, failed open and rotation,
-- written in the same transaction as the change it records. Append-only for the service:
-- its roles may insert and read, never update or delete. Rows outlive the credential they
-- describe (no foreign key to it) but not their user: erasing a user erases their trail.
create table credential_events (
  id              uuid        not null primary key,
  -- null only for a refused store: no credential came of it.
  credential_id   uuid,
  account_id      uuid        not null,
  user_id         text        not null references "user" (id) on delete cascade,
  action          text        not null check (action in
                    ('stored', 'updated', 'deleted', 'validated', 'account_data_read', 'open_failed', 'rotated')),
  outcome         text        not null check (outcome in ('ok', 'rejected', 'refused', 'failed')),
  request_id      text        check (length(request_id) between 1 and 128),
  -- Set by the database from the transaction's context, never by the caller: an
  -- impersonating admin cannot write an event that hides them (see the insert policy).
  impersonated_by text        default nullif(current_setting('app.impersonated_by', true), ''),
  created_at      timestamptz not null default clock_timestamp()
);

-- Serves "this credential's events, newest first" as one index range under RLS.
create index credential_events_credential_idx
  on credential_events (credential_id, user_id, created_at desc, id desc);

alter table credential_events enable row level security;
alter table credential_events force row level security;

create policy credential_events_select on credential_events for select to accounts_app
  using (user_id = (select nullif(current_setting('app.current_user_id', true), '')));
create policy credential_events_insert on credential_events for insert to accounts_app
  with check (user_id = (select nullif(current_setting('app.current_user_id', true), ''))
              and impersonated_by is not distinct from (select nullif(current_setting('app.impersonated_by', true), '')));
-- No grant allows these; the policies say so again, for the audit and for anyone adding a
-- grant by mistake.
create policy credential_events_update on credential_events for update to accounts_app using (false) with check (false);
create policy credential_events_delete on credential_events for delete to accounts_app using (false);

grant select, insert on credential_events to accounts_app;

-- Key rotation records one "rotated" (or "open_failed") event per credential it touches;
-- it learns the account from the credential row, and nothing more.
grant select (user_account_id) on user_credentials to accounts_rotator;
grant insert on credential_events to accounts_rotator;
create policy credential_events_rotate_insert on credential_events for insert to accounts_rotator
  with check (action in ('rotated', 'open_failed') and impersonated_by is null);

-- An impersonating admin (Better Auth's admin plugin sets "impersonatedBy" on the session;
-- the context statement copies it to app.impersonated_by) may read a user's credentials
-- but not write them. The service refuses first, with a clear answer; the policies make
-- the database refuse too. Update keeps its USING clause as it was, so SELECT ... FOR
-- UPDATE still finds the row and the refusal can name it.
alter policy user_credentials_insert on user_credentials
  with check (user_id = (select nullif(current_setting('app.current_user_id', true), ''))
              and (select nullif(current_setting('app.impersonated_by', true), '')) is null);
alter policy user_credentials_update on user_credentials
  using (user_id = (select nullif(current_setting('app.current_user_id', true), '')))
  with check (user_id = (select nullif(current_setting('app.current_user_id', true), ''))
              and (select nullif(current_setting('app.impersonated_by', true), '')) is null);
alter policy user_credentials_delete on user_credentials
  using (user_id = (select nullif(current_setting('app.current_user_id', true), ''))
         and (select nullif(current_setting('app.impersonated_by', true), '')) is null);
