//go:build linux

package faults

import (
	"testing"

	"github.com/sluice-dev/sluice/test/framework/sandbox"
)

func TestNoRiseAfterRollbackCatchesAForgottenRollback(t *testing.T) {
	rolledBack := func(w ...int32) sandbox.Result {
		return sandbox.Result{Release: sandbox.Release{Kind: sandbox.KindCanary}, Got: sandbox.RolledBack, Weights: w}
	}
	for name, tc := range map[string]struct {
		res  sandbox.Result
		fail bool
	}{
		"a rollback straight back to 0":            {rolledBack(0, 5, 0), false},
		"a rollback after two steps":               {rolledBack(0, 5, 25, 0), false},
		"a rollback forgotten after a restart":     {rolledBack(0, 5, 0, 5, 0), true},
		"a promotion may go up and down":           {sandbox.Result{Release: sandbox.Release{Kind: sandbox.KindCanary}, Got: sandbox.Promoted, Weights: []int32{0, 5, 0, 100, 0}}, false},
		"a rollback before any traffic is no rise": {rolledBack(0), false},
	} {
		if err := noRiseAfterRollback(tc.res); (err != nil) != tc.fail {
			t.Errorf("%s: got %v, want failure %t", name, err, tc.fail)
		}
	}
}
