package apiserver

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TB is the part of testing.TB the helpers below use. Ginkgo's GinkgoT()
// has it too, so a Ginkgo suite calls them from BeforeSuite: what they
// register with Cleanup then runs when the suite ends.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Cleanup(func())
}

// ForTest starts an Env (Start) and stops it when t ends. It fails t when
// the API server does not start (saying how to build a missing binary) or
// does not stop.
//
//	var _ = BeforeSuite(func() {
//		env = apiserver.ForTest(GinkgoT())
//		namespace = env.NewNamespace(GinkgoT(), "istio-")
//	})
func ForTest(t TB) *Env {
	t.Helper()
	env, err := Start()
	if err != nil {
		t.Fatalf("start the API server: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stop the API server: %v", err)
		}
	})
	return env
}

// SuiteForTest starts a Suite (StartSuite: the API server, a real
// Prometheus, the Deployment stand-in and the operator) and stops all of it
// when t ends, failing t when it does not start or stop.
func SuiteForTest(t TB) *Suite {
	t.Helper()
	s, err := StartSuite()
	if err != nil {
		t.Fatalf("start the API server, Prometheus and the operator: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop the API server, Prometheus and the operator: %v", err)
		}
	})
	return s
}

// NewNamespace creates a namespace whose name is prefix and a random
// suffix, and returns the name. It fails t when the API server refuses it.
func (e *Env) NewNamespace(t TB, prefix string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix}}
	if err := e.Client.Create(context.Background(), ns); err != nil {
		t.Fatalf("create a namespace %s...: %v", prefix, err)
	}
	return ns.Name
}
