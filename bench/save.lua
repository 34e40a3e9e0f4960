-- wrk script for POST /api/v1/customers/save, used by bench/run.sh.
--
-- Environment:
--   BENCH_POOL  the body pool written by bench/bodies: one body per line, with the
--               marker @ID@ in front of every identifier
--   BENCH_AUTH  the Authorization header value (optional)
--   BENCH_RUN   a tag unique to this wrk run against this server (e.g. "w" for the
--               warm-up, "m" for the measurement), so no two runs share ids
--   BENCH_MODE  "create" (default): every request replaces the marker with a prefix
--               unique to the request, so every customer it sends is new;
--               "update": the prefix is the same for every request, so after the
--               first pass over the pool the server updates existing customers
--   BENCH_OUT   the file done() writes the summary to, as one JSON object
--
-- Each thread builds its requests in request(): the cost on the client is one
-- table.concat of the body's pieces per request, the same for every server.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local pool = {}
local counter = 0
local prefix_base
local fixed_prefix

local function split(s, sep)
  local parts, pos = {}, 1
  while true do
    local i, j = string.find(s, sep, pos, true)
    if not i then
      table.insert(parts, string.sub(s, pos))
      return parts
    end
    table.insert(parts, string.sub(s, pos, i - 1))
    pos = j + 1
  end
end

function init(args)
  local path = os.getenv("BENCH_POOL")
  if not path then error("BENCH_POOL is not set") end
  for line in io.lines(path) do
    if #line > 0 then table.insert(pool, split(line, "@ID@")) end
  end
  if #pool == 0 then error(path .. ": no body") end
  wrk.method = "POST"
  wrk.path = "/api/v1/customers/save"
  wrk.headers["Content-Type"] = "application/json"
  local auth = os.getenv("BENCH_AUTH")
  if auth and #auth > 0 then wrk.headers["Authorization"] = auth end
  prefix_base = (os.getenv("BENCH_RUN") or "r") .. tid .. "-"
  if os.getenv("BENCH_MODE") == "update" then fixed_prefix = "u-" end
end

function request()
  counter = counter + 1
  local parts = pool[(counter - 1) % #pool + 1]
  local prefix = fixed_prefix or (prefix_base .. string.format("%x", counter) .. "-")
  return wrk.format(nil, nil, nil, table.concat(parts, prefix))
end

function done(summary, latency, requests)
  local out = os.getenv("BENCH_OUT")
  local f = out and io.open(out, "w") or io.stdout
  local e = summary.errors
  f:write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"errors_connect":%d,"errors_read":%d,' ..
    '"errors_write":%d,"errors_status":%d,"errors_timeout":%d,' ..
    '"latency_mean_us":%.1f,"latency_p50_us":%d,"latency_p90_us":%d,"latency_p99_us":%d,"latency_max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read,
    e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
  if f ~= io.stdout then f:close() end
end
