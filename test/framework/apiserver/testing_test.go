package apiserver

import (
	"fmt"
	"testing"

	. "github.com/onsi/gomega"
)

// recorder is a TB that records what the helpers report; Fatalf stops the
// helper as testing's does, by unwinding.
type recorder struct {
	fatals, errors []string
	cleanups       []func()
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.fatals = append(r.fatals, fmt.Sprintf(format, args...))
	panic(r)
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

// run calls f, stopping where a Fatalf stops it.
func (r *recorder) run(f func()) {
	defer func() {
		if p := recover(); p != nil && p != r {
			panic(p)
		}
	}()
	f()
}

func TestForTestFailsAndSaysHowToBuildAMissingAPIServer(t *testing.T) {
	g := NewWithT(t)
	t.Setenv("KUBEBUILDER_ASSETS", t.TempDir())
	r := &recorder{}
	r.run(func() { ForTest(r) })
	g.Expect(r.fatals).To(ConsistOf(And(ContainSubstring("start the API server"), ContainSubstring("run `make tools`"))))
	g.Expect(r.cleanups).To(BeEmpty(), "nothing started, nothing to stop")

	r = &recorder{}
	r.run(func() { SuiteForTest(r) })
	g.Expect(r.fatals).To(ConsistOf(ContainSubstring("run `make tools`")))
	g.Expect(r.cleanups).To(BeEmpty())
}
