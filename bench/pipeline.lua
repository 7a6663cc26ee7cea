-- wrk script for S2: every connection writes DEPTH requests for the URL's
-- path at once (default 16; `wrk ... -s pipeline.lua URL -- 8` changes it)
-- and writes the next batch when all DEPTH responses are in.
--
-- Counting: wrk parses the request string once at start (it must parse as
-- exactly DEPTH requests) and then expects DEPTH responses per batch; its
-- request counter is incremented once per *response*, so
-- summary.requests / duration is responses per second. compare.sh checks
-- this against the server's own counter in its self-test (see README).
-- No response() callback: defining one makes wrk copy every response's
-- headers and body into Lua, which would make the client the bottleneck.

local depth = 16
local batch

function init(args)
   depth = tonumber(args[1]) or depth
   local r = {}
   for i = 1, depth do
      r[i] = wrk.format(nil, nil)
   end
   batch = table.concat(r)
end

function request()
   return batch
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d bytes=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d max_us=%d depth=%d\n",
      summary.requests, summary.bytes, summary.duration,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency.max, depth))
end
