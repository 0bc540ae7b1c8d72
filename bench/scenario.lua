-- One bench scenario for wrk: method, token, JSON body and expected status come from the environment;
-- at the end it prints one line, BENCH {json}, with requests, latency percentiles and wrong answers.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  wrong = 0
  expected = tonumber(os.getenv("BENCH_EXPECT") or "200")
  wrk.method = os.getenv("BENCH_METHOD") or "GET"
  local token = os.getenv("BENCH_TOKEN") or ""
  if token ~= "" then
    wrk.headers["Authorization"] = "Token " .. token
  end
  local body = os.getenv("BENCH_BODY") or ""
  if body ~= "" then
    wrk.body = body
    wrk.headers["Content-Type"] = "application/json"
  end
end

function response(status, headers, body)
  if status ~= expected then
    wrong = wrong + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("wrong")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "errors": %d, "socket_errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, bad, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
