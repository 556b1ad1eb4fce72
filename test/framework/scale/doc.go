// Package scale is the scale benchmark behind `make bench-scale`: on a local
// control plane with kwok nodes it runs the real operator binary over N
// Canaries and measures what issue #18 asks for. It writes nothing to the
// repository; it prints a table.
//
// It measures, for each N: the API writes by verb and resource while N
// Canaries are brought to Ready, at rest, on reconciles that change nothing
// (an annotation poked) and after a restart, read from kube-apiserver's
// apiserver_request_total; reconcile p50/p99 from the operator's
// controller_runtime_reconcile_time_seconds; the operator's peak RSS; a wave
// of releases started at once (time to promote all, and how late each step
// after a pause starts against the pause's end); and how long an abort
// takes to bring the VirtualService's canary weight to 0, idle and during
// the wave. It also counts what one onboarding and one release of the wave
// cost in API requests: the operator's requests by method, its writes by
// verb and resource, and the Events it created by reason.
package scale
