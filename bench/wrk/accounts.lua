-- wrk script of `go tool task bench` (`go run ./bench` runs it; see docs/benchmarks.md).
--
--   wrk -t T -c N -d 10s --latency -s bench/wrk/accounts.lua URL -- TOKENS METHOD START
--
-- Thread k of T reads the file TOKENS.k, written by the driver: the signed Better Auth
-- bearers ("<token>.<base64 HMAC>") of the users k, k+T, k+2T, ..., one a line, every line
-- of the same width. The threads' sequences are disjoint, so no two requests in a row, on
-- one thread or across threads, are the same user unless a thread has gone through all of
-- its users; a thread wraps around to its first user then.
--
-- The load generator must not be what gets measured:
--   - The whole file is ONE string per thread and every request cuts its bearer out of it
--     (string.sub at a fixed offset). No table per user: the garbage collector of wrk's Lua
--     traverses a table in one step, and one of a million entries paused the thread for
--     tens of ms, which showed up as the service's p99. A string is never traversed.
--   - No random numbers: with a shared seed, threads replay the same users in lockstep.
--   - Each request is built with one concatenation of fixed parts and the bearer (not
--     wrk.format, which makes a table and a string per header), so little garbage is made.
--
-- START is the position in each thread's sequence to begin at, so that consecutive steps
-- of a run go on to other users instead of replaying the first ones. METHOD is GET or POST;
-- a POST sends the body "{}" (a bearer needs no Origin on POST; cookie writes do).
-- done() prints one line for the driver to parse, with the position the next step starts at:
--   WRK_RESULT requests=.. duration_us=.. p50_us=.. p99_us=.. status_errors=.. ... next=..

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_no", #threads)
end

-- Per thread (globals, so that done() can read them with thread:get).
start = 0
sent = 0

local data, width, count, pos, head, tail

function init(args)
  local prefix, method = args[1], args[2] or "GET"
  start = tonumber(args[3] or "0")
  if not prefix or not start then
    error("usage: wrk ... -s accounts.lua URL -- TOKENS METHOD START")
  end
  local path = prefix .. "." .. thread_no
  local file = assert(io.open(path, "rb"))
  data = file:read("*a")
  file:close()
  local nl = data:find("\n", 1, true)
  if not nl or nl < 2 then
    error("no tokens in " .. path)
  end
  width = nl
  if #data % width ~= 0 then
    error(path .. ": lines are not all " .. width .. " bytes")
  end
  count = #data / width
  pos = start % count

  -- wrk.init has set the Host header from the URL before it calls init.
  head = method .. " " .. wrk.path .. " HTTP/1.1\r\nHost: " .. wrk.headers["Host"] .. "\r\n"
  if method == "POST" then
    head = head .. "Content-Type: application/json\r\nContent-Length: 2\r\n"
    tail = "\r\n\r\n{}"
  else
    tail = "\r\n\r\n"
  end
  head = head .. "Authorization: Bearer "
  collectgarbage() -- the garbage of reading the file, before the clock starts
end

function request()
  local off = pos * width
  pos = pos + 1
  if pos == count then
    pos = 0
  end
  sent = sent + 1
  return head .. string.sub(data, off + 1, off + width - 1) .. tail
end

function done(summary, latency, requests)
  local after = 0
  for _, thread in ipairs(threads) do
    after = math.max(after, thread:get("start") + thread:get("sent"))
  end
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d status_errors=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d next=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout, after))
end
