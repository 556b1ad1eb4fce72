package packaging

import (
	"strings"
	"testing"
)

// TestChartRejectsBadValues checks that a wrong value fails `helm template`
// (and so `helm install`) with a message naming the value, before anything
// reaches a cluster.
func TestChartRejectsBadValues(t *testing.T) {
	t.Parallel()
	const schema = "values don't meet the specifications of the schema"
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"a misspelt key", []string{"--set", "replicas=3"}, []string{schema, "additional properties 'replicas' not allowed"}},
		{"no replicas", []string{"--set", "replicaCount=0"}, []string{schema, "/replicaCount", "minimum"}},
		{"replicas as words", []string{"--set-string", "replicaCount=two"}, []string{schema, "/replicaCount", "want integer"}},
		{"a namespace that is not a DNS label", []string{"--set", "watchNamespaces={Shop}"}, []string{schema, "/watchNamespaces/0", "does not match pattern"}},
		{"an unknown pull policy", []string{"--set", "image.pullPolicy=Sometimes"}, []string{schema, "/image/pullPolicy", "must be one of"}},
		{"an empty image repository", []string{"--set", "image.repository="}, []string{schema, "/image/repository"}},
		{"an unknown log level", []string{"--set", "logLevel=verbose"}, []string{schema, "/logLevel", "must be one of"}},
		{"a scrape interval that is not a duration", []string{"--set", "serviceMonitor.interval=soon"}, []string{schema, "/serviceMonitor/interval"}},
		{"a port out of range", []string{"--set", "metrics.port=70000"}, []string{schema, "/metrics/port", "maximum"}},
		{"a misspelt nested key", []string{"--set", "serviceMonitor.enable=true"}, []string{schema, "/serviceMonitor", "'enable' not allowed"}},
		{"an allowed CIDR that is not one", []string{"--set", "outbound.allowCIDRs={localhost}"}, []string{schema, "/outbound/allowCIDRs/0", "does not match pattern"}},
		{"a hook ServiceAccount that is not a name", []string{"--set", "hooks.allowedServiceAccounts={Admin}"}, []string{schema, "/hooks/allowedServiceAccounts/0", "does not match pattern"}},
		{"two replicas without leader election", []string{"--set", "leaderElection.enabled=false"},
			[]string{"replicaCount > 1 needs leaderElection.enabled"}},
		{"a ServiceAccount that is neither created nor named", []string{"--set", "serviceAccount.create=false"},
			[]string{"serviceAccount.name is required when serviceAccount.create is false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"template", release, "charts/sluice", "--namespace", namespace}, tc.args...)
			_, err := runHelm(t, args...)
			if err == nil {
				t.Fatalf("helm template %v succeeded; want it refused", tc.args)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}
