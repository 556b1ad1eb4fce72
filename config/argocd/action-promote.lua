-- Argo CD action "promote" for rollouts.sluice.dev/v1alpha1 Canary and BlueGreen.
-- It sets the command annotation and a fresh command-id; Sluice carries out a
-- command once per (name, id) pair and records it in status.lastCommand.
-- Argo CD's sandbox offers os.time and os.date through require, not as a global.
local os = require("os")
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["rollouts.sluice.dev/command"] = "promote"
obj.metadata.annotations["rollouts.sluice.dev/command-id"] = "argocd-" .. os.date("!%Y%m%dT%H%M%SZ")
return obj
