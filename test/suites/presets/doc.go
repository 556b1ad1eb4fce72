// Package presets tests the analysis presets Sluice ships (config/presets,
// the same files the Helm chart installs): each one, resolved as a Canary
// referring to it would be, runs against a real Prometheus that scrapes
// counters and histograms labelled exactly as Istio's sidecars, Linkerd's
// proxies and Traefik's Gateway API services export them.
package presets
