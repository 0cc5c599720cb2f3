-- wrk hook for scripts/bench.sh: after the run, one machine-readable line
--   BENCH {"requests":…, "bytes":…, "seconds":…, "rps":…, "p50_us":…, …}
-- done() runs once at the end, so it costs nothing per request. "bad" counts socket errors
-- and non-2xx/3xx answers; bytes/request shows that the upstream's body was served (a 302
-- to a login page would be much smaller than the 1 KiB file).
function done(summary, latency, requests)
   local e = summary.errors
   local seconds = summary.duration / 1e6
   io.write(string.format(
      'BENCH {"requests":%d,"bytes":%d,"seconds":%.3f,"rps":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f,"bad":%d,"status_errors":%d}\n',
      summary.requests, summary.bytes, seconds, summary.requests / seconds,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
      latency.max, latency.mean,
      e.connect + e.read + e.write + e.timeout + e.status, e.status))
end
