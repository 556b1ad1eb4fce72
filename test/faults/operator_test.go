//go:build linux

package faults

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// buildManager builds the operator's binary from cmd/ into dir.
func buildManager(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module root: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	bin := filepath.Join(dir, "manager")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd: %w\n%s", err, out)
	}
	return bin, nil
}

// operator runs the manager binary as a child process that can be killed and
// started again; each run appends to one log file.
type operator struct {
	bin, kubeconfig, log string
	args                 []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	starts int
	kills  int
}

// start runs the operator when it is not running.
func (o *operator) start() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cmd != nil {
		return nil
	}
	logf, err := os.OpenFile(o.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	args := append([]string{"--kubeconfig=" + o.kubeconfig, "--metrics-bind-address=0",
		"--health-probe-bind-address=0"}, o.args...)
	cmd := exec.Command(o.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return fmt.Errorf("start %s: %w", o.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = logf.Close()
		close(exited)
	}()
	o.cmd, o.exited = cmd, exited
	o.starts++
	return nil
}

// kill sends SIGKILL, as an OOM kill or a node loss would, and waits for
// the process to go.
func (o *operator) kill() error {
	return o.signal(syscall.SIGKILL, true)
}

// stop asks the operator to stop cleanly and waits for it.
func (o *operator) stop() error {
	return o.signal(syscall.SIGTERM, false)
}

func (o *operator) signal(sig syscall.Signal, counts bool) error {
	o.mu.Lock()
	cmd, exited := o.cmd, o.exited
	o.cmd = nil
	if cmd != nil && counts {
		o.kills++
	}
	o.mu.Unlock()
	if cmd == nil {
		return nil
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-exited:
		return nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("the operator did not stop within 30s of %s", sig)
	}
}

func (o *operator) counts() (starts, kills int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.starts, o.kills
}
