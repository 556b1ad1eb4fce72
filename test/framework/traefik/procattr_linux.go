package traefik

import "syscall"

// procAttr makes the kernel kill Traefik if the process that started it
// dies without calling Stop, so that a crashed test or sandbox leaves no
// proxy behind.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
