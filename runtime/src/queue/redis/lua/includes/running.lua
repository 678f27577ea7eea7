--[[
  countRunningOf(prefix, name, ckey, counted, delta): adds delta to the running count of a name and
  concurrency key (`ckey`, false for none) in the `running` hash, read by claims of names with a
  concurrency limit. A claim of such a name adds 1 and marks the job `counted` = '1'; a claim of
  any other name marks it '0' and counts nothing. A job that leaves `processing` takes back what
  its claim added: -1 unless it is marked '0' (a job claimed by a version that counted every job
  has no mark, and was counted). A count that reaches 0 is deleted. countRunning(prefix, id,
  delta) does the same for a job whose name, key and mark the caller has not read.
]]
local function countRunningOf(prefix, name, ckey, counted, delta)
  if counted == '0' then
    return
  end
  local field = name .. '\0' .. (ckey or '')
  local count = redis.call('HINCRBY', prefix .. ':running', field, delta)
  if count <= 0 then
    redis.call('HDEL', prefix .. ':running', field)
  end
end

local function countRunning(prefix, id, delta)
  local job = redis.call('HMGET', prefix .. ':job:' .. id, 'name', 'ckey', 'counted')
  countRunningOf(prefix, job[1], job[2], job[3], delta)
end
