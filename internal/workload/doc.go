// Package workload builds and keeps in shape the Deployments and Services a
// release runs on, and reads their state for the reconcilers. Every function
// is idempotent: applying the same input twice makes no second write.
//
// # Canary
//
// The user's Deployment (spec.targetRef, say podinfo) is the template of each
// new version and runs the canary pods. Sluice owns:
//
//	podinfo-primary  Deployment   the stable version: a copy of the user's pod template
//	podinfo          Service      the apex clients call; selects the primary pods
//	podinfo-primary  Service      selects the primary pods
//	podinfo-canary   Service      selects the user's Deployment's pods of its current revision
//
// Telling the two apart without touching the user's pod template: the
// copy's pods carry the user's labels except that each key of the target's
// matchLabels takes PrimarySuffix on its value (app: podinfo becomes app:
// podinfo-primary), plus rollouts.sluice.dev/workload: podinfo-primary; the
// copy's selector is exactly those labels (PrimaryPodLabels). The target's
// selector therefore never matches a primary pod: an HPA on the target and
// Sluice's copy of it on the primary each select their own pods, which the
// HPA controller requires. The apex and primary Services select the
// primary's labels; the canary Service selects the user's matchLabels plus
// pod-template-hash, the label the Deployment controller puts on the pods of
// each ReplicaSet, with the value of the user's Deployment's current
// ReplicaSet (CanaryHash finds it), so it follows each new revision of the
// user's Deployment and selects nothing until the Deployment controller has
// created that ReplicaSet. A primary made before the rename keeps its
// selector (SelectorStale, KeepSelector) until a promotion replaces it.
//
// # BlueGreen
//
// Sluice owns podinfo-blue and podinfo-green, copies of the user's pod
// template with rollouts.sluice.dev/workload: podinfo-<color> and
// rollouts.sluice.dev/color: <color> added, the active Service podinfo and
// the preview Service podinfo-preview, which select the user's matchLabels
// plus the color label; a flip (internal/traffic/service) changes that one
// value.
//
// # What Sluice changes on the user's Deployment
//
// Only spec.replicas (through ScaleTo, under the field manager "sluice"): a
// Canary scales it up to run the canary and back to zero after promotion or
// rollback; a BlueGreen keeps it at zero, as a template. Its metadata, its
// selector and its pod template are never written. The user's matchLabels
// must not be empty (Services select on labels, not expressions). With Argo
// CD, ignore that one field so a sync does not fight the release:
//
//	spec:
//	  ignoreDifferences:
//	  - group: apps
//	    kind: Deployment
//	    name: podinfo
//	    jsonPointers: [/spec/replicas]
//	  syncPolicy:
//	    syncOptions: [RespectIgnoreDifferences=true]
//
// (or managedFieldsManagers: [sluice] in place of jsonPointers). With Flux,
// leave replicas out of the manifest: kustomize-controller applies
// server-side with force and would set it back at every sync.
//
// Everything Sluice creates is written with server-side apply under the
// field manager "sluice", carries a controller owner reference to its Canary
// or BlueGreen (so it is garbage collected with it), and is refused with a
// *NotOwnedError when an object of that name already exists and belongs to
// someone else: Sluice never adopts a Service or Deployment it did not create.
package workload
