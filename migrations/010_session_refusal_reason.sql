-- The context statement says why a token resolves to no one (unknown, expired or banned),
-- for the service's metrics: the client still gets the same 401 for every reason. The
-- reason travels as the error's DETAIL; SQLSTATE 28000 still aborts the transaction before
-- anything queued after the statement runs. Migration 008's function without a reason
-- stays for a binary of the previous release during a rolling deploy.
create function public.accounts_no_session(reason text)
  returns text
  language plpgsql
  volatile
as $$
begin
  raise exception 'no live session for this token' using errcode = '28000', detail = reason;
end
$$;
