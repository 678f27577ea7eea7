--[[
  Puts processing jobs that were not updated since a time back in the queue, due now, with
  their attempts unchanged (`loco jobs requeue`). Their old worker's outcome is then ignored.

    Input:
      KEYS[1] leases       sorted set: processing job id -> lease_until
      KEYS[2] lanes        set of lane ids that hold queued jobs
      KEYS[3] wake         list of wake tokens

      ARGV[1] base         '{<prefix>}', the hash-tagged start of every key, so that the
                           keys built here share KEYS[1]'s slot; job and lane keys are built from it
      ARGV[2] now          ms since the epoch
      ARGV[3] updated_before  jobs with updated_at <= this are moved
      ARGV[4] wake_max     most tokens kept in the wake list

    Output:
      the number of jobs moved
]]
--- @include "push-wake-tokens"
--- @include "running"

local prefix = ARGV[1]
local now = ARGV[2]
local before = tonumber(ARGV[3])

local moved = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = prefix .. ':job:' .. id
  local job = redis.call('HMGET', key, 'status', 'updated_at', 'lane')
  if job[1] == 'processing' and tonumber(job[2]) <= before then
    local lane = job[3]
    redis.call('ZREM', KEYS[1], id)
    countRunning(prefix, id, -1)
    redis.call('HSET', key, 'status', 'queued', 'run_at', now, 'updated_at', now)
    redis.call('ZADD', prefix .. ':lane:' .. lane, now, id)
    redis.call('SADD', KEYS[2], lane)
    moved = moved + 1
  end
end

pushWakeTokens(KEYS[3], moved, tonumber(ARGV[4]))
return moved
