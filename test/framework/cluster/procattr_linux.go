package cluster

import "syscall"

// procAttr makes the kernel kill a child of the cluster if the process that
// started it dies without calling Stop, so that a crashed test or sandbox
// leaves no control plane behind.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
