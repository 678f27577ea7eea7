--[[
  Claims up to `limit` due jobs for one worker process, atomically.

  Queued jobs wait in lanes (one sorted set per queue, job name, tag set and job priority, scored
  by run_at). The script keeps only the lanes this process may take from (job names it has
  workers for, tag rules 1-4, names and queues not paused), walks them in `queues:` order (listed
  queues first, in order; then the default queue and any other), within a queue from the highest
  job priority down, and takes the oldest due jobs, merged across the lanes of one queue and
  priority. Lanes it may not take from are never touched: their jobs keep their places.

  Flow control: a name with a rate limit takes jobs while its window (`starts:<name>`, start
  times) has room; a name with a concurrency limit takes a job while fewer than the limit of its
  jobs with the same concurrency key are processing (the `running` hash, which counts only the
  jobs of names claimed with a concurrency limit: see includes/running.lua). Jobs of a key at its
  limit are passed over and keep their places.

  Each call carries a token unique to the client and call, kept under KEYS[3] and on the jobs it
  claims. When the client sends the same call again (ioredis resends unanswered commands after a
  dropped connection), those jobs are returned instead of claiming more, so no job is left
  `processing` without a worker.

  Outcomes of jobs this process ran may come with the claim (ARGV[14..]): they are applied first,
  as finish.lua would (includes/finish-outcomes.lua), so the slots they free count, and the
  worker saves a call. A resent call returns the first call's jobs: that call applied them.

    Input:
      KEYS[1] lanes        set of lane ids that hold queued jobs
      KEYS[2] leases       sorted set: processing job id -> lease_until
      KEYS[3] claimed      the token of this client's last claim (string)
      KEYS[4] paused       set: 'worker:<name>' and 'queue:<name>' of what is paused
      KEYS[5] running      hash: '<name>\0<concurrency key>' -> jobs processing
      KEYS[6] wake         list of wake tokens (outcomes that queue a job again push to it)

      ARGV[1] base         '{<prefix>}', the hash-tagged start of every key, so that the
                           keys built here share KEYS[1]'s slot; job and lane keys are built from it
      ARGV[2] now          ms since the epoch; jobs with run_at <= now are due
      ARGV[3] lease_until  ms since the epoch, given to each claimed job
      ARGV[4] limit        most jobs to claim
      ARGV[5] names        JSON array: the job names this process has workers for
      ARGV[6] tags         JSON array: the process's tags (empty: untagged jobs only)
      ARGV[7] any_tag      '1': take jobs whatever their tags
      ARGV[8] queues       JSON array: named queues in priority order
      ARGV[9] token        unique per client and call; a resent call has the same one
      ARGV[10] record_ms   how long KEYS[3] is kept (the lease)
      ARGV[11] limits      JSON object: name -> { concurrency, rate_max, rate_ms } ('' when none)
      ARGV[12] wake_max    most tokens kept in the wake list
      ARGV[13] wake_also   more idle workers to wake (outcomes of names with a concurrency limit)
      ARGV[14..] outcomes to apply first, as finish.lua takes them (none: no ARGV[14])

    Output:
      { next_due, reopens_at, then runs of jobs of one lane: lane, count, and count times id,
        attempts, task_data, interval, max_attempts, traceparent }; the jobs in claim order (a
        resent call: in lease order, where one lane may make several runs)
      next_due: the earliest run_at not yet due in the lanes this process may take from, or -1
      reopens_at: when the earliest rate window without room opens again, or -1
      interval, traceparent: '' when the job has none
]]
--- @include "call-in-chunks"
--- @include "push-wake-tokens"
--- @include "release-key"
--- @include "running"
--- @include "finish-outcomes"

local prefix = ARGV[1]
local now = ARGV[2]
local leaseUntil = ARGV[3]
local limit = tonumber(ARGV[4])

local function jobKey(id)
  return prefix .. ':job:' .. id
end

local token = ARGV[9]

local reply = { '-1', '-1' }
-- Where the count of the run of jobs being added sits in the reply, and its lane.
local runCountAt, runLane = 0, nil

-- Adds a claimed job to the reply: a job of another lane than the one before starts a run.
local function addToReply(lane, id, attempts, taskData, interval, maxAttempts, traceparent)
  local n = #reply
  if lane ~= runLane then
    reply[n + 1] = lane
    reply[n + 2] = 0
    runCountAt, runLane = n + 2, lane
    n = n + 2
  end
  reply[runCountAt] = reply[runCountAt] + 1
  reply[n + 1] = id
  reply[n + 2] = attempts
  reply[n + 3] = taskData
  reply[n + 4] = interval or ''
  reply[n + 5] = maxAttempts
  reply[n + 6] = traceparent or ''
end

-- A resent call (the client's last claim number again): answer with the jobs the first call
-- claimed that are still processing under it. They hold leases, so the leases find them.
if redis.call('SET', KEYS[3], token, 'PX', ARGV[10], 'GET') == token then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    local job = redis.call('HMGET', jobKey(id), 'status', 'claim', 'lane', 'attempts', 'task_data', 'interval', 'max_attempts', 'traceparent')
    if job[1] == 'processing' and job[2] == token then
      addToReply(job[3], id, job[4], job[5], job[6], job[7], job[8])
    end
  end
  return reply
end

if #ARGV >= 14 then
  finishOutcomes(prefix, { leases = KEYS[2], lanes = KEYS[1], wake = KEYS[6] }, now, tonumber(ARGV[12]), tonumber(ARGV[13]), ARGV, 14)
end

local names = {}
for _, name in ipairs(cjson.decode(ARGV[5])) do
  names[name] = true
end
local tags = cjson.decode(ARGV[6])
local tagSet = {}
for _, tag in ipairs(tags) do
  tagSet[tag] = true
end
local anyTag = ARGV[7] == '1'
local queues = cjson.decode(ARGV[8])
local rank = {}
for position, queue in ipairs(queues) do
  rank[queue] = position
end
local lastRank = #queues + 1
local limits = ARGV[11] ~= '' and cjson.decode(ARGV[11]) or {}

-- Tag rules 1-4: no tags takes untagged jobs only; tags take jobs with at least one of them,
-- compared exactly.
local function mayTake(jobTags)
  if anyTag then
    return true
  end
  if #tags == 0 then
    return #jobTags == 0
  end
  for _, tag in ipairs(jobTags) do
    if tagSet[tag] then
      return true
    end
  end
  return false
end

-- Room left in each rate-limited name's window, and the jobs taken of each name and key.
local rateRoom, takenByKey = {}, {}
for name, limited in pairs(limits) do
  if names[name] and limited.rate_max ~= cjson.null and limited.rate_max then
    local starts = prefix .. ':starts:' .. name
    redis.call('ZREMRANGEBYSCORE', starts, '-inf', tonumber(now) - limited.rate_ms)
    rateRoom[name] = limited.rate_max - redis.call('ZCARD', starts)
  end
end

-- A name's concurrency limit, or nil when it has none.
local function concurrencyOf(name)
  local limited = limits[name]
  if limited and limited.concurrency and limited.concurrency ~= cjson.null then
    return limited.concurrency
  end
  return nil
end

-- Whether one more job of a name with a concurrency key may be taken.
local function allows(name, ckey)
  if rateRoom[name] and rateRoom[name] <= 0 then
    return false
  end
  local concurrency = concurrencyOf(name)
  if not concurrency then
    return true
  end
  local field = name .. '\0' .. ckey
  local running = tonumber(redis.call('HGET', KEYS[5], field) or '0')
  return running + (takenByKey[field] or 0) < concurrency
end

-- What is paused, read once for every lane.
local pausedSet = {}
for _, member in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  pausedSet[member] = true
end

-- A lane id is the JSON of [queue, name, tags, priority], and holds each of its strings in quotes
-- as written. So while every name of this process is printable ASCII without quote or backslash
-- (which JSON writes as they are), a lane whose id holds none of them in quotes is of a name this
-- process does not take, and is passed over without decoding it.
local quotedNames = {}
for name in pairs(names) do
  if string.find(name, '[%c"\\\128-\255]') then
    quotedNames = nil
    break
  end
  quotedNames[#quotedNames + 1] = '"' .. name .. '"'
end
local function mayHoldOurs(id)
  if not quotedNames then
    return true
  end
  for _, quoted in ipairs(quotedNames) do
    if string.find(id, quoted, 1, true) then
      return true
    end
  end
  return false
end

local lanes = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if mayHoldOurs(id) then
    local lane = cjson.decode(id) -- [queue, name, tags, priority]; lanes made before priorities have 3
    local queue, name = lane[1], lane[2]
    local paused = pausedSet['worker:' .. name] or (type(queue) == 'string' and pausedSet['queue:' .. queue])
    if names[name] and mayTake(lane[3]) and not paused and not (rateRoom[name] and rateRoom[name] <= 0) then
      lanes[#lanes + 1] = {
        id = id,
        key = prefix .. ':lane:' .. id,
        name = name,
        rank = (type(queue) == 'string' and rank[queue]) or lastRank,
        priority = tonumber(lane[4]) or 0,
        limited = limits[name] ~= nil,
        counted = concurrencyOf(name) ~= nil,
        pos = 0,
        taken = {},
      }
    end
  end
end
table.sort(lanes, function(a, b)
  if a.rank ~= b.rank then
    return a.rank < b.rank
  end
  if a.priority ~= b.priority then
    return a.priority > b.priority
  end
  return a.id < b.id
end)

local leases = {}
local taken = 0

-- The lane's next job this claim may take, and its run_at (when its scores were read: only to
-- merge lanes); jobs over a limit are passed over. A limited lane's head leaves its concurrency
-- key in lane.ckey.
local function headOf(lane)
  while true do
    local at = lane.stride * lane.pos
    local id = lane.due[at + 1]
    if not id then
      return nil
    end
    local runAt = lane.stride == 2 and tonumber(lane.due[at + 2]) or nil
    if not lane.limited then
      return id, runAt
    end
    if rateRoom[lane.name] and rateRoom[lane.name] <= 0 then
      return nil
    end
    local ckey = redis.call('HGET', jobKey(id), 'ckey') or ''
    if allows(lane.name, ckey) then
      lane.ckey = ckey
      return id, runAt
    end
    lane.pos = lane.pos + 1
  end
end

local function claim(lane, id)
  local key = jobKey(id)
  local job = redis.call('HMGET', key, 'attempts', 'task_data', 'interval', 'max_attempts', 'traceparent')
  local attempts = tostring(tonumber(job[1]) + 1)
  local counted = lane.counted and '1' or '0'
  redis.call('HSET', key, 'status', 'processing', 'attempts', attempts, 'updated_at', now, 'claim', token, 'counted', counted)
  -- Only a limited lane's jobs are counted, and headOf read their key.
  countRunningOf(prefix, lane.name, lane.ckey, counted, 1)
  if lane.limited then
    local field = lane.name .. '\0' .. lane.ckey
    takenByKey[field] = (takenByKey[field] or 0) + 1
    if rateRoom[lane.name] then
      rateRoom[lane.name] = rateRoom[lane.name] - 1
      redis.call('ZADD', prefix .. ':starts:' .. lane.name, now, id .. ':' .. attempts)
    end
  end
  leases[#leases + 1] = leaseUntil
  leases[#leases + 1] = id
  addToReply(lane.id, id, attempts, job[2], job[3], job[4], job[5])
  lane.taken[#lane.taken + 1] = id
  lane.pos = lane.pos + 1
  taken = taken + 1
end

-- One named queue and job priority at a time: the oldest due jobs across its lanes, by run_at
-- then id, merged head by head (a lone lane's scores are not read: nothing is merged). A lane
-- with limits reads further ahead, since it may pass over jobs of keys at their limit.
local first = 1
while first <= #lanes and taken < limit do
  local last = first
  while lanes[last + 1] and lanes[last + 1].rank == lanes[first].rank
    and lanes[last + 1].priority == lanes[first].priority do
    last = last + 1
  end
  local want = limit - taken
  for i = first, last do
    local lane = lanes[i]
    local count = lane.limited and want * 20 or want
    if first == last then
      lane.stride = 1
      lane.due = redis.call('ZRANGEBYSCORE', lane.key, '-inf', now, 'LIMIT', 0, count)
    else
      lane.stride = 2
      lane.due = redis.call('ZRANGEBYSCORE', lane.key, '-inf', now, 'WITHSCORES', 'LIMIT', 0, count)
    end
  end
  while taken < limit do
    local best, bestRunAt, bestId
    for i = first, last do
      local lane = lanes[i]
      local id, runAt = headOf(lane)
      if id and (not best or runAt < bestRunAt or (runAt == bestRunAt and id < bestId)) then
        best, bestRunAt, bestId = lane, runAt, id
      end
    end
    if not best then
      break
    end
    claim(best, bestId)
  end
  first = last + 1
end

for _, lane in ipairs(lanes) do
  if #lane.taken > 0 then
    callInChunks('ZREM', lane.key, lane.taken)
    if redis.call('ZCARD', lane.key) == 0 then
      redis.call('SREM', KEYS[1], lane.id)
    end
  end
end
callInChunks('ZADD', KEYS[2], leases)

-- Fewer jobs than asked for: tell the caller when the next one is due, and when a rate window
-- without room opens again, so an idle worker sleeps until then.
if taken < limit then
  local nextDue
  for _, lane in ipairs(lanes) do
    local head = redis.call('ZRANGE', lane.key, 0, 0, 'WITHSCORES')
    if head[2] and (nextDue == nil or tonumber(head[2]) < tonumber(nextDue)) then
      nextDue = head[2]
    end
  end
  if nextDue then
    reply[1] = nextDue
  end
  local reopens
  for name, room in pairs(rateRoom) do
    if room <= 0 then
      local start = redis.call('ZREVRANGE', prefix .. ':starts:' .. name, limits[name].rate_max - 1, limits[name].rate_max - 1, 'WITHSCORES')
      if start[2] then
        local at = tonumber(start[2]) + limits[name].rate_ms
        if not reopens or at < reopens then
          reopens = at
        end
      end
    end
  end
  if reopens then
    reply[2] = tostring(reopens)
  end
end

return reply
