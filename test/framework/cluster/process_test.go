package cluster

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/test/framework/deadline"
)

func TestProcess(t *testing.T) {
	t.Run("a process that exited reports its status and the end of its log", func(t *testing.T) {
		g := NewWithT(t)
		p := startScript(t, "echo starting; echo 'F0101 cannot read --config' >&2; exit 2")
		g.Eventually(p.exited).WithTimeout(deadline.Scale(5 * time.Second)).Should(BeClosed())
		err := p.exitedEarly()
		g.Expect(err).To(MatchError(And(
			ContainSubstring("script exited early (exit status 2)"),
			ContainSubstring("starting\nF0101 cannot read --config"),
		)))
		g.Expect(errors.Is(err, errPortTaken)).To(BeFalse())
	})
	t.Run("a process that exited because its port was taken is marked so", func(t *testing.T) {
		g := NewWithT(t)
		p := startScript(t, "echo 'listen tcp 127.0.0.1:2380: bind: address already in use' >&2; exit 1")
		g.Eventually(p.exited).WithTimeout(deadline.Scale(5 * time.Second)).Should(BeClosed())
		g.Expect(errors.Is(p.exitedEarly(), errPortTaken)).To(BeTrue())
	})
	t.Run("a running process reports nothing, and stop ends it with SIGTERM", func(t *testing.T) {
		g := NewWithT(t)
		p := startScript(t, "trap 'exit 0' TERM; while :; do sleep 0.1; done")
		g.Consistently(p.exitedEarly).WithTimeout(300 * time.Millisecond).Should(Succeed())
		g.Expect(p.stop()).To(Succeed())
		g.Expect(p.exited).To(BeClosed())
		g.Expect(p.stop()).To(Succeed(), "stopping it again")
	})
}

// startScript runs a shell script as a process named "script".
func startScript(t *testing.T, script string) *process {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "script.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := startProcess("script", path, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.kill)
	return p
}
