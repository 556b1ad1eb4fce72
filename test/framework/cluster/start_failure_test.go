package cluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestStartFailsAndCleansUpWhenAProcessExitsEarly(t *testing.T) {
	g := NewWithT(t)
	bins, err := findBinaries()
	g.Expect(err).NotTo(HaveOccurred())
	// A scheduler that refuses to run, as a bad flag would make it.
	bins.scheduler = filepath.Join(t.TempDir(), "kube-scheduler")
	script := "#!/bin/sh\necho 'E0101 run.go:72] unknown flag: --bogus' >&2\nexit 3\n"
	g.Expect(os.WriteFile(bins.scheduler, []byte(script), 0o755)).To(Succeed())
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where Start creates its temporary directory

	var progress strings.Builder
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c, err := start(ctx, Options{Log: &progress}, bins)

	g.Expect(c).To(BeNil())
	g.Expect(err).To(MatchError(And(
		ContainSubstring("kube-scheduler exited early (exit status 3)"),
		ContainSubstring("unknown flag: --bogus"),
	)))
	pids := startedPIDs(progress.String())
	g.Expect(pids).To(HaveKey("kube-apiserver"), "progress:\n%s", progress.String())
	g.Expect(pids).To(HaveLen(5), "progress:\n%s", progress.String())
	for name, pid := range pids {
		err := syscall.Kill(pid, 0)
		g.Expect(errors.Is(err, syscall.ESRCH)).To(BeTrue(), "%s (pid %d) still exists: kill -0 returned %v", name, pid, err)
	}
	g.Expect(os.ReadDir(tmp)).To(BeEmpty(), "the temporary directory is removed")
}

func TestStartTellsHowToBuildMissingBinaries(t *testing.T) {
	t.Setenv("KUBEBUILDER_ASSETS", t.TempDir())
	_, err := Start(t.Context(), Options{})
	NewWithT(t).Expect(err).To(MatchError(And(
		ContainSubstring("etcd"),
		ContainSubstring("missing"),
		ContainSubstring("run `make tools`"),
	)))
}

// startedPIDs reads the processes' ids from Start's progress lines.
func startedPIDs(progress string) map[string]int {
	pids := map[string]int{}
	for _, m := range regexp.MustCompile(`started (\S+) \(pid (\d+)\)`).FindAllStringSubmatch(progress, -1) {
		pids[m[1]], _ = strconv.Atoi(m[2])
	}
	return pids
}
