package apiserver

import (
	"sync"
	"time"
)

// Changes records every distinct value a poll reads, in order, until
// stopped: the weights a VirtualService carried, the colors a Service
// selected. Tests assert the whole sequence, so a transient wrong value
// between two assertions is still caught.
type Changes[T comparable] struct {
	mu     sync.Mutex
	values []T
	stop   chan struct{}
	done   chan struct{}
}

// RecordChanges polls read every interval; a read that reports false (the
// object is missing) records nothing.
func RecordChanges[T comparable](interval time.Duration, read func() (T, bool)) *Changes[T] {
	c := &Changes[T]{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if v, ok := read(); ok {
				c.mu.Lock()
				if n := len(c.values); n == 0 || c.values[n-1] != v {
					c.values = append(c.values, v)
				}
				c.mu.Unlock()
			}
			select {
			case <-c.stop:
				return
			case <-t.C:
			}
		}
	}()
	return c
}

// Stop ends the recording and returns the values seen, in order.
func (c *Changes[T]) Stop() []T {
	close(c.stop)
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]T(nil), c.values...)
}
