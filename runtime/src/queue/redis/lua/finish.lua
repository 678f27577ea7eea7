--[[
  Applies the outcomes of claimed jobs (worked out by queue/outcome.ts), fenced on the attempts
  each job was claimed with: see includes/finish-outcomes.lua. A claim can apply them as well
  (claim.lua), saving this call.

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
      ARGV[5..] the outcomes: the number of plain completions, 2 values for each (id,
                claimed attempts), then the others, 7 values each (id, claimed attempts, new
                status, run_at, attempts to store, error mode, error), as
                includes/finish-outcomes.lua reads them

    Output:
      the number of outcomes recorded
]]
--- @include "push-wake-tokens"
--- @include "call-in-chunks"
--- @include "release-key"
--- @include "running"
--- @include "finish-outcomes"

return finishOutcomes(ARGV[1], { leases = KEYS[1], lanes = KEYS[2], wake = KEYS[3] }, ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV, 5)
