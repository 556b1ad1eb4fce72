package workload_test

import (
	"errors"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
)

// userDeployment is a user's Deployment as the API server returns it.
func userDeployment(name, ns string) *appsv1.Deployment {
	replicas := int32(3)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"team": "shop"}},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      map[string]string{"app": name, "version": "v1"},
					Annotations: map[string]string{"prometheus.io/scrape": "true"},
				},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "app",
					Image: "ghcr.io/stefanprodan/podinfo:6.0.0",
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9898}},
				}}},
			},
			MinReadySeconds: 5,
			Strategy:        appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
		},
	}
}

func TestRevision(t *testing.T) {
	base := userDeployment("podinfo", "shop").Spec.Template
	tests := []struct {
		name   string
		change func(*corev1.PodTemplateSpec)
		same   bool
	}{
		{"an identical copy has the same revision", func(*corev1.PodTemplateSpec) {}, true},
		{"a new image is a new revision", func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Image = "podinfo:6.0.1" }, false},
		{"a new environment variable is a new revision", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "1"}}
		}, false},
		{"a restart annotation is a new revision", func(p *corev1.PodTemplateSpec) {
			p.Annotations["kubectl.kubernetes.io/restartedAt"] = "2026-01-01T00:00:00Z"
		}, false},
		{"a new user label is a new revision", func(p *corev1.PodTemplateSpec) { p.Labels["tier"] = "web" }, false},
		{"Sluice's own labels and pod-template-hash do not count", func(p *corev1.PodTemplateSpec) {
			p.Labels[workload.LabelWorkload] = "podinfo-primary"
			p.Labels[workload.LabelColor] = "blue"
			p.Labels[workload.LabelPodTemplateHash] = "abc123"
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			changed := base.DeepCopy()
			tt.change(changed)
			g.Expect(workload.Revision(changed) == workload.Revision(&base)).To(Equal(tt.same))
			g.Expect(workload.Revision(changed)).To(MatchRegexp(`^[0-9a-f]{16}$`))
		})
	}
}

func TestRevisionIsStableAcrossProcesses(t *testing.T) {
	g := NewWithT(t)
	tmpl := userDeployment("podinfo", "shop").Spec.Template
	// Pinned: if this changes, every running release restarts on upgrade.
	g.Expect(workload.Revision(&tmpl)).To(Equal(workload.Revision(tmpl.DeepCopy())))
	g.Expect(workload.Revision(&tmpl)).To(Equal("fd7401828ccb34db"))
}

func TestCopyDeployment(t *testing.T) {
	target := userDeployment("podinfo", "shop")
	canary := &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "shop"}}
	canary.Spec.TargetRef.Name = "podinfo"
	bg := &v1alpha1.BlueGreen{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "shop"}}
	bg.Spec.TargetRef.Name = "podinfo"

	tests := []struct {
		name     string
		copy     workload.Copy
		wantN    string
		selector map[string]string
		extra    map[string]string
		renamed  string
	}{
		{"the primary renames the selector's labels and adds the workload label", workload.PrimaryCopy(canary, target, 2), "podinfo-primary",
			map[string]string{"app": "podinfo-primary", workload.LabelWorkload: "podinfo-primary"},
			map[string]string{workload.LabelWorkload: "podinfo-primary"}, "app"},
		{"a color adds the workload and color labels", workload.ColorCopy(bg, target, v1alpha1.ColorGreen, 2), "podinfo-green",
			map[string]string{"app": "podinfo", workload.LabelWorkload: "podinfo-green", workload.LabelColor: "green"},
			map[string]string{workload.LabelWorkload: "podinfo-green", workload.LabelColor: "green"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name+" to the selector and the template and copies everything else", func(t *testing.T) {
			g := NewWithT(t)
			d := tt.copy.Deployment()
			g.Expect(d.Name).To(Equal(tt.wantN))
			g.Expect(d.Namespace).To(Equal("shop"))
			g.Expect(*d.Spec.Replicas).To(Equal(int32(2)))
			g.Expect(d.Spec.Selector.MatchLabels).To(Equal(tt.selector))
			g.Expect(d.Spec.Selector.MatchExpressions).To(BeEmpty())
			for k, v := range tt.selector {
				g.Expect(d.Spec.Template.Labels).To(HaveKeyWithValue(k, v), "the pods carry what the selector selects")
			}
			g.Expect(labels.SelectorFromSet(target.Spec.Selector.MatchLabels).Matches(labels.Set(d.Spec.Template.Labels))).
				To(Equal(tt.renamed == ""), "the target's selector matches a color's pods, never the primary's")
			if tt.renamed != "" {
				g.Expect(d.Spec.Template.Annotations).To(HaveKeyWithValue(workload.AnnotationRenamedLabels, tt.renamed))
			}
			g.Expect(*workload.UserTemplate(&d.Spec.Template)).To(Equal(target.Spec.Template), "the template, read back, is the user's")
			g.Expect(workload.Revision(&d.Spec.Template)).To(Equal(workload.Revision(&target.Spec.Template)))
			g.Expect(d.Annotations).To(HaveKeyWithValue(workload.AnnotationRevision, workload.Revision(&target.Spec.Template)))
			g.Expect(d.Spec.Strategy).To(Equal(workload.CopyStrategy(target.Spec.Strategy)), "never the target's Recreate")
			g.Expect(d.Spec.MinReadySeconds).To(Equal(int32(5)))
			g.Expect(target.Spec.Template.Labels).NotTo(HaveKey(workload.LabelWorkload), "the user's template is not modified")
			g.Expect(target.Spec.Selector.MatchLabels).To(Equal(map[string]string{"app": "podinfo"}), "the user's selector is not modified")
		})
	}
}

func TestCopyStrategy(t *testing.T) {
	surge := func(v intstr.IntOrString) appsv1.DeploymentStrategy {
		zero := intstr.FromInt32(0)
		return appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &v, MaxUnavailable: &zero}}
	}
	rolling := func(maxSurge, maxUnavailable intstr.IntOrString) appsv1.DeploymentStrategy {
		return appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &maxSurge, MaxUnavailable: &maxUnavailable}}
	}
	tests := []struct {
		name   string
		target appsv1.DeploymentStrategy
		want   appsv1.DeploymentStrategy
	}{
		{"turn Recreate into a rolling update that never takes a pod away first",
			appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}, surge(intstr.FromString("25%"))},
		{"keep the target's maxSurge and force maxUnavailable to 0",
			rolling(intstr.FromInt32(2), intstr.FromString("50%")), surge(intstr.FromInt32(2))},
		{"use 25% when the target's maxSurge is 0 (it relies on maxUnavailable)",
			rolling(intstr.FromInt32(0), intstr.FromInt32(1)), surge(intstr.FromString("25%"))},
		{"use 25% when the target's maxSurge is 0%",
			rolling(intstr.FromString("0%"), intstr.FromInt32(1)), surge(intstr.FromString("25%"))},
		{"use 25% for an empty strategy", appsv1.DeploymentStrategy{}, surge(intstr.FromString("25%"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			NewWithT(t).Expect(workload.CopyStrategy(tt.target)).To(Equal(tt.want))
		})
	}
}

func TestReadiness(t *testing.T) {
	tests := []struct {
		name         string
		generation   int64
		status       appsv1.DeploymentStatus
		wantComplete bool
		wantReady    int32
	}{
		{"a rollout the controller has not seen yet is neither complete nor ready", 2,
			appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3}, false, 0},
		{"every pod updated and available is complete", 2,
			appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3}, true, 3},
		{"ready but not yet available for minReadySeconds is not complete", 2,
			appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 1}, false, 3},
		{"old pods still running are not complete and are subtracted from the ready count", 2,
			appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 5, UpdatedReplicas: 3, ReadyReplicas: 4, AvailableReplicas: 4}, false, 2},
		{"the ready count never goes below zero", 2,
			appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 5, UpdatedReplicas: 1, ReadyReplicas: 2}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			d := userDeployment("podinfo", "shop")
			d.Generation, d.Status = tt.generation, tt.status
			r := workload.ReadinessOf(d)
			g.Expect(r.Desired).To(Equal(int32(3)))
			g.Expect(r.Complete()).To(Equal(tt.wantComplete))
			g.Expect(r.ReadyAtRevision()).To(Equal(tt.wantReady))
		})
	}
}

func TestServices(t *testing.T) {
	target := userDeployment("podinfo", "shop")
	port := v1alpha1.ServicePort{Port: 80, TargetPort: new(intstr.FromString("http")), PortName: "http-web"}
	canary := &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "shop"}}
	canary.Spec.TargetRef.Name, canary.Spec.Service = "podinfo", port
	bg := &v1alpha1.BlueGreen{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "shop"}}
	bg.Spec.TargetRef.Name, bg.Spec.Service = "podinfo", v1alpha1.ServicePort{Port: 9898}

	t.Run("a Canary's apex and primary select the primary pods and the canary selects the current ReplicaSet's", func(t *testing.T) {
		g := NewWithT(t)
		primaryPods, err := workload.PrimaryPodLabels(target)
		g.Expect(err).NotTo(HaveOccurred())
		svcs, err := workload.CanaryServices(canary, target, primaryPods, "5d4f8c")
		g.Expect(err).NotTo(HaveOccurred())
		got := map[string]map[string]string{}
		for _, s := range svcs {
			got[s.Name] = s.Spec.Selector
			g.Expect(s.Namespace).To(Equal("shop"))
			g.Expect(s.Spec.Ports).To(Equal([]corev1.ServicePort{{Name: "http-web", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromString("http")}}))
		}
		g.Expect(got).To(Equal(map[string]map[string]string{
			"podinfo":         {"app": "podinfo-primary", workload.LabelWorkload: "podinfo-primary"},
			"podinfo-primary": {"app": "podinfo-primary", workload.LabelWorkload: "podinfo-primary"},
			"podinfo-canary":  {"app": "podinfo", workload.LabelPodTemplateHash: "5d4f8c"},
		}))
	})

	t.Run("a BlueGreen's active Service selects the active color and the preview the other, on the target port by default", func(t *testing.T) {
		g := NewWithT(t)
		svcs, err := workload.BlueGreenServices(bg, target, v1alpha1.ColorBlue)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(svcs).To(HaveLen(2))
		g.Expect(svcs[0].Name).To(Equal("podinfo"))
		g.Expect(svcs[0].Spec.Selector).To(Equal(map[string]string{"app": "podinfo", workload.LabelColor: "blue"}))
		g.Expect(svcs[1].Name).To(Equal("podinfo-preview"))
		g.Expect(svcs[1].Spec.Selector).To(Equal(map[string]string{"app": "podinfo", workload.LabelColor: "green"}))
		g.Expect(svcs[0].Spec.Ports[0].Name).To(Equal("http"))
		g.Expect(svcs[0].Spec.Ports[0].TargetPort).To(Equal(intstr.FromInt32(9898)))
	})

	t.Run("a target that selects with expressions only is refused", func(t *testing.T) {
		g := NewWithT(t)
		exprs := userDeployment("podinfo", "shop")
		exprs.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
			Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"podinfo"},
		}}}
		_, err := workload.CanaryServices(canary, exprs, nil, "5d4f8c")
		g.Expect(errors.Is(err, workload.ErrNoMatchLabels)).To(BeTrue())
	})
}
