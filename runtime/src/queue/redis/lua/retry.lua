--[[
  Puts finished jobs (failed, or cancelled when asked) back in the queue, due now, with their
  attempts reset and their args and last error kept. A job keeps its unique key unless another
  live job holds it. At most `batch` jobs per call, so a large retry does not hold Redis long.

    Input:
      KEYS[1] lanes        set of lane ids that hold queued jobs
      KEYS[2] names        set of job names that have jobs
      KEYS[3] wake         list of wake tokens

      ARGV[1] base         '{<prefix>}', the hash-tagged start of every key, so that the
                           keys built here share KEYS[1]'s slot; job, lane, keys and status keys are built from it
      ARGV[2] now          ms since the epoch
      ARGV[3] statuses     JSON array of the statuses to retry (failed, cancelled)
      ARGV[4] ids          JSON array of ids to consider; '' for every job
      ARGV[5] name         only jobs of this name; '' for every name
      ARGV[6] batch        most jobs to move in this call
      ARGV[7] wake_max     most tokens kept in the wake list

    Output:
      the number of jobs moved (a full batch means call again)
]]
--- @include "push-wake-tokens"

local prefix = ARGV[1]
local now = ARGV[2]
local onlyName = ARGV[5]
local batch = tonumber(ARGV[6])

local allowed = {}
for _, status in ipairs(cjson.decode(ARGV[3])) do
  allowed[status] = true
end

local moved = 0

local function consider(id)
  local key = prefix .. ':job:' .. id
  local job = redis.call('HMGET', key, 'status', 'name', 'lane', 'key')
  local status, name, lane, uniqueKey = job[1], job[2], job[3], job[4]
  if not status or not allowed[status] or (onlyName ~= '' and name ~= onlyName) then
    return
  end
  redis.call('ZREM', prefix .. ':status:' .. status .. ':' .. name, id)
  redis.call('HSET', key, 'status', 'queued', 'attempts', '0', 'run_at', now, 'updated_at', now)
  redis.call('ZADD', prefix .. ':lane:' .. lane, now, id)
  redis.call('SADD', KEYS[1], lane)
  if uniqueKey then
    local keys = prefix .. ':keys:' .. name
    local holder = redis.call('HGET', keys, uniqueKey)
    local held = holder and holder ~= id and redis.call('HGET', prefix .. ':job:' .. holder, 'status')
    if held == 'queued' or held == 'processing' then
      redis.call('HDEL', key, 'key')
    else
      redis.call('HSET', keys, uniqueKey, id)
    end
  end
  moved = moved + 1
end

local function considerAll(ids)
  for _, id in ipairs(ids) do
    if moved >= batch then
      return
    end
    consider(id)
  end
end

if ARGV[4] ~= '' then
  considerAll(cjson.decode(ARGV[4]))
else
  local names = onlyName ~= '' and { onlyName } or redis.call('SMEMBERS', KEYS[2])
  for _, name in ipairs(names) do
    for status in pairs(allowed) do
      if moved < batch then
        considerAll(redis.call('ZRANGE', prefix .. ':status:' .. status .. ':' .. name, 0, batch - moved - 1))
      end
    end
  end
end

pushWakeTokens(KEYS[3], moved, tonumber(ARGV[7]))
return moved
