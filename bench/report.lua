-- wrk script for the plain scenarios (S1, S3, S4): no per-request Lua, so
-- wrk runs at full speed; done() prints one machine-readable line that
-- compare.sh parses instead of wrk's rounded human output.
-- summary.requests counts responses, summary.bytes the bytes read.

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d bytes=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d max_us=%d\n",
      summary.requests, summary.bytes, summary.duration,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency.max))
end
