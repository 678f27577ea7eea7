--[[
  countRunningOf(prefix, name, ckey, delta): adds delta to the running count of a name and
  concurrency key (`ckey`, false for none) in the `running` hash, read by claims of names with a
  concurrency limit. Called as a job enters (+1) or leaves (-1) `processing`; a count that
  reaches 0 is deleted. countRunning(prefix, id, delta) does the same for a job whose name and key
  the caller has not read.
]]
local function countRunningOf(prefix, name, ckey, delta)
  local field = name .. '\0' .. (ckey or '')
  local count = redis.call('HINCRBY', prefix .. ':running', field, delta)
  if count <= 0 then
    redis.call('HDEL', prefix .. ':running', field)
  end
end

local function countRunning(prefix, id, delta)
  local job = redis.call('HMGET', prefix .. ':job:' .. id, 'name', 'ckey')
  countRunningOf(prefix, job[1], job[2], delta)
end
