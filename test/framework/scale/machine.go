package scale

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// loadSampler records the machine's 1-minute load average every few
// seconds: the benchmark shares the machine with whatever else runs, and
// its latencies mean little without it.
type loadSampler struct {
	mu      sync.Mutex
	samples []float64
}

func (l *loadSampler) run(ctx context.Context, every time.Duration) {
	for {
		if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
			if f, err := strconv.ParseFloat(strings.Fields(string(raw))[0], 64); err == nil {
				l.mu.Lock()
				l.samples = append(l.samples, f)
				l.mu.Unlock()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// mark returns how many samples were taken so far, to cut a phase out later.
func (l *loadSampler) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.samples)
}

// since describes the samples taken from mark on: "min–max (mean m)".
func (l *loadSampler) since(mark int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.samples[min(mark, len(l.samples)):]
	if len(s) == 0 {
		return "–"
	}
	lo, hi, sum := s[0], s[0], 0.0
	for _, v := range s {
		lo, hi, sum = min(lo, v), max(hi, v), sum+v
	}
	return fmt.Sprintf("%.1f–%.1f (mean %.1f)", lo, hi, sum/float64(len(s)))
}

// CPU is CPU seconds by process name.
type CPU map[string]float64

// childrenCPU reads the CPU time used so far by this process's children (the
// control plane's processes and the operator), summed by process name.
func childrenCPU() CPU {
	out := CPU{}
	self := strconv.Itoa(os.Getpid())
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime(14) stime(15): comm may hold
		// spaces, so split after its closing parenthesis.
		s := string(raw)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		f := strings.Fields(s[closing+1:])
		if len(f) < 13 || f[1] != self {
			continue
		}
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		out[s[open+1:closing]] += (ut + st) / 100 // USER_HZ is 100 on Linux
	}
	return out
}

// Minus is c less before.
func (c CPU) Minus(before CPU) CPU {
	out := CPU{}
	for k, v := range c {
		if d := v - before[k]; d > 0.05 {
			out[k] = d
		}
	}
	return out
}

// String lists the CPU seconds, largest first.
func (c CPU) String() string {
	if len(c) == 0 {
		return "–"
	}
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return c[keys[i]] > c[keys[j]] })
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.1f", k, c[k]))
	}
	return strings.Join(parts, ", ")
}
