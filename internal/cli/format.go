package cli

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// barWidth is how many cells a weight bar has.
const barWidth = 20

// weightBar draws a weight (0-100) as a bar of barWidth cells, rounded down
// except that any weight above zero shows at least one cell: a 1% canary
// must not look like no canary.
func weightBar(weight int32) string {
	w := min(max(weight, 0), 100)
	cells := int(w) * barWidth / 100
	if w > 0 && cells == 0 {
		cells = 1
	}
	return fmt.Sprintf("[%s%s] %d%%", strings.Repeat("#", cells), strings.Repeat(".", barWidth-cells), w)
}

// age says how long ago t was, as kubectl does: the two largest units for
// short spans ("2m30s", "5h10m"), days alone after two days; "<unknown>"
// for a zero time.
func age(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	d := now.Sub(t.Time)
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < 10*time.Minute:
		return trimZero(fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 8*time.Hour:
		return trimZero(fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// trimZero drops a trailing zero second part: "3m0s" reads "3m".
func trimZero(s string) string {
	if strings.HasSuffix(s, "m0s") {
		return strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		return strings.TrimSuffix(s, "0m")
	}
	return s
}

// ago is age with " ago", or "never" for a nil time.
func ago(t *metav1.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	return age(*t, now) + " ago"
}

// short shortens a revision hash for display; empty reads "-".
func short(rev string) string {
	switch {
	case rev == "":
		return "-"
	case len(rev) > 10:
		return rev[:10]
	}
	return rev
}

// threshold describes a passing range: "<= 0.01", ">= 0.99", "0.5..2".
func threshold(lo, hi *float64) string {
	f := func(v float64) string { return fmt.Sprintf("%g", v) }
	switch {
	case lo != nil && hi != nil:
		return f(*lo) + ".." + f(*hi)
	case hi != nil:
		return "<= " + f(*hi)
	case lo != nil:
		return ">= " + f(*lo)
	}
	return "any"
}
