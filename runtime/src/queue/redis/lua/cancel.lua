--[[
  Cancels every queued job (due or delayed) of one name: they end `cancelled` (freeing their
  unique keys), and their lanes, which hold only jobs of that name, are emptied.

    Input:
      KEYS[1] lanes        set of lane ids that hold queued jobs

      ARGV[1] base         '{<prefix>}', the hash-tagged start of every key, so that the
                           keys built here share KEYS[1]'s slot; job, lane and status keys are built from it
      ARGV[2] now          ms since the epoch
      ARGV[3] name         the job name

    Output:
      the number of jobs cancelled
]]
--- @include "release-key"

local prefix = ARGV[1]
local now = ARGV[2]
local name = ARGV[3]
local cancelledKey = prefix .. ':status:cancelled:' .. name

local cancelled = 0
for _, lane in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if cjson.decode(lane)[2] == name then -- [queue, name, tags, priority]
    local laneKey = prefix .. ':lane:' .. lane
    for _, id in ipairs(redis.call('ZRANGE', laneKey, 0, -1)) do
      redis.call('HSET', prefix .. ':job:' .. id, 'status', 'cancelled', 'updated_at', now)
      redis.call('ZADD', cancelledKey, now, id)
      releaseKey(prefix, id, name)
      cancelled = cancelled + 1
    end
    redis.call('DEL', laneKey)
    redis.call('SREM', KEYS[1], lane)
  end
end

return cancelled
