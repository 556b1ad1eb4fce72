-- Argo CD action discovery for rollouts.sluice.dev/v1alpha1 Canary and
-- BlueGreen: every command is listed, and the ones Sluice would ignore in the
-- object's current state are disabled.
local actions = {}
local status = obj.status or {}

local release = status.canaryRevision or status.previewRevision or ""
local current = status.stableRevision or status.activeRevision or ""
local inFlight = release ~= "" and release ~= current
local rolledBack = inFlight and status.abortedAt ~= nil
local active = inFlight and not rolledBack
-- A Canary promoting, or a BlueGreen switching its Service, is past the
-- point where a promote or a pause means anything.
local promoting = status.promotingAt ~= nil and status.switchedAt == nil

actions["promote"] = {["disabled"] = not active or promoting}
actions["promote-full"] = {["disabled"] = not active or promoting}
actions["abort"] = {["disabled"] = not active}
actions["pause"] = {["disabled"] = not active or promoting or status.pausedAt ~= nil}
actions["resume"] = {["disabled"] = not active or status.pausedAt == nil}
actions["retry"] = {["disabled"] = not rolledBack}
return actions
