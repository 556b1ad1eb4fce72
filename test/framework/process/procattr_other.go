//go:build !linux

package process

import "syscall"

// procAttr has nothing to add where the kernel offers no parent-death signal.
func procAttr() *syscall.SysProcAttr {
	return nil
}
