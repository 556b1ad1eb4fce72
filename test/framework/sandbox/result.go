package sandbox

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// Outcome is how a release ended.
type Outcome string

// Outcomes of a release.
const (
	Promoted   Outcome = "promoted"
	RolledBack Outcome = "rolled back"
	TimedOut   Outcome = "timed out"
)

// Kinds of release.
const (
	KindCanary    = "Canary"
	KindBlueGreen = "BlueGreen"
)

// Release is one version of a demo app, released by changing the image of
// its Deployment.
type Release struct {
	// Kind is KindCanary or KindBlueGreen.
	Kind string
	// App is the Deployment, Canary or BlueGreen name.
	App string
	// Image is the tag released; Images says how it answers.
	Image string
	// Want is the outcome a working Sluice gives.
	Want Outcome
	// About says what the version does, for people.
	About string
}

// String names the release for people.
func (r Release) String() string {
	return fmt.Sprintf("%s %s/%s %s", r.Kind, Namespace, r.App, r.Image)
}

// Result is what happened to a release.
type Result struct {
	Release
	// Got is how it ended.
	Got Outcome
	// Took is from the image change to the outcome.
	Took time.Duration
	// Reason is the abort reason of a rollback, empty on promotion.
	Reason string
	// FailedMetrics name the metrics whose last result failed.
	FailedMetrics []string
	// Judge is the judge's last decision and its summary, if it ran.
	Judge v1alpha1.JudgeDecision
	// JudgeSummary says what the judge saw.
	JudgeSummary string
	// Steps are the setWeight values of the Canary's steps.
	Steps []int32
	// PassedWeight is the weight of the last setWeight step the release
	// passed (got beyond) before it ended; zero when none.
	PassedWeight int32
	// Weights are the canary weights the VirtualService carried during the
	// release, each change once, in order (Canary).
	Weights []int32
	// Overshoots describe every time the VirtualService carried a weight
	// above the last setWeight step the release had reached, as status
	// said both then and a moment later (Canary). A working Sluice has none.
	Overshoots []string
	// Stable is the image tag that served the live traffic before the
	// release; a rollback must leave it serving.
	Stable string
	// Colors are the colors the live Service selected during the
	// release, each change once, in order (BlueGreen).
	Colors []string
	// Served counts the requests the app's live traffic sent to each image
	// tag in the Settle window after the outcome.
	Served map[string]int64
}

// OK reports whether the release ended as wanted and Check finds nothing
// wrong.
func (r Result) OK() bool { return r.Check() == nil }

// Check lists what went wrong with a release, beyond its outcome: the
// canary weight above the step in force or not back to 0, the live traffic
// afterwards not all served by the version that should serve it (the new
// one after a promotion, the stable one after a rollback), a blue-green
// Service that flipped when it should not have or did not when it should.
func (r Result) Check() error {
	var errs []error
	if r.Got != r.Want {
		errs = append(errs, fmt.Errorf("%s: want %s", r.Got, r.Want))
	}
	if r.Got == TimedOut {
		return errors.Join(errs...)
	}
	switch r.Kind {
	case KindCanary:
		for _, o := range r.Overshoots {
			errs = append(errs, errors.New(o))
		}
		if n := len(r.Weights); n == 0 || r.Weights[n-1] != 0 {
			errs = append(errs, fmt.Errorf("canary weight not back to 0 at the end: %v", r.Weights))
		}
	case KindBlueGreen:
		flipped := len(r.Colors) > 1
		if flipped != (r.Got == Promoted) {
			errs = append(errs, fmt.Errorf("live Service colors %v after a release %s", r.Colors, r.Got))
		}
	}
	serving := r.Stable
	if r.Got == Promoted {
		serving = r.Image
	}
	var total int64
	for _, n := range r.Served {
		total += n
	}
	if total == 0 || r.Served[serving] != total {
		errs = append(errs, fmt.Errorf("live traffic after the outcome should all be served by %s: %s", serving, servedText(r.Served)))
	}
	return errors.Join(errs...)
}

// because explains an outcome in a few words.
func because(res Result) string {
	if res.Got != RolledBack {
		return ""
	}
	return " (" + res.Reason + ")"
}

// servedText describes who served the traffic after an outcome.
func servedText(served map[string]int64) string {
	var total int64
	for _, n := range served {
		total += n
	}
	if total == 0 {
		return "no traffic measured"
	}
	var parts []string
	for _, tag := range slices.Sorted(maps.Keys(served)) {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", tag, 100*float64(served[tag])/float64(total)))
	}
	return "live traffic served by " + strings.Join(parts, ", ")
}
