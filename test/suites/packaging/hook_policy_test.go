package packaging

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/test/framework/deadline"
)

// policyName is the name of the hook policy and its binding.
const policyName = "sluice-hook-policy"

// foreignSAMessage is the start of the policy's message for a hook Job that
// names a ServiceAccount it does not allow.
const foreignSAMessage = "the Job would run as a ServiceAccount that Sluice does not allow; " +
	"remove serviceAccountName from the Job pod template"

// TestChartHookPolicyIsConfigPolicy checks that the chart renders, with
// default values, the very policy config/default builds (so the one the test
// below puts on a real API server is the one both ship), that the chart's
// allowed ServiceAccounts reach the policy, and that the policy can be turned
// off.
func TestChartHookPolicyIsConfigPolicy(t *testing.T) {
	t.Parallel()
	chart := render(t)
	objs := kustomize(t, "config/default")
	for _, kind := range []string{"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"} {
		k, c := find(t, objs, kind, "", policyName), find(t, chart, kind, "", policyName)
		if !equality.Semantic.DeepEqual(k.Object["spec"], c.Object["spec"]) {
			t.Errorf("%s: the spec differs between config/default and the chart:\n%v\n%v", kind, k.Object["spec"], c.Object["spec"])
		}
	}

	withSA := render(t, "--set", "hooks.allowedServiceAccounts={smoke-tester}", "--namespace", "delivery")
	if got := policyVariable(t, find(t, withSA, "ValidatingAdmissionPolicy", "", policyName), "allowedServiceAccounts"); got != `["","default","smoke-tester"]` {
		t.Errorf("allowedServiceAccounts = %s, want the default ones and smoke-tester", got)
	}
	if got := policyVariable(t, find(t, withSA, "ValidatingAdmissionPolicy", "", policyName), "operatorNamespace"); got != `"delivery"` {
		t.Errorf("operatorNamespace = %s, want the release namespace", got)
	}
	d := typed[appsv1.Deployment](t, find(t, withSA, "Deployment", "delivery", release))
	if args := d.Spec.Template.Spec.Containers[0].Args; !slices.Contains(args, "--hook-service-accounts=smoke-tester") {
		t.Errorf("the manager is not told the allowed ServiceAccounts: %v", args)
	}

	for _, o := range render(t, "--set", "hooks.admissionPolicy.enabled=false") {
		if strings.HasPrefix(o.GetKind(), "ValidatingAdmissionPolicy") {
			t.Errorf("hooks.admissionPolicy.enabled=false still renders %s %s", o.GetKind(), o.GetName())
		}
	}
}

// policyVariable returns the expression of a variable of a policy.
func policyVariable(t *testing.T, policy *unstructured.Unstructured, name string) string {
	t.Helper()
	vars, _, _ := unstructured.NestedSlice(policy.Object, "spec", "variables")
	for _, v := range vars {
		if m := v.(map[string]any); m["name"] == name {
			return m["expression"].(string)
		}
	}
	t.Fatalf("the policy has no variable %s", name)
	return ""
}

// TestHookPolicyOnTheAPIServer puts config/policy on a real kube-apiserver
// and checks what it refuses and what it lets through. It is not parallel:
// the policy is on the package's shared API server only while it runs.
func TestHookPolicyOnTheAPIServer(t *testing.T) {
	env := apiServer(t)
	c := env.Client
	ctx, cancel := context.WithTimeout(context.Background(), deadline.Scale(2*time.Minute))
	defer cancel()
	ns := "hook-policy"
	for _, n := range []string{ns, namespace} {
		ensureNamespace(ctx, t, c, n)
	}
	// Admitted before the policy: it must stay manageable afterwards.
	before := canaryWithJob(ns, "before", "db-admin")
	if err := c.Create(ctx, before); err != nil {
		t.Fatal(err)
	}

	policy := kustomize(t, "config/policy")
	for _, o := range policy {
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), fieldOwner, client.ForceOwnership); err != nil {
			t.Fatalf("apply %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	t.Cleanup(func() {
		for _, o := range policy {
			_ = c.Delete(context.Background(), o)
		}
	})
	// The API server takes a moment to load a new policy.
	until := time.Now().Add(deadline.Scale(time.Minute))
	for {
		err := c.Create(ctx, canaryWithJob(ns, "probe", "db-admin"), client.DryRunAll)
		if err != nil && strings.Contains(err.Error(), foreignSAMessage) {
			t.Logf("the policy refuses: %v", err)
			break
		}
		if time.Now().After(until) {
			t.Fatalf("the policy never refused a foreign ServiceAccount; last answer: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	refused := []struct {
		name    string
		obj     client.Object
		message string
	}{
		{"a Canary whose hook Job names another ServiceAccount", canaryWithJob(ns, "foreign", "db-admin"),
			`hook migrate: ` + foreignSAMessage + ` (or set it to "default")`},
		{"a Canary whose hook Job names the operator's ServiceAccount", canaryWithJob(ns, "operator-sa", release), foreignSAMessage},
		{"a Canary using the deprecated serviceAccount field", deprecatedField(canaryWithJob(ns, "deprecated", "")), foreignSAMessage},
		{"a BlueGreen whose hook Job names another ServiceAccount", blueGreenWithJob(ns, "foreign-bg", "db-admin"), foreignSAMessage},
		{"a Canary with a Job hook in Sluice's own namespace", canaryWithJob(namespace, "own-ns", ""),
			"Sluice runs no Job hooks in namespace sluice-system, its own"},
	}
	for _, tc := range refused {
		err := c.Create(ctx, tc.obj)
		if err == nil || !strings.Contains(err.Error(), tc.message) {
			t.Errorf("%s: created with answer %v, want a refusal saying %q", tc.name, err, tc.message)
		}
	}

	accepted := []struct {
		name string
		obj  client.Object
	}{
		{"a Canary whose hook Job names no ServiceAccount", canaryWithJob(ns, "no-sa", "")},
		{"a Canary whose hook Job names default", canaryWithJob(ns, "default-sa", "default")},
		{"a BlueGreen whose hook Job names no ServiceAccount", blueGreenWithJob(ns, "no-sa-bg", "")},
		{"a Canary in Sluice's namespace without Job hooks", webhookCanary(namespace, "webhook-only")},
	}
	for _, tc := range accepted {
		if err := c.Create(ctx, tc.obj); err != nil {
			t.Errorf("%s: refused: %v", tc.name, err)
		}
	}

	good := &v1alpha1.Canary{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "no-sa"}, good); err != nil {
		t.Fatal(err)
	}
	good.Spec.Hooks[0].Job.Template.Spec.ServiceAccountName = "db-admin"
	if err := c.Update(ctx, good); err == nil || !strings.Contains(err.Error(), foreignSAMessage) {
		t.Errorf("changing a hook Job to another ServiceAccount: %v, want a refusal", err)
	}

	// An object admitted before the policy keeps working for what does not
	// touch its spec: the operator's finalizer, and its deletion.
	if err := c.Get(ctx, client.ObjectKeyFromObject(before), before); err != nil {
		t.Fatal(err)
	}
	before.Finalizers = append(before.Finalizers, "rollouts.sluice.dev/test")
	if err := c.Update(ctx, before); err != nil {
		t.Errorf("adding a finalizer to a Canary admitted before the policy: %v", err)
	}
	before.Finalizers = nil
	if err := c.Update(ctx, before); err != nil {
		t.Errorf("removing the finalizer: %v", err)
	}
	if err := c.Delete(ctx, before); err != nil {
		t.Errorf("deleting a Canary admitted before the policy: %v", err)
	}
}

// canaryWithJob is a valid Canary with one pre-rollout Job hook, migrate,
// whose pod names serviceAccount (none when empty).
func canaryWithJob(ns, name, serviceAccount string) *v1alpha1.Canary {
	_, c := releaseObjects(ns, name)
	c.Spec.Hooks = []v1alpha1.CanaryHook{{Name: "migrate", Type: v1alpha1.HookPreRollout,
		HookAction: v1alpha1.HookAction{Job: jobAs(serviceAccount)}}}
	return c
}

// blueGreenWithJob is a valid BlueGreen with one pre-promotion Job hook.
func blueGreenWithJob(ns, name, serviceAccount string) *v1alpha1.BlueGreen {
	return &v1alpha1.BlueGreen{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.BlueGreenSpec{
			TargetRef: v1alpha1.TargetRef{Name: name},
			Service:   v1alpha1.ServicePort{Port: 8080},
			Hooks: []v1alpha1.BlueGreenHook{{Name: "migrate", Type: v1alpha1.HookPrePromotion,
				HookAction: v1alpha1.HookAction{Job: jobAs(serviceAccount)}}},
		},
	}
}

// webhookCanary is a valid Canary with one webhook hook.
func webhookCanary(ns, name string) *v1alpha1.Canary {
	_, c := releaseObjects(ns, name)
	c.Spec.Hooks = []v1alpha1.CanaryHook{{Name: "notify", Type: v1alpha1.HookPreRollout,
		HookAction: v1alpha1.HookAction{Webhook: &v1alpha1.WebhookHook{URL: "https://hooks.example.com/notify"}}}}
	return c
}

func jobAs(serviceAccount string) *v1alpha1.JobHook {
	return &v1alpha1.JobHook{BackoffLimit: 0, ActiveDeadlineSeconds: 60, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		ServiceAccountName: serviceAccount,
		RestartPolicy:      corev1.RestartPolicyNever,
		Containers:         []corev1.Container{{Name: "migrate", Image: "busybox:1.36", Command: []string{"true"}}},
		SecurityContext:    &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)},
	}}}
}

func deprecatedField(c *v1alpha1.Canary) *v1alpha1.Canary {
	c.Spec.Hooks[0].Job.Template.Spec.DeprecatedServiceAccount = "db-admin"
	return c
}
