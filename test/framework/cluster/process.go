package cluster

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// stopGrace is how long a process has to exit after SIGTERM before it is
// killed.
const stopGrace = 10 * time.Second

// logTailLines is how many lines of a process's log an error quotes.
const logTailLines = 20

// errPortTaken marks a process that exited because another process took the
// port picked for it in the meantime: the caller may try other ports.
var errPortTaken = errors.New("port taken")

// process is one program of the cluster, writing its output to a log file.
type process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process has exited
	exitErr error         // set before exited is closed
}

// startProcess runs binary with args, its output going to logDir/name.log.
func startProcess(name, binary, logDir string, args ...string) (*process, error) {
	p := &process{name: name, logPath: filepath.Join(logDir, name+".log")}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		return nil, fmt.Errorf("create the log of %s: %w", name, err)
	}
	defer func() { _ = logFile.Close() }() // the child holds its own descriptor
	p.cmd = exec.Command(binary, args...)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	p.cmd.SysProcAttr = procAttr()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, binary, err)
	}
	p.exited = make(chan struct{})
	go func() {
		p.exitErr = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// pid is the process's id.
func (p *process) pid() int {
	return p.cmd.Process.Pid
}

// exitedEarly returns nil while the process runs, else an error that names it
// and quotes the end of its log. The error wraps errPortTaken when the log
// says that a port was in use.
func (p *process) exitedEarly() error {
	select {
	case <-p.exited:
	default:
		return nil
	}
	status := p.exitErr
	if status == nil {
		status = errors.New("exit status 0")
	}
	tail := p.logTail(logTailLines)
	err := fmt.Errorf("%s exited early (%w); the last lines of %s:\n%s", p.name, status, p.logPath, tail)
	if strings.Contains(tail, "address already in use") {
		return fmt.Errorf("%w: %w", errPortTaken, err)
	}
	return err
}

// stop sends SIGTERM, then SIGKILL if the process has not exited within
// stopGrace, and waits for it to exit. It does nothing if the process has
// exited already.
func (p *process) stop() error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal %s: %w", p.name, err)
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(stopGrace):
		p.kill()
		return fmt.Errorf("%s did not stop within %s of SIGTERM; killed", p.name, stopGrace)
	}
}

// kill ends the process at once and waits for it.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// logTail returns the last n lines of the process's log.
func (p *process) logTail(n int) string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freePort asks the kernel for a free loopback port. Another process may take
// it before the child binds it; see errPortTaken.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("unexpected listener address %v", l.Addr())
	}
	return addr.Port, nil
}
