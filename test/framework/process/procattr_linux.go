package process

import "syscall"

// procAttr makes the kernel kill the child if the process that started it
// dies without stopping it, so that a crashed test or sandbox leaves no
// control plane, Prometheus or proxy behind.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
