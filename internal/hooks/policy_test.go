package hooks

import (
	"errors"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func jobRunningAs(name, sa, deprecated string) Hook {
	return Hook{Name: name, Type: string(v1alpha1.HookPreRollout), Action: v1alpha1.HookAction{Job: &v1alpha1.JobHook{
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{ServiceAccountName: sa, DeprecatedServiceAccount: deprecated}},
	}}}
}

func TestJobPolicy(t *testing.T) {
	webhook := Hook{Name: "notify", Action: v1alpha1.HookAction{Webhook: &v1alpha1.WebhookHook{URL: "https://x"}}}
	for _, tc := range []struct {
		name    string
		policy  JobPolicy
		ns      string
		hooks   []Hook
		refused string // the refused hook, "" when allowed
		reason  string
	}{
		{"a Job that names no ServiceAccount runs as default", JobPolicy{}, "shop",
			[]Hook{jobRunningAs("smoke", "", "")}, "", ""},
		{"a Job that names default is allowed", JobPolicy{}, "shop",
			[]Hook{jobRunningAs("smoke", "default", "")}, "", ""},
		{"a Job that names another ServiceAccount is refused", JobPolicy{}, "shop",
			[]Hook{webhook, jobRunningAs("smoke", "", ""), jobRunningAs("migrate", "db-admin", "")}, "migrate", `"db-admin"`},
		{"the deprecated serviceAccount field is checked too", JobPolicy{}, "shop",
			[]Hook{jobRunningAs("migrate", "", "db-admin")}, "migrate", `"db-admin"`},
		{"a ServiceAccount the operator allows is allowed", JobPolicy{ServiceAccounts: []string{"smoke-tester"}}, "shop",
			[]Hook{jobRunningAs("smoke", "smoke-tester", "")}, "", ""},
		{"allowing one ServiceAccount does not allow another", JobPolicy{ServiceAccounts: []string{"smoke-tester"}}, "shop",
			[]Hook{jobRunningAs("smoke", "sluice", "")}, "smoke", ServiceAccountsFlag},
		{"no Job hook runs in the operator's namespace", JobPolicy{OperatorNamespace: "sluice-system"}, "sluice-system",
			[]Hook{jobRunningAs("smoke", "", "")}, "smoke", "its own"},
		{"webhooks in the operator's namespace are not the Job policy's business", JobPolicy{OperatorNamespace: "sluice-system"},
			"sluice-system", []Hook{webhook}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := tc.policy.Check(tc.ns, tc.hooks)
			if tc.refused == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			var pe *PolicyError
			g.Expect(errors.As(err, &pe)).To(BeTrue(), "a PolicyError: %v", err)
			g.Expect(pe.Hook).To(Equal(tc.refused))
			g.Expect(err.Error()).To(ContainSubstring(tc.reason))
		})
	}
}

func TestAForeignServiceAccountRefusalSaysWhatToWriteInstead(t *testing.T) {
	g := NewWithT(t)
	err := JobPolicy{}.Check("shop", []Hook{jobRunningAs("migrate", "db-admin", "")})
	g.Expect(err).To(MatchError(`hook "migrate": the Job would run as ServiceAccount "db-admin", which Sluice's hook ` +
		`policy does not allow: remove serviceAccountName from the Job's pod template (or set it to "default") to run ` +
		`as the namespace's default ServiceAccount, or ask the platform team to allow "db-admin" (manager flag ` +
		`--hook-service-accounts, Helm value hooks.allowedServiceAccounts)`))
}
