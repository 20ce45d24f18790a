-- wrk script for bench/run.py: counts responses by status class and, when the run is done,
-- prints one line "BENCH_RESULT {json}" with the request count, errors and latency
-- percentiles (microseconds), p95 included (wrk's own --latency output stops at p99 and
-- skips p95).
--
-- Usage: wrk ... -s bench/wrk_report.lua <url> [-- nocount]
-- "nocount" leaves response() undefined, so wrk does not parse headers and bodies; the
-- non-2xx count then falls back to wrk's own status errors (4xx and 5xx only).

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   ok, redirects, client_errors, server_errors, other = 0, 0, 0, 0, 0
   if args[1] ~= "nocount" then
      response = function(status, headers, body)
         if status >= 200 and status < 300 then
            ok = ok + 1
         elseif status >= 300 and status < 400 then
            redirects = redirects + 1
         elseif status >= 400 and status < 500 then
            client_errors = client_errors + 1
         elseif status >= 500 then
            server_errors = server_errors + 1
         else
            other = other + 1
         end
      end
   end
end

function done(summary, latency, requests)
   local counted = { ok = 0, redirects = 0, client_errors = 0, server_errors = 0, other = 0 }
   for _, thread in ipairs(threads) do
      for name, _ in pairs(counted) do
         counted[name] = counted[name] + (thread:get(name) or 0)
      end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
      '"status": {"2xx": %d, "3xx": %d, "4xx": %d, "5xx": %d, "other": %d}, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"min": %d, "mean": %.1f, "stdev": %.1f, "max": %d, ' ..
      '"p50": %d, "p90": %d, "p95": %d, "p99": %d}}\n',
      summary.requests, summary.duration, summary.bytes,
      counted.ok, counted.redirects, counted.client_errors, counted.server_errors, counted.other,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency.stdev, latency.max,
      latency:percentile(50), latency:percentile(90), latency:percentile(95),
      latency:percentile(99)))
end
