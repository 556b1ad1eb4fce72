// Package prometheus is the metric provider for Prometheus and servers that
// speak its HTTP API (Thanos, Mimir, VictoriaMetrics).
//
// A Provider sends instant queries through client_golang's API client with
// the spec's per-query timeout, TLS settings and the basic or bearer
// credentials read from a Secret by CredentialsFromSecret. It answers with
// one number: a scalar, or a vector of exactly one series. An empty vector, NaN
// or an infinite value is analysis.ErrNoData; everything that keeps the query
// from being answered, including a result of several series, is
// analysis.ErrProvider.
//
// Queries go through Sluice's outbound policy (package outbound): the address
// must not resolve to loopback, link-local or metadata addresses unless the
// operator allows them, and no redirect is followed, so credentials never go
// anywhere but the address in the spec. Credentials are refused for an http://
// address unless the spec sets allowInsecureCredentials; the Secret they come
// from must consent (analysis.CheckConsent).
package prometheus
