-- Rate-limited (open-loop-ish) wrk for scripts/bench.sh:
--   wrk -tT -cC -dD -s paced.lua URL -- RATE T
-- Each wrk thread keeps a schedule of send slots RATE/T per second apart (wall clock via
-- LuaJIT's ffi + clock_gettime); a connection that finished its previous response waits for
-- the next free slot (wrk's delay() hook). Slots missed by more than 5 ms are dropped rather
-- than sent in a burst, so the achieved rate (printed) can fall short of RATE when the server
-- cannot keep up. wrk timers have 1 ms resolution, so sends are grouped at millisecond ticks
-- (about RATE/1000 requests per tick): a little burstier than a perfectly paced generator.
-- Latency is measured from the actual send, like plain wrk.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
   ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
   return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local interval, next_slot

function init(args)
   local rate = tonumber(args[1])
   local threads = tonumber(args[2] or "1")
   interval = 1000 * threads / rate
   next_slot = now_ms()
end

function delay()
   local now = now_ms()
   if next_slot < now - 5 then next_slot = now end
   local wait = next_slot - now
   next_slot = next_slot + interval
   if wait <= 0 then return 0 end
   return math.floor(wait + 0.5)
end
