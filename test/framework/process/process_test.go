package process

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
		g.Eventually(p.Exited()).WithTimeout(deadline.Scale(5 * time.Second)).Should(BeClosed())
		err := p.ExitedEarly()
		g.Expect(err).To(MatchError(And(
			ContainSubstring("script exited early (exit status 2)"),
			ContainSubstring("starting\nF0101 cannot read --config"),
		)))
		g.Expect(errors.Is(err, ErrPortTaken)).To(BeFalse())
	})
	t.Run("a process that exited because its port was taken is marked so", func(t *testing.T) {
		g := NewWithT(t)
		p := startScript(t, "echo 'listen tcp 127.0.0.1:2380: bind: address already in use' >&2; exit 1")
		g.Eventually(p.Exited()).WithTimeout(deadline.Scale(5 * time.Second)).Should(BeClosed())
		g.Expect(errors.Is(p.ExitedEarly(), ErrPortTaken)).To(BeTrue())
	})
	t.Run("a running process reports nothing, and Stop ends it with SIGTERM", func(t *testing.T) {
		g := NewWithT(t)
		p := startScript(t, "trap 'exit 0' TERM; while :; do sleep 0.1; done")
		g.Consistently(p.ExitedEarly).WithTimeout(300 * time.Millisecond).Should(Succeed())
		g.Expect(p.Stop()).To(Succeed())
		g.Expect(p.Exited()).To(BeClosed())
		g.Expect(p.Stop()).To(Succeed(), "stopping it again")
	})
	t.Run("a log is truncated on start unless AppendLog keeps it", func(t *testing.T) {
		g := NewWithT(t)
		dir := t.TempDir()
		log := filepath.Join(dir, "script.log")
		g.Expect(os.WriteFile(log, []byte("before\n"), 0o600)).To(Succeed())
		script := writeScript(t, dir, "echo after")
		run := func(appendLog bool) string {
			p, err := Start(Options{Name: "script", Binary: script, LogPath: log, AppendLog: appendLog})
			g.Expect(err).NotTo(HaveOccurred())
			g.Eventually(p.Exited()).WithTimeout(deadline.Scale(5 * time.Second)).Should(BeClosed())
			data, err := os.ReadFile(log)
			g.Expect(err).NotTo(HaveOccurred())
			return string(data)
		}
		g.Expect(run(true)).To(Equal("before\nafter\n"))
		g.Expect(run(false)).To(Equal("after\n"))
		g.Expect(LogTail(filepath.Join(dir, "missing.log"), 3)).To(HavePrefix("(no log: "))
	})
	t.Run("a missing binary is an error that names the process", func(t *testing.T) {
		g := NewWithT(t)
		_, err := Start(Options{Name: "etcd", Binary: filepath.Join(t.TempDir(), "etcd"),
			LogPath: filepath.Join(t.TempDir(), "etcd.log")})
		g.Expect(err).To(MatchError(ContainSubstring("start etcd (")))
	})
}

// startScript runs a shell script as a process named "script".
func startScript(t *testing.T, script string) *Process {
	t.Helper()
	dir := t.TempDir()
	p, err := Start(Options{Name: "script", Binary: writeScript(t, dir, script), LogPath: filepath.Join(dir, "script.log")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p
}

// writeScript writes an executable shell script into dir.
func writeScript(t *testing.T, dir, script string) string {
	t.Helper()
	path := filepath.Join(dir, "script.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}
