package sandbox

import (
	"strings"
	"testing"
)

func TestCheckFindsWhatWentWrongBeyondTheOutcome(t *testing.T) {
	canary := func(edit func(*Result)) Result {
		r := Result{
			Release: Release{Kind: KindCanary, App: "podinfo", Image: "v3-bad", Want: RolledBack},
			Got:     RolledBack, Stable: "v2", Weights: []int32{0, 5, 0},
			Served: map[string]int64{"v2": 600},
		}
		if edit != nil {
			edit(&r)
		}
		return r
	}
	blueGreen := func(edit func(*Result)) Result {
		r := Result{
			Release: Release{Kind: KindBlueGreen, App: "checkout", Image: "v2", Want: Promoted},
			Got:     Promoted, Stable: "v1", Colors: []string{"blue", "green"},
			Served: map[string]int64{"v2": 600},
		}
		if edit != nil {
			edit(&r)
		}
		return r
	}
	for _, c := range []struct {
		name string
		res  Result
		want string // "" for no error
	}{
		{"a clean rollback", canary(nil), ""},
		{"an unexpected outcome", canary(func(r *Result) { r.Got = Promoted; r.Served = map[string]int64{"v3-bad": 600} }), "promoted: want rolled back"},
		{"an overshoot", canary(func(r *Result) { r.Overshoots = []string{"the VirtualService sent 25% ..."} }), "sent 25%"},
		{"weight left on the canary", canary(func(r *Result) { r.Weights = []int32{0, 5} }), "not back to 0"},
		{"the bad version still serving", canary(func(r *Result) { r.Served = map[string]int64{"v2": 590, "v3-bad": 10} }), "should all be served by v2"},
		{"no traffic measured", canary(func(r *Result) { r.Served = map[string]int64{} }), "should all be served by v2"},
		{"a clean flip", blueGreen(nil), ""},
		{"a promotion that never flipped", blueGreen(func(r *Result) { r.Colors = []string{"blue"} }), "colors [blue] after a release promoted"},
		{"a rollback that flipped", blueGreen(func(r *Result) {
			r.Want, r.Got, r.Served = RolledBack, RolledBack, map[string]int64{"v1": 600}
		}), "colors [blue green] after a release rolled back"},
		{"a timeout says only that", canary(func(r *Result) { r.Got, r.Weights = TimedOut, nil }), "timed out: want rolled back"},
	} {
		err := c.res.Check()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		if c.want != "" && c.res.OK() {
			t.Errorf("%s: OK despite %v", c.name, err)
		}
	}
}
