//go:build linux

package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
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

// Leader election in the suite: the Lease's namespace and name (the name is
// the one cmd/main.go sets), and short timings, so that a replica takes over
// a few seconds after the leader died instead of the defaults' 15-20.
const (
	leaseNamespace     = "sluice-system"
	leaseName          = "sluice.rollouts.sluice.dev"
	leaseDuration      = 4 * time.Second
	leaseRenewDeadline = 3 * time.Second
	leaseRetryPeriod   = time.Second
)

// electionArgs are the flags of a replica that elects a leader.
func electionArgs() []string {
	return []string{"--leader-elect", "--leader-elect-namespace=" + leaseNamespace,
		"--leader-elect-lease-duration=" + leaseDuration.String(),
		"--leader-elect-renew-deadline=" + leaseRenewDeadline.String(),
		"--leader-elect-retry-period=" + leaseRetryPeriod.String()}
}

// replica is one operator process.
type replica struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	metrics string // host:port of its metrics endpoint
	killed  bool   // set before the suite's SIGKILL or SIGTERM

	last metricsSample // the last scrape, kept when the process dies
}

// operator runs the manager binary as child processes that can be killed
// and started again, like a Deployment's pods restarted by the kubelet:
// one replica, or two that elect a leader once elect is called. Each run
// appends to one log file.
type operator struct {
	bin, kubeconfig, log string
	args                 []string

	mu       sync.Mutex
	replicas []*replica
	want     int  // replicas to run
	elect    bool // run with leader election
	starts   int
	kills    int
	exits    int           // processes that exited without being killed
	dead     metricsSample // counters of processes gone
}

// start starts every replica that is missing.
func (o *operator) start() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.want = max(o.want, 1)
	for len(o.replicas) < o.want {
		r, err := o.launch()
		if err != nil {
			return err
		}
		o.replicas = append(o.replicas, r)
		o.starts++
	}
	return nil
}

// launch starts one process; o.mu is held.
func (o *operator) launch() (*replica, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(o.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	r := &replica{metrics: fmt.Sprintf("127.0.0.1:%d", port), exited: make(chan struct{})}
	args := append([]string{"--kubeconfig=" + o.kubeconfig, "--metrics-bind-address=" + r.metrics,
		"--health-probe-bind-address=0"}, o.args...)
	if o.elect {
		args = append(args, electionArgs()...)
	}
	r.cmd = exec.Command(o.bin, args...)
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, fmt.Errorf("start %s: %w", o.bin, err)
	}
	go func() {
		_ = r.cmd.Wait()
		_ = logf.Close()
		o.gone(r)
		close(r.exited)
	}()
	return r, nil
}

// gone forgets a process that exited, keeping its counters; one the suite
// did not kill (a lost Lease makes the manager exit) counts as an exit, and
// the next start replaces it.
func (o *operator) gone(r *replica) {
	o.mu.Lock()
	defer o.mu.Unlock()
	i := indexOf(o.replicas, r)
	if i < 0 {
		return
	}
	o.replicas = append(o.replicas[:i], o.replicas[i+1:]...)
	o.dead = o.dead.plus(r.last)
	if !r.killed {
		o.exits++
	}
}

func indexOf(rs []*replica, r *replica) int {
	for i, x := range rs {
		if x == r {
			return i
		}
	}
	return -1
}

// electLeaders switches to two replicas with leader election: the running
// ones are stopped (not counted as kills), and start runs the new ones.
func (o *operator) electLeaders() error {
	o.mu.Lock()
	o.want, o.elect = 2, true
	o.mu.Unlock()
	return o.stop()
}

// runAlone switches back to one replica without leader election.
func (o *operator) runAlone() error {
	o.mu.Lock()
	o.want, o.elect = 1, false
	o.mu.Unlock()
	if err := o.stop(); err != nil {
		return err
	}
	return o.start()
}

// kill sends SIGKILL, as an OOM kill or a node loss would, to the leader
// (the only replica without election; a random one when no leader is
// known), and waits for the process to go. It returns whether it killed
// the leader.
func (o *operator) kill(rng *rand.Rand) (bool, error) {
	o.scrape()
	o.mu.Lock()
	if len(o.replicas) == 0 {
		o.mu.Unlock()
		return false, nil
	}
	victim, leader := o.replicas[rng.IntN(len(o.replicas))], false
	for _, r := range o.replicas {
		if r.last.leader || !o.elect {
			victim, leader = r, true
		}
	}
	victim.killed = true
	o.kills++
	o.mu.Unlock()
	return leader, signal(victim, syscall.SIGKILL)
}

// stop asks every replica to stop cleanly and waits for them.
func (o *operator) stop() error {
	o.scrape()
	o.mu.Lock()
	rs := append([]*replica(nil), o.replicas...)
	for _, r := range rs {
		r.killed = true
	}
	o.mu.Unlock()
	var errs []error
	for _, r := range rs {
		errs = append(errs, signal(r, syscall.SIGTERM))
	}
	return errors.Join(errs...)
}

func signal(r *replica, sig syscall.Signal) error {
	if err := r.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-r.exited:
		return nil
	case <-time.After(30 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exited
		return fmt.Errorf("the operator did not stop within 30s of %s", sig)
	}
}

func (o *operator) counts() (starts, kills int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.starts, o.kills
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
