-- wrk script for bench/run.py's cold mix: requests every URL of a file once and writes one
-- line per answer to a results file (the URL's line number, status, X-Cache, body bytes,
-- latency, and when it was sent: microseconds of CLOCK_MONOTONIC), which the harness turns
-- into req/s, percentiles, hit share and sizes (bench/coldmix.py).
--
-- Usage: wrk -t T -c T -d D -s bench/wrk_urls.lua http://127.0.0.1:PORT -- <urls> <T> <out>
-- One connection per thread (-c equal to -t): each thread then has one request in flight, so
-- it can time each answer itself and knows which URL it answers. The URL file holds one path
-- (with its query) a line, then optionally a tab and "hx" for a request sent with HX-Request:
-- true (bench/coldmix.py writes it). Thread i takes the lines [i*n//T, (i+1)*n//T) and sends
-- each once.
--
-- When a thread has sent all its URLs it prints "BENCH_THREAD_DONE" (the harness ends wrk once
-- every thread has, rather than let it sleep out its duration) and, until then, keeps asking
-- for /robots.txt ("fillers", answers not recorded, only counted). It cannot simply go quiet
-- or stop: gunicorn's sync worker that accepts a silent connection waits on it, and one that
-- answered a connection nobody closes lingers up to 2 s (gunicorn.util.close_graceful), and
-- wrk neither closes a stopped thread's connection nor sends on it.
--
-- wrk's own summary still gives the socket errors; its request count and latencies include
-- the fillers, so the harness uses this file's.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local now_ts = ffi.new("bench_timespec")

local function now_us()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, now_ts)
   return tonumber(now_ts.tv_sec) * 1e6 + tonumber(now_ts.tv_nsec) / 1e3
end

local threads = {}
local counter = 0

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   local file, total_threads = args[1], tonumber(args[2])
   out_path = args[3]
   local lines = {}
   for line in io.lines(file) do
      lines[#lines + 1] = line
   end
   local n = #lines
   local first = math.floor(id * n / total_threads)
   local last = math.floor((id + 1) * n / total_threads)
   requests, numbers = {}, {}
   for i = first + 1, last do
      local path, flag = lines[i]:match("^([^\t]*)\t?(.*)$")
      local headers = {}
      for name, value in pairs(wrk.headers) do
         headers[name] = value
      end
      if flag == "hx" then
         headers["HX-Request"] = "true"
      end
      requests[#requests + 1] = wrk.format("GET", path, headers)
      numbers[#numbers + 1] = i - 1 -- the line's number in the file, from 0
   end
   filler = wrk.format("GET", "/robots.txt")
   sent, started_us, first_us, last_us, fillers = 0, 0, 0, 0, 0
   filling, finished = false, false
   rows = {}
   -- wrk calls the first thread's request() once before it runs, to count the requests in
   -- its answer (pipelining): that call must not take a URL.
   verifying = id == 0
end

function request()
   if verifying then
      verifying = false
      return filler
   end
   if sent >= #requests then
      if not finished then
         finished = true
         io.write("BENCH_THREAD_DONE\n")
         io.stdout:flush()
      end
      filling = true
      fillers = fillers + 1
      return filler
   end
   filling = false
   sent = sent + 1
   started_us = now_us()
   if first_us == 0 then
      first_us = started_us
   end
   return requests[sent]
end

function response(status, headers, body)
   if filling then
      return
   end
   last_us = now_us()
   local cache = headers["X-Cache"] or headers["x-cache"] or "none"
   rows[#rows + 1] = string.format(
      "%d\t%d\t%s\t%d\t%d\t%d", numbers[sent], status, cache, body and #body or 0,
      last_us - started_us, started_us)
end

function done(summary, latency, requests)
   local out = io.open(out_file_path(), "w")
   local first, last, sent_by_thread, filled = nil, 0, {}, 0
   for _, thread in ipairs(threads) do
      for _, row in ipairs(thread:get("rows") or {}) do
         out:write(row, "\n")
      end
      local f, l = thread:get("first_us") or 0, thread:get("last_us") or 0
      if f > 0 and (first == nil or f < first) then
         first = f
      end
      if l > last then
         last = l
      end
      sent_by_thread[#sent_by_thread + 1] = tostring(thread:get("sent") or 0)
      filled = filled + (thread:get("fillers") or 0)
   end
   out:close()
   local elapsed = (first and last > first) and (last - first) or 0
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"duration_us": %d, "elapsed_us": %d, "bytes": %d, "sent": [%s], ' ..
      '"fillers": %d, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
      summary.duration, elapsed, summary.bytes, table.concat(sent_by_thread, ", "), filled,
      e.connect, e.read, e.write, e.status, e.timeout))
end

function out_file_path()
   -- done() runs in the setup environment, which has no init() args: read it from a thread.
   return threads[1]:get("out_path")
end
