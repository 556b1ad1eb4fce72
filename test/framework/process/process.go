package process

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// StopGrace is how long a process has to exit after SIGTERM before Stop
// kills it.
const StopGrace = 10 * time.Second

// logTailLines is how many lines of the log an early exit quotes.
const logTailLines = 20

// ErrPortTaken marks a process that exited because another process took a
// port picked for it in the meantime (FreePort cannot reserve one): the
// caller may try other ports.
var ErrPortTaken = errors.New("port taken")

// Options say what to run.
type Options struct {
	// Name names the process in errors, such as "etcd".
	Name string
	// Binary and Args are the program and its arguments.
	Binary string
	Args   []string
	// LogPath receives the process's standard output and error.
	LogPath string
	// AppendLog keeps what LogPath holds (a server started again after an
	// outage); otherwise the log is truncated.
	AppendLog bool
}

// Process is a running (or exited) child process.
type Process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process has exited
	exitErr error         // set before exited is closed
}

// Start runs the program. It returns once the process is started, not ready:
// waiting for readiness is the caller's, with ExitedEarly to stop waiting
// for a process that is gone.
func Start(o Options) (*Process, error) {
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if o.AppendLog {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	logFile, err := os.OpenFile(o.LogPath, flags, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create the log of %s: %w", o.Name, err)
	}
	defer func() { _ = logFile.Close() }() // the child holds its own descriptor
	p := &Process{name: o.Name, logPath: o.LogPath, cmd: exec.Command(o.Binary, o.Args...)}
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	p.cmd.SysProcAttr = procAttr()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", o.Name, o.Binary, err)
	}
	p.exited = make(chan struct{})
	go func() {
		p.exitErr = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// Name is the process's name in errors.
func (p *Process) Name() string { return p.name }

// Pid is the process's id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// LogPath is the file the process writes to.
func (p *Process) LogPath() string { return p.logPath }

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// ExitedEarly returns nil while the process runs, else an error that names
// it, gives its exit status and quotes the end of its log. The error wraps
// ErrPortTaken when the log says that an address was in use.
func (p *Process) ExitedEarly() error {
	select {
	case <-p.exited:
	default:
		return nil
	}
	status := p.exitErr
	if status == nil {
		status = errors.New("exit status 0")
	}
	tail := LogTail(p.logPath, logTailLines)
	err := fmt.Errorf("%s exited early (%w); the last lines of %s:\n%s", p.name, status, p.logPath, tail)
	if strings.Contains(tail, "address already in use") {
		return fmt.Errorf("%w: %w", ErrPortTaken, err)
	}
	return err
}

// Stop sends SIGTERM, then SIGKILL if the process has not exited within
// StopGrace, and waits for it to exit. It does nothing to a process that has
// exited already.
func (p *Process) Stop() error {
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
	case <-time.After(StopGrace):
		p.Kill()
		return fmt.Errorf("%s did not stop within %s of SIGTERM; killed", p.name, StopGrace)
	}
}

// Kill ends the process at once and waits for it.
func (p *Process) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// LogTail returns the last n lines of the file at path, or why there are
// none.
func LogTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// FreePort asks the kernel for a free loopback port. Another process may
// take it before the child binds it; see ErrPortTaken.
func FreePort() (int, error) {
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
