package rollout

import (
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// findHook returns the run of hook name for rev, or nil.
func findHook(runs []v1alpha1.HookStatus, name, rev string) *v1alpha1.HookStatus {
	for i := range runs {
		if runs[i].Name == name && runs[i].Revision == rev {
			return &runs[i]
		}
	}
	return nil
}

// putHook returns runs with h in place of the run of the same name; the input
// is not modified.
func putHook(runs []v1alpha1.HookStatus, h v1alpha1.HookStatus) []v1alpha1.HookStatus {
	out := make([]v1alpha1.HookStatus, 0, len(runs)+1)
	replaced := false
	for _, r := range runs {
		if r.Name == h.Name {
			out = append(out, *h.DeepCopy())
			replaced = true
			continue
		}
		out = append(out, r)
	}
	if !replaced {
		out = append(out, *h.DeepCopy())
	}
	return out
}

// hookDone reports whether a run has finished, one way or the other.
func hookDone(h v1alpha1.HookStatus) bool {
	return h.Phase == v1alpha1.HookSucceeded || h.Phase == v1alpha1.HookFailed
}

// hookGate is where a set of hooks stands for a revision.
type hookGate struct {
	pending []string // hooks without a finished run, in spec order
	failed  string   // the first hook whose run failed, or ""
}

// gateOf reads the runs of the named hooks for rev.
func gateOf(names []string, runs []v1alpha1.HookStatus, rev string) hookGate {
	var g hookGate
	for _, n := range names {
		h := findHook(runs, n, rev)
		switch {
		case h == nil || !hookDone(*h):
			g.pending = append(g.pending, n)
		case h.Phase == v1alpha1.HookFailed && g.failed == "":
			g.failed = n
		}
	}
	return g
}

// specHook is a hook of a spec of either kind: its name and when it runs.
type specHook struct {
	name, typ string
}

// canaryHooks returns the hooks of a Canary's spec, in order.
func canaryHooks(spec v1alpha1.CanarySpec) []specHook {
	out := make([]specHook, 0, len(spec.Hooks))
	for _, h := range spec.Hooks {
		out = append(out, specHook{name: h.Name, typ: string(h.Type)})
	}
	return out
}

// blueGreenHooks returns the hooks of a BlueGreen's spec, in order.
func blueGreenHooks(spec v1alpha1.BlueGreenSpec) []specHook {
	out := make([]specHook, 0, len(spec.Hooks))
	for _, h := range spec.Hooks {
		out = append(out, specHook{name: h.Name, typ: string(h.Type)})
	}
	return out
}

// hookKnown reports whether the spec names a hook name.
func hookKnown(hooks []specHook, name string) bool {
	for _, h := range hooks {
		if h.name == name {
			return true
		}
	}
	return false
}

// hookNames returns the names of the hooks of one type, in spec order.
func hookNames(hooks []specHook, typ string) []string {
	var out []string
	for _, h := range hooks {
		if h.typ == typ {
			out = append(out, h.name)
		}
	}
	return out
}

// mergeRuns copies the shell's reports of hook runs for rev into runs and
// returns the new runs (the input is not modified) and the reports that
// finished a run in this reconcile, for events. Reports of another revision,
// of a hook the spec no longer names (known false), or of a run started
// before releaseStart (an attempt before a retry) are ignored.
func mergeRuns(runs, reports []v1alpha1.HookStatus, rev string, releaseStart *metav1.Time,
	known func(string) bool) ([]v1alpha1.HookStatus, []v1alpha1.HookStatus) {
	if rev == "" {
		return runs, nil
	}
	var finished []v1alpha1.HookStatus
	for _, h := range reports {
		stale := h.StartedAt != nil && releaseStart != nil && h.StartedAt.Before(releaseStart)
		if h.Revision != rev || stale || !known(h.Name) {
			continue
		}
		old := findHook(runs, h.Name, rev)
		if old != nil && equality.Semantic.DeepEqual(*old, h) {
			continue
		}
		runs = putHook(runs, h)
		if hookDone(h) && (old == nil || !hookDone(*old)) {
			finished = append(finished, h)
		}
	}
	return runs, finished
}

// startRuns returns runs with a Running run, started now, for each of names
// that has no run for rev yet. The input is not modified.
func startRuns(runs []v1alpha1.HookStatus, typ string, names []string, rev string, now metav1.Time) []v1alpha1.HookStatus {
	for _, n := range names {
		if findHook(runs, n, rev) != nil {
			continue
		}
		started := now
		runs = putHook(runs, v1alpha1.HookStatus{Name: n, Type: typ, Revision: rev,
			Phase: v1alpha1.HookRunning, StartedAt: &started})
	}
	return runs
}

// anyRunning reports whether a run for rev is Running.
func anyRunning(runs []v1alpha1.HookStatus, rev string) bool {
	for _, h := range runs {
		if h.Revision == rev && h.Phase == v1alpha1.HookRunning {
			return true
		}
	}
	return false
}
