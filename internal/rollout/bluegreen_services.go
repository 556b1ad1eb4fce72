package rollout

import "github.com/sluice-dev/sluice/api/v1alpha1"

// BlueGreenNewColor is the color that runs the revision being released, the
// one a check compares with the other color: the color whose Deployment runs
// status.previewRevision (blue first, should both), else the idle one (the
// one the first version does not go to, before any is active). Why the
// Deployments first: the release's color is known by what it runs, even
// where status.activeColor already names it (a promotion that succeeded).
func BlueGreenNewColor(st v1alpha1.BlueGreenStatus, blue, green WorkloadState) v1alpha1.Color {
	switch st.PreviewRevision {
	case "":
	case blue.Revision:
		return v1alpha1.ColorBlue
	case green.Revision:
		return v1alpha1.ColorGreen
	}
	if st.ActiveColor == "" {
		return initColor
	}
	return st.ActiveColor.Other()
}

// BlueGreenSelectors is what a BlueGreen's active and preview Services must
// select, as BlueGreenServiceSelectors decides it.
type BlueGreenSelectors struct {
	// Active is the color the active Service selects when it is created; ""
	// selects the user's pods (the target's matchLabels), which serve until
	// the first color does.
	Active v1alpha1.Color
	// KeepActive keeps the selector of the active Service in place: only a
	// flip (SwitchService) changes what it selects.
	KeepActive bool
	// Preview is the color the preview Service selects.
	Preview v1alpha1.Color
}

// BlueGreenServiceSelectors decides what the active and preview Services
// select on every reconcile, not only at a flip. serving is what serves now
// (the active Service's color, or the route's with trafficRouting);
// activeExists says whether the active Service exists. The active Service
// keeps what it selects: only a flip, which NextBlueGreen decides, changes
// it; an existing one that no controller owns (the user's own) is adopted
// with its selector, so onboarding opens no gap, and a new one selects the
// serving color, else the user's pods. The preview Service selects the other
// color than the one serving (than the active one in status while none
// serves; than the first version's before any is active): a flip cut short
// between its two writes, which left both on the live color, is repaired
// before a next release's tests run against the preview.
func BlueGreenServiceSelectors(st v1alpha1.BlueGreenStatus, serving ServiceState, activeExists bool) BlueGreenSelectors {
	live := serving.Color
	sel := BlueGreenSelectors{Active: live, KeepActive: activeExists}
	if live == "" {
		live = st.ActiveColor
	}
	if live == "" {
		live = initColor
	}
	sel.Preview = live.Other()
	return sel
}

// ServicesFollowRoute reports whether a BlueGreen with trafficRouting must
// point its active Service at routed, the color the route was read back
// sending all the traffic to, and its preview Service at the other: so
// that in-cluster clients that call the active Service without the mesh
// reach the same color as the route. Not when the route sends the traffic
// to no one color (split, refused, not read back: a route its
// implementation refused has moved no traffic, and neither should the
// Services), nor when both Services already select what they must.
func ServicesFollowRoute(routed, active, preview v1alpha1.Color) bool {
	return routed != "" && (active != routed || preview != routed.Other())
}
