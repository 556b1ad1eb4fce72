package hooks

import (
	"context"
	"fmt"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

const (
	// LogLines is how many lines at the end of a failed pod's log are kept.
	LogLines = 10
	// LogBytes bounds the log excerpt kept in a run's message.
	LogBytes = 1024
	// logFetchBytes bounds what is fetched, in case the last lines are huge.
	logFetchBytes = 64 * 1024
)

// PodLog is the end of the log of one container of a Job's pod.
type PodLog struct {
	// Pod is the pod's name.
	Pod string
	// Container is the container the log is from.
	Container string
	// Text is the end of the log as the container wrote it.
	Text string
}

// LogReader reads the end of the log of a Job's failed pod, for the message
// of a failed run.
type LogReader interface {
	// FailedPodLog returns the last lines of the log of the Job's pod that
	// failed last, or a zero PodLog when the Job has no pod left.
	FailedPodLog(ctx context.Context, job *batchv1.Job) (PodLog, error)
}

// PodLogs is the LogReader of a cluster: it lists the Job's pods and reads a
// container's log through the API server (pods and pods/log, get and list).
// It goes straight to the API server so that the operator needs no cache of
// every pod in the cluster.
type PodLogs struct {
	// Clientset reaches the API server.
	Clientset kubernetes.Interface
}

var _ LogReader = PodLogs{}

// FailedPodLog implements LogReader. It picks the failed pod that started
// last (any pod of the Job when none failed, for instance when the deadline
// removed them) and, in it, the first container that exited with an error.
func (p PodLogs) FailedPodLog(ctx context.Context, job *batchv1.Job) (PodLog, error) {
	pods, err := p.Clientset.CoreV1().Pods(job.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: batchv1.ControllerUidLabel + "=" + string(job.UID),
	})
	if err != nil {
		return PodLog{}, fmt.Errorf("list the pods of Job %s: %w", job.Name, err)
	}
	pod := lastFailedPod(pods.Items)
	if pod == nil {
		return PodLog{}, nil
	}
	container := failedContainer(pod)
	tailLines, limit := int64(LogLines), int64(logFetchBytes)
	raw, err := p.Clientset.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{
		Container:  container,
		TailLines:  &tailLines,
		LimitBytes: &limit,
	}).DoRaw(ctx)
	if err != nil {
		return PodLog{}, fmt.Errorf("read the log of pod %s container %s: %w", pod.Name, container, err)
	}
	return PodLog{Pod: pod.Name, Container: container, Text: string(raw)}, nil
}

// lastFailedPod returns the failed pod created last, else the pod created
// last, else nil.
func lastFailedPod(pods []corev1.Pod) *corev1.Pod {
	var last, lastFailed *corev1.Pod
	for i := range pods {
		p := &pods[i]
		if last == nil || last.CreationTimestamp.Before(&p.CreationTimestamp) {
			last = p
		}
		if p.Status.Phase == corev1.PodFailed && (lastFailed == nil || lastFailed.CreationTimestamp.Before(&p.CreationTimestamp)) {
			lastFailed = p
		}
	}
	if lastFailed != nil {
		return lastFailed
	}
	return last
}

// failedContainer names the first container of pod that terminated with a
// non-zero exit code, else its first container.
func failedContainer(pod *corev1.Pod) string {
	for _, cs := range pod.Status.ContainerStatuses {
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			return cs.Name
		}
	}
	if len(pod.Spec.Containers) > 0 {
		return pod.Spec.Containers[0].Name
	}
	return ""
}

// summariseLog keeps the last LogLines non-empty lines of a log, each made one
// clean line, joined by " | ", and at most LogBytes of them.
func summariseLog(text string) string {
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if l = oneLine(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > LogLines {
		lines = lines[len(lines)-LogLines:]
	}
	return tail(strings.Join(lines, " | "), LogBytes)
}
