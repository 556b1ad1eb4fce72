package rollout

import (
	"fmt"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// routeHealth is the health of a BlueGreen whose traffic goes through a
// route (spec.trafficRouting) that cannot be read back: one the router
// cannot manage is Stalled (the spec or the route must change); one whose
// implementation has not accepted, or refused, the weights holds the
// release with the implementation's words. Why ahead of everything else:
// with no color read back nothing moves (no flip counts, no post-promotion
// clock starts, the idle color is not scaled down), and the reason is the
// route, not the release. A rolled-back release keeps saying so first.
func (m *blueGreenMachine) routeHealth() (health, bool) {
	svc := m.obs.ActiveService
	switch {
	case svc.Unmanageable != "":
		return health{stalled: true, reason: v1alpha1.ReasonRouteUnmanageable, message: svc.Unmanageable}, true
	case svc.NotAccepted == "":
		return health{}, false
	case m.st.AbortedAt != nil && m.inFlight():
		h := health{stalled: true, reason: abortReason(&m.st.ReleaseStatus), message: m.abortMessage()}
		h.message += "; the route is not read back: " + svc.NotAccepted
		return h, true
	}
	want, _ := m.wantedService()
	return health{reconciling: true, reason: v1alpha1.ReasonRouteNotAccepted, message: fmt.Sprintf(
		"holding until the route's implementation accepts it sending all traffic to %s: %s", want, svc.NotAccepted)}, true
}
