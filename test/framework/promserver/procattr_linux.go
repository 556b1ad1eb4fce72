package promserver

import "syscall"

// procAttr makes the kernel kill the server if the process that started it
// dies without calling Stop, so that a crashed test leaves nothing behind.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
