// Package deadline stretches the deadlines of Sluice's test suites so that
// they bound hangs instead of measuring speed.
//
// A deadline in a test (an Eventually timeout, a context deadline around a
// wait) is written for a machine doing nothing else. On a loaded 2-core
// laptop, or a CI machine shared with other work, the same wait can take
// several times longer without anything being wrong. Scale multiplies such a
// deadline by a factor that is generous by default and can be raised with
// SLUICE_TEST_DEADLINE_SCALE. It is for deadlines only: never scale a
// duration that is part of what a test asserts (a Consistently window, a
// bound on how late a step may be, a timeout the code under test is given).
//
// It is test support: nothing in the operator imports it.
package deadline

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// EnvVar names the environment variable that sets the factor.
const EnvVar = "SLUICE_TEST_DEADLINE_SCALE"

// DefaultFactor is the factor when EnvVar is unset: a deadline written for
// a quiet machine still holds when the machine runs three times slower.
const DefaultFactor = 3.0

// factor reads EnvVar once; a malformed value stops the suite at once with
// a message, rather than quietly running with the default.
var factor = sync.OnceValue(func() float64 {
	f, err := ParseFactor(os.Getenv(EnvVar))
	if err != nil {
		panic(err)
	}
	return f
})

// Scale returns d stretched by the factor.
func Scale(d time.Duration) time.Duration {
	return time.Duration(float64(d) * factor())
}

// ParseFactor reads a value of EnvVar: empty means DefaultFactor, anything
// else must be a number of at least 1 (a deadline is never shortened).
func ParseFactor(v string) (float64, error) {
	if v == "" {
		return DefaultFactor, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 1 || f > 100 {
		return 0, fmt.Errorf("%s=%q: want a number from 1 to 100, such as 3 or 5", EnvVar, v)
	}
	return f, nil
}
