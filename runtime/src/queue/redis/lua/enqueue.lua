--[[
  Adds jobs, all of them or none: every id is checked before anything is written.

  Each job gets its record and a place in its lane (scored by run_at). One wake token per job
  (at most wake_max) goes to the wake list, where idle workers block: for a due job the woken
  worker claims it; for a delayed one it learns from its claim when to look again. The first job
  keeps the call's token, so a call that ioredis sends again after a dropped connection is
  recognised and not refused as a duplicate.

    Input:
      KEYS[1] lanes        set of lane ids that hold queued jobs
      KEYS[2] names        set of job names that have jobs
      KEYS[3] wake         list of wake tokens

      ARGV[1] prefix       key prefix; job, lane and status keys are built from it
      ARGV[2] now          ms since the epoch
      ARGV[3] token        unique per call
      ARGV[4] wake_max     most tokens kept in the wake list
      ARGV[5..] per job, 8 values: id, name, lane id, task_data (JSON), run_at,
                interval ('' for none), max_attempts, created_at

    Output:
      the number of jobs written (0 for a resent call that was already applied)
      error 'LOCO_DUPLICATE_ID <id>' when a job with one of the ids exists; nothing is written
]]
--- @include "push-wake-tokens"
--- @include "call-in-chunks"

local prefix = ARGV[1]
local now = ARGV[2]
local token = ARGV[3]
local wakeMax = tonumber(ARGV[4])
local FIRST, WIDTH = 5, 8

local function jobKey(id)
  return prefix .. ':job:' .. id
end

if #ARGV < FIRST then
  return 0
end
local keys = {}
for i = FIRST, #ARGV, WIDTH do
  keys[#keys + 1] = jobKey(ARGV[i])
end
local existing = 0
for first = 1, #keys, 1000 do
  existing = existing + redis.call('EXISTS', unpack(keys, first, math.min(first + 999, #keys)))
end
if existing > 0 then
  if redis.call('HGET', keys[1], 'enqueue_token') == token then
    return 0
  end
  for n, key in ipairs(keys) do
    if redis.call('EXISTS', key) == 1 then
      return redis.error_reply('LOCO_DUPLICATE_ID ' .. ARGV[FIRST + (n - 1) * WIDTH])
    end
  end
end

local lanes, names = {}, {}
for i = FIRST, #ARGV, WIDTH do
  local id, name, lane, runAt, interval = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 4], ARGV[i + 5]
  local fields = {
    'name', name, 'lane', lane, 'task_data', ARGV[i + 3], 'status', 'queued', 'run_at', runAt,
    'attempts', '0', 'max_attempts', ARGV[i + 6], 'created_at', ARGV[i + 7], 'updated_at', now,
  }
  if interval ~= '' then
    fields[#fields + 1] = 'interval'
    fields[#fields + 1] = interval
  end
  if i == FIRST then
    fields[#fields + 1] = 'enqueue_token'
    fields[#fields + 1] = token
  end
  redis.call('HSET', jobKey(id), unpack(fields))
  local entries = lanes[lane] or {}
  entries[#entries + 1] = runAt
  entries[#entries + 1] = id
  lanes[lane] = entries
  names[name] = true
end

for lane, entries in pairs(lanes) do
  callInChunks('ZADD', prefix .. ':lane:' .. lane, entries)
  redis.call('SADD', KEYS[1], lane)
end
for name in pairs(names) do
  redis.call('SADD', KEYS[2], name)
end
pushWakeTokens(KEYS[3], #keys, wakeMax)

return #keys
