-- Argo CD action "promote" for rollouts.sluice.dev/v1alpha1 Canary and BlueGreen.
-- It sets the command's own annotation to a fresh command id (a pending command of
-- another kind stays in place) and drops a stale .by of an earlier one; Sluice
-- carries out a command once per (name, id) pair and records it in status.commands.
-- Argo CD's sandbox offers os.time and os.date through require, not as a global.
local os = require("os")
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["rollouts.sluice.dev/command.promote"] = "argocd-" .. os.date("!%Y%m%dT%H%M%SZ")
obj.metadata.annotations["rollouts.sluice.dev/command.promote.by"] = nil
return obj
