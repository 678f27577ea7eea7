--[[
  Moves keys of the layout before hash tags (`<prefix>:...`) to this layout (`{<prefix>}:...`),
  one batch of them found by SCAN, atomically per batch. A key whose new name is free is renamed
  (its expiry goes with it). A key whose new name is taken, because a process of the previous
  version wrote after an earlier upgrade, is merged into it: sets and sorted sets by union (a
  sorted set keeps the higher score of a member in both), the `running` counts added up, other
  hashes field by field where the new one lacks the field, the wake list replaced by one token;
  a string (a claim or tick token) of the new layout wins. A job hash exists once, under one id.
  Runs on one server only: the keys of the old layout lie in many slots.

    Input:
      KEYS[1] upgrading    the hold of the process that runs the upgrade

      ARGV[1] base         '{<prefix>}', what every key of this layout starts with
      ARGV[2] prefix       what every key of the previous layout starts with, before its ':'
      ARGV[3..] keys of the previous layout

    Output:
      the number of keys moved
]]
local base, prefix = ARGV[1], ARGV[2]
local moved = 0
for i = 3, #ARGV do
  local old = ARGV[i]
  local suffix = string.sub(old, #prefix + 1)
  local new = base .. suffix
  local kind = redis.call('TYPE', old)['ok']
  if kind ~= 'none' then
    if redis.call('EXISTS', new) == 0 then
      redis.call('RENAME', old, new)
    else
      if kind == 'set' then
        redis.call('SUNIONSTORE', new, new, old)
      elseif kind == 'zset' then
        redis.call('ZUNIONSTORE', new, 2, new, old, 'AGGREGATE', 'MAX')
      elseif kind == 'hash' then
        local fields = redis.call('HGETALL', old)
        for f = 1, #fields, 2 do
          if suffix == ':running' then
            redis.call('HINCRBY', new, fields[f], fields[f + 1])
          else
            redis.call('HSETNX', new, fields[f], fields[f + 1])
          end
        end
      elseif kind == 'list' then
        redis.call('LPUSH', new, '1')
      end
      redis.call('DEL', old)
    end
    moved = moved + 1
  end
end
return moved
