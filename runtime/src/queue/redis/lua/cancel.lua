--[[
  Cancels queued jobs (due or delayed) of one name: every one, or only those of a list of ids.
  They end `cancelled` (freeing their unique keys) and leave their lanes, which hold only jobs of
  that name; a lane left empty leaves the set of lanes.

    Input:
      KEYS[1] lanes        set of lane ids that hold queued jobs

      ARGV[1] base         '{<prefix>}', the hash-tagged start of every key, so that the
                           keys built here share KEYS[1]'s slot; job, lane and status keys are built from it
      ARGV[2] now          ms since the epoch
      ARGV[3] name         the job name
      ARGV[4] ids          JSON array of job ids to cancel, or '' for every queued job of the name

    Output:
      the number of jobs cancelled
]]
--- @include "release-key"

local prefix = ARGV[1]
local now = ARGV[2]
local name = ARGV[3]
local cancelledKey = prefix .. ':status:cancelled:' .. name

local function settle(id)
  redis.call('HSET', prefix .. ':job:' .. id, 'status', 'cancelled', 'updated_at', now)
  redis.call('ZADD', cancelledKey, now, id)
  releaseKey(prefix, id, name)
end

local cancelled = 0
if ARGV[4] ~= '' then
  for _, id in ipairs(cjson.decode(ARGV[4])) do
    local job = redis.call('HMGET', prefix .. ':job:' .. id, 'status', 'name', 'lane')
    if job[1] == 'queued' and job[2] == name then
      local laneKey = prefix .. ':lane:' .. job[3]
      redis.call('ZREM', laneKey, id)
      if redis.call('ZCARD', laneKey) == 0 then
        redis.call('DEL', laneKey)
        redis.call('SREM', KEYS[1], job[3])
      end
      settle(id)
      cancelled = cancelled + 1
    end
  end
  return cancelled
end

for _, lane in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if cjson.decode(lane)[2] == name then -- [queue, name, tags, priority]
    local laneKey = prefix .. ':lane:' .. lane
    for _, id in ipairs(redis.call('ZRANGE', laneKey, 0, -1)) do
      settle(id)
      cancelled = cancelled + 1
    end
    redis.call('DEL', laneKey)
    redis.call('SREM', KEYS[1], lane)
  end
end

return cancelled
