package hooks

import (
	"context"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func jobPod(name, jobUID string, created time.Time, phase corev1.PodPhase, exits map[string]int32) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", CreationTimestamp: metav1.NewTime(created),
			Labels: map[string]string{batchv1.ControllerUidLabel: jobUID}},
		Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "setup"}, {Name: "check"}}},
		Status: corev1.PodStatus{Phase: phase},
	}
	for _, c := range p.Spec.Containers {
		code, ok := exits[c.Name]
		if !ok {
			continue
		}
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}},
		})
	}
	return p
}

func TestPodLogsReadsTheLastFailedPodsFailedContainer(t *testing.T) {
	g := NewWithT(t)
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	cs := fake.NewClientset(
		jobPod("first-failure", "job-1", t0, corev1.PodFailed, map[string]int32{"setup": 0, "check": 1}),
		jobPod("last-failure", "job-1", t0.Add(time.Minute), corev1.PodFailed, map[string]int32{"setup": 0, "check": 2}),
		jobPod("other-job", "job-2", t0.Add(time.Hour), corev1.PodFailed, map[string]int32{"check": 1}),
	)
	var asked *corev1.PodLogOptions
	cs.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "log" {
			return false, nil, nil
		}
		asked = a.(k8stesting.GenericAction).GetValue().(*corev1.PodLogOptions)
		return true, &runtime.Unknown{Raw: []byte("connecting\nFATAL: no such table\n")}, nil
	})
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "podinfo-check-abc", Namespace: "shop", UID: "job-1"}}

	got, err := PodLogs{Clientset: cs}.FailedPodLog(context.Background(), job)

	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(Equal(PodLog{Pod: "last-failure", Container: "check", Text: "connecting\nFATAL: no such table\n"}))
	g.Expect(asked.Container).To(Equal("check"))
	g.Expect(*asked.TailLines).To(BeEquivalentTo(LogLines))
}

func TestPodLogsReturnsNothingWhenNoPodIsLeft(t *testing.T) {
	g := NewWithT(t)
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "podinfo-check-abc", Namespace: "shop", UID: "job-1"}}

	got, err := PodLogs{Clientset: fake.NewClientset()}.FailedPodLog(context.Background(), job)

	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(BeZero())
}

func TestSummariseLog(t *testing.T) {
	cases := []struct {
		name string
		log  string
		want string
	}{
		{name: "a short log is kept, one line per entry", log: "a\nb\n", want: "a | b"},
		{name: "blank lines and control characters are dropped", log: "a\n\n\x1b[1mb\r\n  \n", want: "a | [1mb"},
		{name: "only the last ten lines are kept", log: "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12", want: "3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11 | 12"},
		{name: "an empty log is empty", log: "", want: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(summariseLog(tc.log)).To(Equal(tc.want))
		})
	}
}

func TestSummariseLogKeepsTheEndOfLongLines(t *testing.T) {
	g := NewWithT(t)
	long := strings.Repeat("é", 2000) + " the end"

	got := summariseLog(long)

	g.Expect(len(got)).To(BeNumerically("<=", LogBytes))
	g.Expect(got).To(HavePrefix("…"))
	g.Expect(got).To(HaveSuffix("é the end"))
	g.Expect(strings.ToValidUTF8(got, "?")).To(Equal(got))
}
