--[[
  countRunning(prefix, id, delta): adds delta to the running count of the job's name and
  concurrency key (the `running` hash, read by claims of names with a concurrency limit).
  Called as a job enters (+1) or leaves (-1) `processing`; a count that reaches 0 is deleted.
]]
local function countRunning(prefix, id, delta)
  local job = redis.call('HMGET', prefix .. ':job:' .. id, 'name', 'ckey')
  local field = job[1] .. '\0' .. (job[2] or '')
  local count = redis.call('HINCRBY', prefix .. ':running', field, delta)
  if count <= 0 then
    redis.call('HDEL', prefix .. ':running', field)
  end
end
