package workload_test

import (
	"testing"

	. "github.com/onsi/gomega"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/sluice-dev/sluice/internal/workload"
)

func TestAutoscalerCopy(t *testing.T) {
	g := NewWithT(t)
	user := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "shop", Labels: map[string]string{"team": "a"}},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			MinReplicas:    ptr.To[int32](2),
			MaxReplicas:    9,
		},
	}
	h := workload.AutoscalerCopy(user, "podinfo-primary")
	g.Expect(h.Name).To(Equal("podinfo-primary"))
	g.Expect(h.Namespace).To(Equal("shop"))
	g.Expect(h.Spec.ScaleTargetRef).To(Equal(autoscalingv2.CrossVersionObjectReference{
		APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo-primary"}))
	g.Expect(h.Spec.MinReplicas).To(Equal(ptr.To[int32](2)))
	g.Expect(h.Spec.MaxReplicas).To(Equal(int32(9)))
	g.Expect(h.Labels).To(Equal(map[string]string{workload.LabelWorkload: "podinfo-primary"}), "not the user's labels")
	g.Expect(user.Spec.ScaleTargetRef.Name).To(Equal("podinfo"), "the user's autoscaler is not modified")
}
