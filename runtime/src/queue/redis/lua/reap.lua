--[[
  Returns processing jobs whose lease ran out (their worker died or hung) to the queue at their
  own place (their run_at, in their lane), or ends them `failed` when no attempts are left; either
  way `message` becomes their last_error. At most `batch` jobs per call.

    Input:
      KEYS[1] leases       sorted set: processing job id -> lease_until
      KEYS[2] lanes        set of lane ids that hold queued jobs
      KEYS[3] wake         list of wake tokens

      ARGV[1] base         '{<prefix>}', the hash-tagged start of every key, so that the
                           keys built here share KEYS[1]'s slot; job, lane and status keys are built from it
      ARGV[2] now          ms since the epoch; leases with lease_until < now have run out
      ARGV[3] batch        most jobs to move in this call
      ARGV[4] wake_max     most tokens kept in the wake list
      ARGV[5] message      why the job came back, recorded as its last_error

    Output:
      { moved, examined }: jobs moved, lease entries looked at (a full batch means call again)
]]
--- @include "push-wake-tokens"
--- @include "release-key"
--- @include "running"

local prefix = ARGV[1]
local now = ARGV[2]

local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now, 'LIMIT', 0, tonumber(ARGV[3]))
local moved, due = 0, 0
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[1], id)
  local key = prefix .. ':job:' .. id
  local job = redis.call('HMGET', key, 'status', 'attempts', 'max_attempts', 'name', 'lane', 'run_at')
  if job[1] == 'processing' then
    local name, lane = job[4], job[5]
    countRunning(prefix, id, -1)
    if tonumber(job[2]) < tonumber(job[3]) then
      redis.call('HSET', key, 'status', 'queued', 'last_error', ARGV[5], 'updated_at', now)
      redis.call('ZADD', prefix .. ':lane:' .. lane, job[6], id)
      redis.call('SADD', KEYS[2], lane)
      due = due + 1
    else
      redis.call('HSET', key, 'status', 'failed', 'last_error', ARGV[5], 'updated_at', now)
      redis.call('ZADD', prefix .. ':status:failed:' .. name, now, id)
      releaseKey(prefix, id, name)
    end
    moved = moved + 1
  end
end

pushWakeTokens(KEYS[3], due, tonumber(ARGV[4]))
return { moved, #expired }
