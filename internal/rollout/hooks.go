package rollout

import "github.com/sluice-dev/sluice/api/v1alpha1"

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

// canaryHook returns the spec's hook of that name, or nil.
func canaryHook(spec v1alpha1.CanarySpec, name string) *v1alpha1.CanaryHook {
	for i := range spec.Hooks {
		if spec.Hooks[i].Name == name {
			return &spec.Hooks[i]
		}
	}
	return nil
}

// canaryHooksOf returns the names of the spec's hooks of one type, in order.
func canaryHooksOf(spec v1alpha1.CanarySpec, typ v1alpha1.CanaryHookType) []string {
	var out []string
	for _, h := range spec.Hooks {
		if h.Type == typ {
			out = append(out, h.Name)
		}
	}
	return out
}
