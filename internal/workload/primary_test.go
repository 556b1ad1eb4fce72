package workload_test

import (
	"errors"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/internal/workload"
)

func TestPrimaryPodLabels(t *testing.T) {
	withSelector := func(sel *metav1.LabelSelector, tmpl map[string]string) *appsv1.Deployment {
		d := userDeployment("web", "shop")
		d.Spec.Selector, d.Spec.Template.Labels = sel, tmpl
		return d
	}
	long := strings.Repeat("a", 56)
	tests := []struct {
		name    string
		target  *appsv1.Deployment
		want    map[string]string
		wantErr func(error) bool
	}{
		{"every matchLabels value takes the suffix, and the workload label is added",
			withSelector(&metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "front"}},
				map[string]string{"app": "web", "tier": "front", "version": "v1"}),
			map[string]string{"app": "web-primary", "tier": "front-primary", workload.LabelWorkload: "web-primary"}, nil},
		{"matchExpressions are not carried over: the renamed labels select the primary's pods alone",
			withSelector(&metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"},
				MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"web"}}}},
				map[string]string{"app": "web"}),
			map[string]string{"app": "web-primary", workload.LabelWorkload: "web-primary"}, nil},
		{"a value 55 characters long still fits", withSelector(&metav1.LabelSelector{MatchLabels: map[string]string{"app": long[:55]}},
			map[string]string{"app": long[:55]}), map[string]string{"app": long[:55] + "-primary", workload.LabelWorkload: "web-primary"}, nil},
		{"a value too long to take the suffix is a spec error naming the label",
			withSelector(&metav1.LabelSelector{MatchLabels: map[string]string{"app": long}}, map[string]string{"app": long}),
			nil, func(err error) bool {
				var sel *workload.SelectorLabelError
				return errors.As(err, &sel) && sel.Key == "app" && strings.Contains(err.Error(), "shorten the value of app")
			}},
		{"an empty value takes the suffix (-primary is not a valid label value)",
			withSelector(&metav1.LabelSelector{MatchLabels: map[string]string{"app": ""}}, map[string]string{"app": ""}),
			nil, func(err error) bool { var sel *workload.SelectorLabelError; return errors.As(err, &sel) }},
		{"a selector with expressions only is refused",
			withSelector(&metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpExists}}},
				map[string]string{"app": "web"}),
			nil, func(err error) bool { return errors.Is(err, workload.ErrNoMatchLabels) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := workload.PrimaryPodLabels(tt.target)
			if tt.wantErr != nil {
				g.Expect(tt.wantErr(err)).To(BeTrue(), "error %v", err)
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tt.want))
			sel, err := metav1.LabelSelectorAsSelector(tt.target.Spec.Selector)
			g.Expect(err).NotTo(HaveOccurred())
			c := &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}}
			c.Spec.TargetRef.Name = "web"
			pods := labels.Set(workload.PrimaryCopy(c, tt.target, 1).Deployment().Spec.Template.Labels)
			g.Expect(sel.Matches(pods)).To(BeFalse(), "the target's selector must not match the primary's pods")
			g.Expect(labels.SelectorFromSet(got).Matches(pods)).To(BeTrue(), "the primary's selector matches its pods")
		})
	}
}

func TestSelectorStaleAndKeepSelector(t *testing.T) {
	target := userDeployment("web", "shop")
	c := &v1alpha1.Canary{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}}
	c.Spec.TargetRef.Name = "web"
	cp := workload.PrimaryCopy(c, target, 2)
	current := cp.Deployment()
	legacy := current.DeepCopy()
	legacy.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", workload.LabelWorkload: "web-primary"}}

	t.Run("a primary with the renamed selector is not stale and is kept as built", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(workload.SelectorStale(current, cp)).To(BeFalse())
		g.Expect(workload.SelectorStale(nil, cp)).To(BeFalse(), "a missing primary is created, not replaced")
		g.Expect(cp.KeepSelector(current).Deployment()).To(Equal(cp.Deployment()))
	})
	t.Run("a primary from before the rename is stale, and keeps its selector and its pods' labels until replaced", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(workload.SelectorStale(legacy, cp)).To(BeTrue())
		d := cp.KeepSelector(legacy).Deployment()
		g.Expect(d.Spec.Selector).To(Equal(legacy.Spec.Selector))
		g.Expect(d.Spec.Template.Labels).To(HaveKeyWithValue("app", "web"))
		g.Expect(d.Spec.Template.Annotations).NotTo(HaveKey(workload.AnnotationRenamedLabels))
		g.Expect(workload.Revision(&d.Spec.Template)).To(Equal(workload.Revision(&target.Spec.Template)),
			"the same revision either way: keeping the selector starts no release")
	})
}

func TestHandBackSelector(t *testing.T) {
	tests := []struct {
		name          string
		current, base map[string]string
		want          map[string]string
	}{
		{"the target's matchLabels when it is known", map[string]string{"app": "web-primary", workload.LabelWorkload: "web-primary"},
			map[string]string{"app": "web"}, map[string]string{"app": "web"}},
		{"without the target, a primary's selector loses Sluice's label and the suffix",
			map[string]string{"app": "web-primary", "tier": "db", workload.LabelWorkload: "web-primary"}, nil,
			map[string]string{"app": "web", "tier": "db"}},
		{"without the target, an older primary's selector only loses Sluice's label",
			map[string]string{"app": "web", workload.LabelWorkload: "web-primary"}, nil, map[string]string{"app": "web"}},
		{"a color's selector loses the color label and keeps its values",
			map[string]string{"app": "web-primary", workload.LabelColor: "blue"}, nil, map[string]string{"app": "web-primary"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			NewWithT(t).Expect(workload.HandBackSelector(tt.current, tt.base)).To(Equal(tt.want))
		})
	}
}
