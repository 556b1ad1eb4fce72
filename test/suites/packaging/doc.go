// Package packaging tests how Sluice is installed: the Helm chart
// (charts/sluice: lint, rendering, the values schema, RBAC with no wildcard,
// server-side dry run and `helm install --wait` against real API servers),
// the kustomize install (config/default, built with kustomize's own
// library), the chart's copies of the CRDs, RBAC rules and Grafana dashboard,
// and the static build the Dockerfile runs.
//
// helm comes from the tools cache (`hack/tools.sh helm`, run by `make
// tools`); the API servers come from test/framework/apiserver (envtest) and
// test/framework/cluster.
package packaging
