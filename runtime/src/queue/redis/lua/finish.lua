--[[
  Applies the outcomes of claimed jobs (worked out by queue/outcome.ts). An outcome counts only
  while its job is still `processing` with the attempts it was claimed with (a fencing token): a
  worker whose lease ran out cannot overwrite a newer attempt, and a call sent again after a
  dropped connection changes nothing the second time. A job that ends frees its unique key.

    Input:
      KEYS[1] leases       sorted set: processing job id -> lease_until
      KEYS[2] lanes        set of lane ids that hold queued jobs
      KEYS[3] wake         list of wake tokens

      ARGV[1] base         '{<prefix>}', the hash-tagged start of every key, so that the
                           keys built here share KEYS[1]'s slot; job, lane and status keys are built from it
      ARGV[2] now          ms since the epoch
      ARGV[3] wake_max     most tokens kept in the wake list
      ARGV[4] wake_also    more idle workers to wake (jobs of names with a concurrency limit
                           ended, so a slot is free)
      ARGV[5..] per outcome, 7 values: id, claimed attempts, new status (completed | queued |
                failed), run_at ('' keeps the job's), attempts to store, error mode (keep |
                clear | set), error ('' unless set)

    Output:
      the number of outcomes recorded
]]
--- @include "push-wake-tokens"
--- @include "call-in-chunks"
--- @include "release-key"
--- @include "running"

local prefix = ARGV[1]
local now = ARGV[2]
local wakeMax = tonumber(ARGV[3])
local FIRST, WIDTH = 5, 7

local recorded, due = 0, 0
local released = {} -- ids whose lease ends
local finished = {} -- status key -> { now, id, now, id, ... }
local lanes = {}

local function index(status, name, id)
  local key = prefix .. ':status:' .. status .. ':' .. name
  local entries = finished[key] or {}
  entries[#entries + 1] = now
  entries[#entries + 1] = id
  finished[key] = entries
end

for i = FIRST, #ARGV, WIDTH do
  local id, attempts, status, runAt = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local nextAttempts, errorMode = ARGV[i + 4], ARGV[i + 5]
  local key = prefix .. ':job:' .. id
  local job = redis.call('HMGET', key, 'status', 'attempts', 'name', 'lane', 'run_at', 'ckey', 'key', 'counted')
  if job[1] == 'processing' and job[2] == attempts then
    released[#released + 1] = id
    countRunningOf(prefix, job[3], job[6], job[8], -1)
    redis.call('HSET', key, 'status', status, 'attempts', nextAttempts, 'updated_at', now)
    if errorMode == 'set' then
      redis.call('HSET', key, 'last_error', ARGV[i + 6])
    elseif errorMode == 'clear' then
      redis.call('HDEL', key, 'last_error')
    end
    if status == 'queued' then
      if runAt == '' then
        runAt = job[5]
      else
        redis.call('HSET', key, 'run_at', runAt)
      end
      redis.call('ZADD', prefix .. ':lane:' .. job[4], runAt, id)
      lanes[job[4]] = true
      if tonumber(runAt) <= tonumber(now) then
        due = due + 1
      end
    else
      index(status, job[3], id)
      releaseKeyOf(prefix, id, job[3], job[7])
    end
    recorded = recorded + 1
  end
end

callInChunks('ZREM', KEYS[1], released)
for key, entries in pairs(finished) do
  callInChunks('ZADD', key, entries)
end
for lane in pairs(lanes) do
  redis.call('SADD', KEYS[2], lane)
end
pushWakeTokens(KEYS[3], due + tonumber(ARGV[4]), wakeMax)

return recorded
