package canary_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/controller/controllertest"
)

const canaryCRD = "canaries.rollouts.sluice.dev"

// templateSchemaPath is where the hook Job template's schema sits in the
// Canary CRD's only version.
var templateSchemaPath = []string{"schema", "openAPIV3Schema", "properties", "spec", "properties", "hooks",
	"items", "properties", "job", "properties", "template"}

// withSchemalessTemplates makes the CRD store any hook Job template, as
// older releases of Sluice did, until the test ends. Objects written then
// stay in etcd as written whatever the schema says later: exactly what an
// upgraded operator finds.
func withSchemalessTemplates() {
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	Expect(k8s.Get(ctx, types.NamespacedName{Name: canaryCRD}, crd)).To(Succeed())
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	v := versions[0].(map[string]any)
	saved, found, err := unstructured.NestedFieldCopy(v, templateSchemaPath...)
	Expect(err).NotTo(HaveOccurred())
	Expect(found).To(BeTrue(), "the CRD has a schema for hook Job templates")

	setTemplateSchema := func(schema any) {
		Eventually(func() error {
			Expect(k8s.Get(ctx, types.NamespacedName{Name: canaryCRD}, crd)).To(Succeed())
			versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
			v := versions[0].(map[string]any)
			Expect(unstructured.SetNestedField(v, schema, templateSchemaPath...)).To(Succeed())
			Expect(unstructured.SetNestedSlice(crd.Object, versions, "spec", "versions")).To(Succeed())
			return k8s.Update(ctx, crd)
		}).Should(Succeed())
	}
	setTemplateSchema(map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true})
	DeferCleanup(func() { setTemplateSchema(saved) })
}

// malformedCanary is a Canary whose rollback hook's Job template has a
// quoted port number: it does not decode into a pod template.
func malformedCanary(ns string) *unstructured.Unstructured {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": v1alpha1.GroupVersion.String(), "kind": "Canary",
		"metadata": map[string]any{"name": target, "namespace": ns},
		"spec": map[string]any{
			"targetRef":      map[string]any{"name": target},
			"service":        map[string]any{"port": int64(9898)},
			"trafficRouting": map[string]any{"istio": map[string]any{}},
			"steps":          []any{map[string]any{"setWeight": int64(10)}},
			"hooks": []any{map[string]any{"name": "page", "type": "rollback", "job": map[string]any{
				"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{
					"name": "page", "image": "pager:1", "ports": []any{map[string]any{"containerPort": "8080"}},
				}}}},
			}}},
		},
	}}
	return obj
}

var _ = Describe("One malformed release object", func() {
	It("fails alone with a Stalled condition naming the field, while a healthy Canary beside it is released", func() {
		withSchemalessTemplates()
		bad := newNamespace()
		newTarget(bad, "podinfo:v1", 1)
		Eventually(func() error { return k8s.Create(ctx, malformedCanary(bad)) }).Should(Succeed())

		By("restarting the operator, so that its first list of Canaries holds the malformed one")
		controllertest.StopOperator(suite)
		controllertest.StartOperator(suite)

		good := newNamespace()
		newTarget(good, "podinfo:v1", 1)
		newCanary(good)
		waitStable(good)
		setImage(good, "podinfo:v2")
		Eventually(func(g Gomega) {
			g.Expect(getCanary(good).Status.Phase).To(Equal(v1alpha1.PhaseStable))
			g.Expect(getCanary(good).Status.Message).To(ContainSubstring("is stable"))
		}).Should(Succeed())

		Eventually(func(g Gomega) {
			c := getCanary(bad)
			stalled := conditionOf(c, v1alpha1.ConditionStalled)
			g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(stalled.Reason).To(Equal(v1alpha1.ReasonInvalidSpec))
			g.Expect(stalled.Message).To(ContainSubstring("spec.hooks[0].job.template: not a pod template"))
			g.Expect(stalled.Message).To(ContainSubstring("containerPort"))
			g.Expect(c.Status.Phase).To(Equal(v1alpha1.PhaseInvalid))
			g.Expect(c.Status.Message).To(HavePrefix("spec.hooks[0].job.template"))
		}).Should(Succeed())
		Expect(getDeployment(bad, target).Spec.Replicas).To(HaveValue(Equal(int32(1))),
			"nothing acted on the malformed Canary: its target was left alone")
	})
})

var _ = Describe("A spec the API server cannot check", func() {
	It("is refused before a release starts, with Stalled naming the field", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns, func(c *v1alpha1.Canary) {
			c.Spec.Analysis = &v1alpha1.Analysis{
				Provider: &v1alpha1.MetricProvider{Address: suite.Prometheus.URL()},
				Metrics: []v1alpha1.Metric{{Name: "errors", ThresholdRange: v1alpha1.ThresholdRange{Max: new(float64)},
					Query: `sum(up{job="{{ .Canary | nosuchfunc }}"})`}},
			}
		})
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			stalled := conditionOf(c, v1alpha1.ConditionStalled)
			g.Expect(stalled.Reason).To(Equal(v1alpha1.ReasonInvalidSpec))
			g.Expect(stalled.Message).To(ContainSubstring("spec.analysis.metrics[0].query:"))
			g.Expect(stalled.Message).To(ContainSubstring("nosuchfunc"))
			g.Expect(c.Status.StableRevision).To(BeEmpty(), "no release started")
		}).Should(Succeed())
	})
})

var _ = Describe("A targetPort naming no container port", func() {
	It("stalls the Canary with the field named, touches nothing, and goes on once the Deployment names the port", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns, func(c *v1alpha1.Canary) { c.Spec.Service.TargetPort = ptr.To(intstr.FromString("web")) })
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			stalled := conditionOf(c, v1alpha1.ConditionStalled)
			g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(stalled.Reason).To(Equal(v1alpha1.ReasonInvalidSpec))
			g.Expect(stalled.Message).To(ContainSubstring(
				`spec.service.targetPort: no container of Deployment podinfo has a port named "web" (its pod template names only http)`))
			g.Expect(c.Status.StableRevision).To(BeEmpty(), "no release started")
		}).Should(Succeed())
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: target + "-primary"}, &appsv1.Deployment{})).
			To(Satisfy(apierrors.IsNotFound), "nothing was created for the stalled Canary")

		By("naming the container port web in the Deployment")
		d := getDeployment(ns, target)
		patch := client.MergeFrom(d.DeepCopy())
		d.Spec.Template.Spec.Containers[0].Ports[0].Name = "web"
		Expect(k8s.Patch(ctx, d, patch)).To(Succeed())
		c := waitStable(ns)
		Expect(conditionOf(c, v1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
	})
})

var _ = Describe("A Canary applied before its Deployment", func() {
	It("waits for the target (Reconciling, not Stalled), then initialises once it exists", func() {
		ns := newNamespace()
		newCanary(ns)
		Eventually(func(g Gomega) {
			c := getCanary(ns)
			g.Expect(c.Status.Phase).To(Equal(v1alpha1.PhaseWaitingForTarget))
			g.Expect(conditionOf(c, v1alpha1.ConditionReconciling).Reason).To(Equal(v1alpha1.ReasonWaitingForTarget))
			g.Expect(conditionOf(c, v1alpha1.ConditionReconciling).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(conditionOf(c, v1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
		}).Should(Succeed())
		rows := table().Row(ctx, ns)
		Expect(rows).To(HaveKeyWithValue("Phase", "WaitingForTarget"))
		Expect(rows["Message"]).To(HavePrefix("waiting for Deployment podinfo to exist"))

		newTarget(ns, "podinfo:v1", 1)
		waitStable(ns)
	})
})

var _ = Describe("kubectl get canaries", func() {
	It("shows the step out of the total, the weight, the revision under test and what the release does", func() {
		ns := newNamespace()
		newTarget(ns, "podinfo:v1", 1)
		newCanary(ns, analysed("vector(0)", 1), func(c *v1alpha1.Canary) {
			c.Spec.Steps = []v1alpha1.CanaryStep{
				{SetWeight: ptr.To[int32](10)},
				{Pause: &v1alpha1.Pause{Duration: &metav1.Duration{Duration: 2 * time.Second}}},
				{SetWeight: ptr.To[int32](50)},
				{Pause: &v1alpha1.Pause{}},
			}
		})
		stable := waitStable(ns).Status.StableRevision
		atRest := table().Row(ctx, ns)
		Expect(atRest).To(HaveKeyWithValue("Phase", "Stable"))
		Expect(atRest).To(HaveKeyWithValue("Step", ""))
		Expect(atRest).To(HaveKeyWithValue("Weight", "0"))
		Expect(atRest["Message"]).To(ContainSubstring("is stable"))
		table().Print(ctx, ns, "at rest")

		rev := setImage(ns, "podinfo:v2")
		inFlight := table().WaitForRow(ctx, ns, map[string]string{"Step": "1/4", "Weight": "10"})
		Expect(inFlight).To(HaveKeyWithValue("Phase", "Progressing"))
		Expect(inFlight).To(HaveKeyWithValue("Revision", rev))
		Expect(inFlight).To(HaveKeyWithValue("Stable", stable))
		table().Print(ctx, ns, "in progress")

		inFlight = table().WaitForRow(ctx, ns, map[string]string{"Step": "4/4", "Phase": "WaitingPromotion"})
		Expect(inFlight).To(HaveKeyWithValue("Weight", "50"))
		Expect(inFlight["Message"]).To(ContainSubstring("pauses until promoted"))
		Expect(inFlight["Since"]).NotTo(BeEmpty())
		table().Print(ctx, ns, "waiting for a promote")

		By("a check that fails from now on")
		c := getCanary(ns)
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Analysis.Metrics[0].Query = "vector(0.5)"
		Expect(k8s.Patch(ctx, c, patch)).To(Succeed())
		rolledBack := table().WaitForRow(ctx, ns, map[string]string{"Phase": "RolledBack", "Weight": "0"})
		Expect(rolledBack).To(HaveKeyWithValue("Revision", rev))
		Expect(rolledBack).To(HaveKeyWithValue("Stable", stable))
		Expect(rolledBack["Message"]).To(ContainSubstring("was rolled back"))
		table().Print(ctx, ns, "rolled back")
	})
})

// table is `kubectl get canaries`: its printed text is what docs/canary.md
// quotes.
func table() controllertest.Table {
	return controllertest.Table{Config: suite.Config, Resource: "canaries"}
}
