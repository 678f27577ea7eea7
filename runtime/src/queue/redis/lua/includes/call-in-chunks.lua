--[[
  callInChunks(command, key, args): redis.call(command, key, args...) for many arguments, a
  thousand at a time (Lua's unpack has a limit). The chunk size is even, so score/member pairs
  stay together. Returns the sum of the integer replies.
]]
local function callInChunks(command, key, args)
  local total = 0
  for first = 1, #args, 1000 do
    total = total + redis.call(command, key, unpack(args, first, math.min(first + 999, #args)))
  end
  return total
end
