-- wrk script of `go tool task bench` (`go run ./bench` runs it; see docs/benchmarks.md).
--
--   wrk -t 2 -c N -d 10s --latency -s bench/wrk/accounts.lua URL -- TOKENS_FILE METHOD
--
-- TOKENS_FILE has one signed Better Auth bearer value per seeded user ("<token>.<base64
-- HMAC>"), written by the driver, all of the same length, one a line. Every request reads a
-- random line (a seek and a read in the page cache: a million users load no faster or
-- slower than ten thousand, and nothing is parsed before the clock starts) and sends it as
-- "Authorization: Bearer ...": a bearer needs no Origin on POST (cookie writes do).
-- METHOD is GET or POST; a POST sends the body "{}".
-- done() prints one line for the driver to parse:
--   WRK_RESULT requests=.. duration_us=.. p50_us=.. p99_us=.. status_errors=.. ...

local file, count, width
local method = "GET"
local body = nil
local headers = {}

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end

function init(args)
  local path = args[1]
  method = args[2] or "GET"
  if not path then
    error("usage: wrk ... -s accounts.lua URL -- TOKENS_FILE [METHOD]")
  end
  file = assert(io.open(path, "rb"))
  local first = file:read("*l")
  if not first or #first == 0 then
    error("no tokens in " .. path)
  end
  width = #first + 1
  local size = file:seek("end")
  if size % width ~= 0 then
    error(path .. ": lines are not all " .. width .. " bytes")
  end
  count = size / width
  math.randomseed(os.time() + 7919 * (thread_no or 0))
  if method == "POST" then
    body = "{}"
    headers["Content-Type"] = "application/json"
  end
end

function request()
  file:seek("set", (math.random(count) - 1) * width)
  headers["Authorization"] = "Bearer " .. file:read(width - 1)
  return wrk.format(method, nil, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d status_errors=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
