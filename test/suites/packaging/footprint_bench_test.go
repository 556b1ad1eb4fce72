package packaging

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
	"github.com/sluice-dev/sluice/test/framework/apiserver"
	"github.com/sluice-dev/sluice/test/framework/cluster"
)

// footprintCanaries is how many Canaries BenchmarkManagerFootprint runs.
const footprintCanaries = 100

// BenchmarkManagerFootprint measures the manager binary (built as the
// Dockerfile builds it) on a local control plane with kwok nodes: it brings
// footprintCanaries Canaries to Ready, then releases a new revision of every
// one of them at once (one 50% step, no analysis) and waits until all are
// promoted. It reports the peak resident memory and the CPU time the
// process used. docs/operations.md (sizing) quotes it:
//
//	go test ./test/suites/packaging -run '^$' -bench ManagerFootprint -benchtime 1x
func BenchmarkManagerFootprint(b *testing.B) {
	for range b.N {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		crds, err := cluster.DefaultCRDs()
		if err != nil {
			b.Fatal(err)
		}
		c, err := cluster.Start(ctx, cluster.Options{CRDs: crds, Nodes: 4})
		if err != nil {
			b.Fatal(err)
		}
		k8s, err := client.New(c.Config(), client.Options{Scheme: apiserver.NewScheme()})
		if err != nil {
			b.Fatal(err)
		}
		const ns = "footprint"
		ensureNamespace(ctx, b, k8s, ns)
		waitDefaultServiceAccount(ctx, b, k8s, ns)
		for i := range footprintCanaries {
			createNamedRelease(ctx, b, k8s, ns, fmt.Sprintf("app-%03d", i))
		}

		mgr := exec.CommandContext(ctx, buildAsDockerfile(b), "--metrics-bind-address=0", "--health-probe-bind-address=0", "--zap-log-level=error")
		mgr.Env = append(os.Environ(), "KUBECONFIG="+c.KubeconfigPath())
		mgr.Stderr = os.Stderr
		if err := mgr.Start(); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		first := waitAllStable(ctx, b, k8s, ns, nil)
		initialised := time.Since(t0)
		for i := range footprintCanaries {
			bumpImage(ctx, b, k8s, ns, fmt.Sprintf("app-%03d", i))
		}
		t1 := time.Now()
		waitAllStable(ctx, b, k8s, ns, first)
		released := time.Since(t1)

		peak, cpu := procFootprint(b, mgr.Process.Pid)
		_ = mgr.Process.Kill()
		_ = mgr.Wait()
		if err := c.Stop(); err != nil {
			b.Error(err)
		}
		cancel()
		b.ReportMetric(peak, "peak-RSS-MiB")
		b.ReportMetric(cpu, "CPU-s")
		b.ReportMetric(initialised.Seconds(), "s-to-ready")
		b.ReportMetric(released.Seconds(), "s-to-promote-all")
	}
}

func waitDefaultServiceAccount(ctx context.Context, b *testing.B, k8s client.Client, ns string) {
	for ctx.Err() == nil {
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "default"}, &corev1.ServiceAccount{}); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Fatalf("namespace %s never got its default ServiceAccount", ns)
}

// createNamedRelease creates a Deployment and a one-step Canary named name.
func createNamedRelease(ctx context.Context, b *testing.B, k8s client.Client, ns, name string) {
	d, canary := releaseObjects(ns, name)
	canary.Spec.Steps = []v1alpha1.CanaryStep{{SetWeight: ptr.To[int32](50)}}
	for _, o := range []client.Object{d, canary} {
		if err := k8s.Create(ctx, o); err != nil {
			b.Fatalf("create %s: %v", name, err)
		}
	}
}

func bumpImage(ctx context.Context, b *testing.B, k8s client.Client, ns, name string) {
	d, _ := releaseObjects(ns, name)
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(d), d); err != nil {
		b.Fatal(err)
	}
	patch := client.MergeFrom(d.DeepCopy())
	d.Spec.Template.Spec.Containers[0].Image = "podinfo:6.0.1"
	if err := k8s.Patch(ctx, d, patch); err != nil {
		b.Fatal(err)
	}
}

// waitAllStable waits until every Canary in ns is Ready with a stable
// revision other than the one in before, and returns the stable revisions.
func waitAllStable(ctx context.Context, b *testing.B, k8s client.Client, ns string, before map[string]string) map[string]string {
	for {
		list := &v1alpha1.CanaryList{}
		if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
			b.Fatal(err)
		}
		stable := map[string]string{}
		for _, c := range list.Items {
			if meta.IsStatusConditionTrue(c.Status.Conditions, v1alpha1.ConditionReady) &&
				c.Status.StableRevision != "" && c.Status.StableRevision != before[c.Name] {
				stable[c.Name] = c.Status.StableRevision
			}
		}
		if len(stable) == footprintCanaries {
			return stable
		}
		select {
		case <-ctx.Done():
			b.Fatalf("only %d of %d Canaries reached a new stable revision", len(stable), footprintCanaries)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// procFootprint reads a process's peak resident memory (MiB) and the CPU
// time it used (seconds) from /proc.
func procFootprint(b *testing.B, pid int) (peakMiB, cpuSeconds float64) {
	status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			peakMiB = kb / 1024
		}
	}
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name, which ends at the last ')': utime and
	// stime are the 14th and 15th fields of the whole line, in clock ticks.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return peakMiB, (utime + stime) / ticksPerSecond
}
