package v1alpha1_test

import (
	"encoding/json"
	"testing"

	. "github.com/onsi/gomega"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func TestJobHookDecoding(t *testing.T) {
	t.Run("decodes a pod template", func(t *testing.T) {
		g := NewWithT(t)
		var j v1alpha1.JobHook
		g.Expect(utiljson.Unmarshal([]byte(`{"activeDeadlineSeconds":60,"template":{"metadata":{"labels":{"a":"b"}},`+
			`"spec":{"containers":[{"name":"t","image":"busybox","ports":[{"containerPort":8080}]}]}}}`), &j)).To(Succeed())
		g.Expect(j.TemplateError).To(BeEmpty())
		g.Expect(j.ActiveDeadlineSeconds).To(Equal(int64(60)))
		g.Expect(j.Template.Labels).To(HaveKeyWithValue("a", "b"))
		g.Expect(j.Template.Spec.Containers[0].Ports[0].ContainerPort).To(Equal(int32(8080)))
	})
	t.Run("keeps a malformed template's error on the object instead of failing the whole list", func(t *testing.T) {
		g := NewWithT(t)
		list := `{"items":[{"spec":{"hooks":[{"name":"h","type":"rollback","job":{"backoffLimit":1,"template":` +
			`{"spec":{"containers":[{"name":"t","ports":[{"containerPort":"8080"}]}]}}}}]}},{"spec":{"targetRef":{"name":"ok"}}}]}`
		var l v1alpha1.CanaryList
		g.Expect(utiljson.Unmarshal([]byte(list), &l)).To(Succeed())
		g.Expect(l.Items).To(HaveLen(2))
		j := l.Items[0].Spec.Hooks[0].Job
		g.Expect(j.TemplateError).To(ContainSubstring("not a pod template"))
		g.Expect(j.TemplateError).To(ContainSubstring("containerPort"))
		g.Expect(j.BackoffLimit).To(Equal(int32(1)))
		g.Expect(j.Template.Spec.Containers).To(BeEmpty(), "a half-decoded template must not be run")
		g.Expect(l.Items[1].Spec.TargetRef.Name).To(Equal("ok"))
	})
	t.Run("refuses a JobHook that is not an object at all", func(t *testing.T) {
		var j v1alpha1.JobHook
		NewWithT(t).Expect(json.Unmarshal([]byte(`"job"`), &j)).NotTo(Succeed())
	})
}
