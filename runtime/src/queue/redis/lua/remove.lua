--[[
  Deletes jobs in some statuses, optionally only those last updated before a time and only
  some ids. Deletes at most `batch` jobs per call, so a large purge does not hold Redis for long.

  Finished jobs are found through their status index (scored by updated_at), queued jobs
  through their lanes and processing jobs through the leases.

    Input:
      KEYS[1] lanes        set of lane ids that hold queued jobs
      KEYS[2] leases       sorted set: processing job id -> lease_until
      KEYS[3] names        set of job names that have jobs

      ARGV[1] base         '{<prefix>}', the hash-tagged start of every key, so that the
                           keys built here share KEYS[1]'s slot; job, lane and status keys are built from it
      ARGV[2] statuses     JSON array of statuses
      ARGV[3] updated_before  only jobs with updated_at < this; '' for any
      ARGV[4] ids          JSON array of ids to consider; '' for every job
      ARGV[5] batch        most jobs to delete in this call

    Output:
      the number of jobs deleted (a full batch means call again)
]]
--- @include "release-key"
--- @include "running"

local prefix = ARGV[1]
local before = tonumber(ARGV[3])
local batch = tonumber(ARGV[5])

local allowed = {}
for _, status in ipairs(cjson.decode(ARGV[2])) do
  allowed[status] = true
end

local deleted = 0

-- Deletes the job if it is in an allowed status and old enough.
local function consider(id)
  local key = prefix .. ':job:' .. id
  local job = redis.call('HMGET', key, 'status', 'name', 'lane', 'updated_at')
  local status = job[1]
  if not status or not allowed[status] or (before and tonumber(job[4]) >= before) then
    return
  end
  if status == 'queued' then
    local laneKey = prefix .. ':lane:' .. job[3]
    redis.call('ZREM', laneKey, id)
    if redis.call('ZCARD', laneKey) == 0 then
      redis.call('SREM', KEYS[1], job[3])
    end
  elseif status == 'processing' then
    redis.call('ZREM', KEYS[2], id)
    countRunning(prefix, id, -1)
  else
    redis.call('ZREM', prefix .. ':status:' .. status .. ':' .. job[2], id)
  end
  releaseKey(prefix, id, job[2])
  redis.call('DEL', key)
  deleted = deleted + 1
end

local function considerAll(ids)
  for _, id in ipairs(ids) do
    if deleted >= batch then
      return
    end
    consider(id)
  end
end

if ARGV[4] ~= '' then
  considerAll(cjson.decode(ARGV[4]))
  return deleted
end

local upper = before and '(' .. ARGV[3] or '+inf'
for _, name in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  for _, status in ipairs({ 'completed', 'failed', 'cancelled' }) do
    if allowed[status] and deleted < batch then
      local statusKey = prefix .. ':status:' .. status .. ':' .. name
      considerAll(redis.call('ZRANGEBYSCORE', statusKey, '-inf', upper, 'LIMIT', 0, batch - deleted))
    end
  end
end
if allowed['queued'] then
  for _, lane in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    considerAll(redis.call('ZRANGE', prefix .. ':lane:' .. lane, 0, -1))
  end
end
if allowed['processing'] then
  considerAll(redis.call('ZRANGE', KEYS[2], 0, -1))
end

return deleted
