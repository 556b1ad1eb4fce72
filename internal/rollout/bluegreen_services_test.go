package rollout

import (
	"testing"

	. "github.com/onsi/gomega"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func TestBlueGreenNewColor(t *testing.T) {
	blue, green := v1alpha1.ColorBlue, v1alpha1.ColorGreen
	for _, tc := range []struct {
		name        string
		st          v1alpha1.BlueGreenStatus
		blue, green WorkloadState
		want        v1alpha1.Color
	}{{
		name: "the color whose Deployment runs the revision being released",
		st:   bgReleasing(0), blue: deployment("v1", 3), green: deployment("v2", 3), want: green,
	}, {
		name: "blue when blue runs it, even while status names blue active",
		st:   bgReleasing(0), blue: deployment("v2", 3), green: deployment("v1", 3), want: blue,
	}, {
		name: "the idle color while neither runs the revision yet",
		st:   bgReleasing(-1), blue: deployment("v1", 3), green: WorkloadState{}, want: green,
	}, {
		name: "the idle color with no release in flight",
		st:   bgStable(), blue: deployment("v1", 3), green: WorkloadState{}, want: green,
	}, {
		name: "the idle one of green active",
		st: func() v1alpha1.BlueGreenStatus {
			st := bgStable()
			st.ActiveColor = green
			return st
		}(), want: blue,
	}, {
		name: "the first version's color before any is active",
		st:   v1alpha1.BlueGreenStatus{}, want: initColor,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(BlueGreenNewColor(tc.st, tc.blue, tc.green)).To(Equal(tc.want))
		})
	}
}

func TestBlueGreenServiceSelectors(t *testing.T) {
	blue, green := v1alpha1.ColorBlue, v1alpha1.ColorGreen
	on := func(c v1alpha1.Color) ServiceState { return ServiceState{Exists: true, Color: c} }
	for _, tc := range []struct {
		name         string
		st           v1alpha1.BlueGreenStatus
		serving      ServiceState
		activeExists bool
		want         BlueGreenSelectors
	}{{
		name: "a new active Service selects the user's pods, and the preview the color the first version does not go to",
		st:   v1alpha1.BlueGreenStatus{}, want: BlueGreenSelectors{Preview: green},
	}, {
		name: "the user's own Service, adopted, keeps its selector until the first flip",
		st:   v1alpha1.BlueGreenStatus{}, serving: ServiceState{Exists: true}, activeExists: true,
		want: BlueGreenSelectors{KeepActive: true, Preview: green},
	}, {
		name: "an existing active Service keeps its color: only a flip changes it",
		st:   bgStable(), serving: on(blue), activeExists: true,
		want: BlueGreenSelectors{Active: blue, KeepActive: true, Preview: green},
	}, {
		name: "the preview selects the other color than the one serving, repairing a flip cut short",
		st:   bgSwitched(0), serving: on(green), activeExists: true,
		want: BlueGreenSelectors{Active: green, KeepActive: true, Preview: blue},
	}, {
		name: "a re-created active Service selects the color the route serves",
		st:   bgStable(), serving: on(blue),
		want: BlueGreenSelectors{Active: blue, Preview: green},
	}, {
		name: "with no color serving, the preview selects the other than the active one in status",
		st: func() v1alpha1.BlueGreenStatus {
			st := bgStable()
			st.ActiveColor = green
			return st
		}(), serving: ServiceState{Exists: true, NotAccepted: "refused"}, activeExists: true,
		want: BlueGreenSelectors{KeepActive: true, Preview: blue},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(BlueGreenServiceSelectors(tc.st, tc.serving, tc.activeExists)).To(Equal(tc.want))
		})
	}
}

func TestServicesFollowRoute(t *testing.T) {
	blue, green := v1alpha1.ColorBlue, v1alpha1.ColorGreen
	for _, tc := range []struct {
		name                    string
		routed, active, preview v1alpha1.Color
		want                    bool
	}{
		{name: "follow a route read back on green", routed: green, active: blue, preview: green, want: true},
		{name: "repair a preview left on the live color", routed: green, active: green, preview: green, want: true},
		{name: "nothing to do when both Services select what they must", routed: green, active: green, preview: blue},
		{name: "never follow a route that sends the traffic to no one color", routed: "", active: blue, preview: green},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(ServicesFollowRoute(tc.routed, tc.active, tc.preview)).To(Equal(tc.want))
		})
	}
}
