package packaging

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nonDefaultValues turns on everything the defaults leave off.
const nonDefaultValues = `
replicaCount: 3
image:
  repository: example/sluice
  tag: v1.2.3
  pullPolicy: Always
imagePullSecrets: [{name: regcred}]
watchNamespaces: [shop, payments]
logLevel: debug
podAnnotations: {team: platform}
nodeSelector: {kubernetes.io/os: linux}
tolerations: [{key: dedicated, operator: Equal, value: platform, effect: NoSchedule}]
priorityClassName: system-cluster-critical
outbound:
  allowCIDRs: [127.0.0.0/8, "::1/128"]
  denyCIDRs: [10.0.0.0/24]
hooks:
  allowedServiceAccounts: [smoke-tester]
serviceMonitor:
  enabled: true
  interval: 15s
  labels: {release: kube-prometheus-stack}
grafana:
  dashboard:
    enabled: true
    namespace: monitoring
`

// valuesFile writes values to a file for `helm -f`.
func valuesFile(t testing.TB, values string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(path, []byte(values), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestHelmLint(t *testing.T) {
	t.Parallel()
	for name, args := range map[string][]string{
		"default values":             {"lint", "charts/sluice"},
		"default values, strict":     {"lint", "--strict", "charts/sluice"},
		"non-default values, strict": {"lint", "--strict", "charts/sluice", "-f", valuesFile(t, nonDefaultValues)},
	} {
		out, err := runHelm(t, args...)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !strings.Contains(out, "0 chart(s) failed") {
			t.Errorf("%s: helm lint did not report success:\n%s", name, out)
		}
	}
}
