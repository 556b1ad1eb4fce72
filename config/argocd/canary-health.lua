-- Argo CD health check for rollouts.sluice.dev/v1alpha1 Canary.
-- It reads the kstatus conditions Sluice writes (Stalled, Ready, Reconciling)
-- and tells a release that waits for a person (Suspended) from one that moves
-- on its own (Progressing).
local hs = {}

local function condition(conditionType)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

-- waitsForPromote is true when the current step is a pause without a
-- duration: only a promote command ends it.
local function waitsForPromote()
  if obj.spec == nil or obj.spec.steps == nil then
    return false
  end
  local step = obj.spec.steps[(obj.status.currentStep or 0) + 1]
  return step ~= nil and step.pause ~= nil and step.pause.duration == nil
end

if obj.status == nil or obj.status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Sluice operator to report status"
  return hs
end

local generation = obj.metadata.generation or 0
if (obj.status.observedGeneration or 0) < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the Sluice operator to observe generation " .. generation
  return hs
end

local stalled = condition("Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = stalled.message
  return hs
end

local ready = condition("Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end

local reconciling = condition("Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  if obj.status.pausedAt ~= nil or (reconciling.reason == "WaitingForPromotion" and waitsForPromote()) then
    hs.status = "Suspended"
  else
    hs.status = "Progressing"
  end
  hs.message = reconciling.message
  return hs
end

hs.status = "Progressing"
hs.message = "Waiting for the Sluice operator to report status"
return hs
