--[[
  Adds jobs, all of them or none: every id is checked before anything is written.

  Each job gets its record and a place in its lane (scored by run_at). One wake token per job
  (at most wake_max) goes to the wake list, where idle workers block: for a due job the woken
  worker claims it; for a delayed one it learns from its claim when to look again. The first job
  keeps the call's token, so a call that ioredis sends again after a dropped connection is
  recognised and answered as the first call was, not refused as a duplicate.

  Unique keys: `keys:<name>` maps each live key of that name to its job. A job whose key maps to
  a queued job is not added: that job is kept as it is (`keep`) or takes the new args and run
  time (`replace`). A key held by a processing job passes to the new job. The caller folds jobs
  of one call that share a key, so a call holds each key once.

  A job restored from a dump may come with a finished status (completed, failed, cancelled),
  its attempts, last error and update time; it goes to its status index instead of a lane.

    Input:
      KEYS[1] lanes        set of lane ids that hold queued jobs
      KEYS[2] names        set of job names that have jobs
      KEYS[3] wake         list of wake tokens

      ARGV[1] base         '{<prefix>}', the hash-tagged start of every key, so that the
                           keys built here share KEYS[1]'s slot; job, lane, keys and status keys are built from it
      ARGV[2] now          ms since the epoch
      ARGV[3] token        unique per call
      ARGV[4] wake_max     most tokens kept in the wake list
      ARGV[5] on_conflict  'keep' or 'replace'
      ARGV[6..] per job, 8 values: id, name, lane id, task_data (JSON), run_at, max_attempts,
                key ('' for none), and '' or a JSON object of the fields few jobs have, each
                a string: interval, ckey (concurrency key), traceparent, and for a job restored
                from a dump created_at, status (queued or a finished status), attempts,
                last_error and updated_at (absent: no interval, key or trace, created and
                updated now, queued with no attempts)

    Output:
      { n_1, id_1, n_2, id_2, ... }: for each job that was not added because its key matched
      a live job, its place in the call (1 for the first job) and the matched job's id; every
      job not listed was added under its own id (so a call that adds all its jobs gets {})
      error 'LOCO_DUPLICATE_ID <id>' when a job with one of the ids exists; nothing is written
]]
--- @include "push-wake-tokens"
--- @include "call-in-chunks"

local prefix = ARGV[1]
local now = ARGV[2]
local token = ARGV[3]
local wakeMax = tonumber(ARGV[4])
local replace = ARGV[5] == 'replace'
local FIRST, WIDTH = 6, 8
-- The fields of the last value, besides those that choose a job's status and times.
local NONE = {}
local RARE_FIELDS = { 'interval', 'last_error', 'ckey', 'traceparent' }

local function jobKey(id)
  return prefix .. ':job:' .. id
end

-- The live job holding a key, and its status.
local function holderOf(name, key)
  local id = redis.call('HGET', prefix .. ':keys:' .. name, key)
  if not id then
    return nil
  end
  local status = redis.call('HGET', jobKey(id), 'status')
  if status == 'queued' or status == 'processing' then
    return id, status
  end
  return nil
end

if #ARGV < FIRST then
  return {}
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
    -- The same call again: answer as the first one did.
    local reply = {}
    for i = FIRST, #ARGV, WIDTH do
      local id, key, name = ARGV[i], ARGV[i + 6], ARGV[i + 1]
      if redis.call('EXISTS', jobKey(id)) == 0 then
        reply[#reply + 1] = (i - FIRST) / WIDTH + 1
        reply[#reply + 1] = redis.call('HGET', prefix .. ':keys:' .. name, key) or id
      end
    end
    return reply
  end
  for n, key in ipairs(keys) do
    if redis.call('EXISTS', key) == 1 then
      return redis.error_reply('LOCO_DUPLICATE_ID ' .. ARGV[FIRST + (n - 1) * WIDTH])
    end
  end
end

local reply = {}
local lanes, names, finished = {}, {}, {}
local due = 0
for i = FIRST, #ARGV, WIDTH do
  local id, name, lane, runAt, key = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 4], ARGV[i + 6]
  local rare = ARGV[i + 7] ~= '' and cjson.decode(ARGV[i + 7]) or NONE
  local status = rare.status or 'queued'
  local holder, holderStatus
  if key ~= '' and status == 'queued' then
    holder, holderStatus = holderOf(name, key)
  end
  if holderStatus == 'queued' then
    if replace then
      local held = redis.call('HMGET', jobKey(holder), 'lane')
      redis.call('HSET', jobKey(holder), 'task_data', ARGV[i + 3], 'run_at', runAt, 'updated_at', now)
      redis.call('ZADD', prefix .. ':lane:' .. held[1], runAt, holder)
      due = due + 1
    end
    reply[#reply + 1] = (i - FIRST) / WIDTH + 1
    reply[#reply + 1] = holder
  else
    if holderStatus == 'processing' then
      redis.call('HDEL', jobKey(holder), 'key')
    end
    local fields = {
      'name', name, 'lane', lane, 'task_data', ARGV[i + 3], 'status', status, 'run_at', runAt,
      'attempts', rare.attempts or '0', 'max_attempts', ARGV[i + 5], 'created_at', rare.created_at or now,
      'updated_at', rare.updated_at or now,
    }
    if rare ~= NONE then
      for _, field in ipairs(RARE_FIELDS) do
        if rare[field] then
          fields[#fields + 1] = field
          fields[#fields + 1] = rare[field]
        end
      end
    end
    if key ~= '' then
      fields[#fields + 1] = 'key'
      fields[#fields + 1] = key
    end
    if i == FIRST then
      fields[#fields + 1] = 'enqueue_token'
      fields[#fields + 1] = token
    end
    redis.call('HSET', jobKey(id), unpack(fields))
    if status == 'queued' then
      local entries = lanes[lane] or {}
      entries[#entries + 1] = runAt
      entries[#entries + 1] = id
      lanes[lane] = entries
      if key ~= '' then
        redis.call('HSET', prefix .. ':keys:' .. name, key, id)
      end
      due = due + 1
    else
      local statusKey = prefix .. ':status:' .. status .. ':' .. name
      local entries = finished[statusKey] or {}
      entries[#entries + 1] = rare.updated_at or now
      entries[#entries + 1] = id
      finished[statusKey] = entries
    end
    names[name] = true
  end
end

for lane, entries in pairs(lanes) do
  callInChunks('ZADD', prefix .. ':lane:' .. lane, entries)
  redis.call('SADD', KEYS[1], lane)
end
for statusKey, entries in pairs(finished) do
  callInChunks('ZADD', statusKey, entries)
end
for name in pairs(names) do
  redis.call('SADD', KEYS[2], name)
end
pushWakeTokens(KEYS[3], due, wakeMax)

return reply
