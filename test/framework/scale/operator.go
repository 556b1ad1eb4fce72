package scale

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// buildOperator builds the manager binary from cmd/ into dir, as the
// Dockerfile does (no cgo, trimmed paths).
func buildOperator(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "manager")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd: %w\n%s", err, out)
	}
	return bin, nil
}

// operator is the manager binary running as a child process.
type operator struct {
	bin, kubeconfig, log string
	workers              int
	// logLevel is the operator's --zap-log-level ("error" when empty).
	logLevel   string
	metricsURL string
	cmd        *exec.Cmd
	exited     chan struct{}
	peakMiB    float64
}

// start runs the operator and waits until its metrics endpoint answers.
func (o *operator) start(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(o.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	o.metricsURL = "http://" + addr + "/metrics"
	args := []string{"--kubeconfig=" + o.kubeconfig, "--metrics-bind-address=" + addr,
		"--health-probe-bind-address=0", "--workers=" + strconv.Itoa(o.workers), "--zap-log-level=error"}
	if o.logLevel != "" {
		// A trace needs each line's time to the microsecond.
		args = append(args, "--zap-log-level="+o.logLevel, "--zap-time-encoding=rfc3339nano")
	}
	cmd := exec.Command(o.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
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
	for ctx.Err() == nil {
		if _, err := operatorReconciles(ctx, o.metricsURL); err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("the operator exited at start; see %s", o.log)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return ctx.Err()
}

// stop ends the operator with SIGTERM, as a rolling update does, and
// records its peak RSS first.
func (o *operator) stop() {
	if o.cmd == nil {
		return
	}
	o.sample()
	_ = o.cmd.Process.Signal(os.Interrupt)
	select {
	case <-o.exited:
	case <-time.After(20 * time.Second):
		_ = o.cmd.Process.Kill()
		<-o.exited
	}
	o.cmd = nil
}

// sample reads the process's peak resident memory so far (VmHWM) into
// peakMiB, keeping the highest over restarts.
func (o *operator) sample() {
	if o.cmd == nil {
		return
	}
	status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(o.cmd.Process.Pid), "status"))
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			o.peakMiB = max(o.peakMiB, kb/1024)
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
